"""The emulator application's shared core: the state, the key, the renderer, and the calls each
part (vendor surfaces, faults, CDN, control API) offers the others.

``EmulatorApp`` (app.py) is made of the parts in faults.py, cdn.py, control.py and vendor_api.py;
each derives from :class:`AppCore`, which declares what the others provide.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiohttp import web

from .media import VideoCache
from .render import RenderSpec
from .signing import UrlSigner
from .state import EmulatorState, Fault, Task
from .v2_store import V2Task
from .web_io import VideoSource, ctx, redact_body


class AppCore:
    def __init__(self, state: EmulatorState, api_key: str, cache: VideoCache) -> None:
        if not api_key:
            raise ValueError("the emulator needs a non-empty API key")
        self.state = state
        self.api_key = api_key
        self.cache = cache
        self.signer = UrlSigner()
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hailuo-emulator-render")
        self._renders: dict[RenderSpec, asyncio.Future[Path]] = {}
        #: The MiniMax v2 surface (minimax_v2.MiniMaxV2), set by EmulatorApp.
        self.v2: Any = None

    def _key_matches(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode(), self.api_key.encode())

    async def _read_json(self, request: web.Request) -> tuple[Any, str | None, int]:
        """(parsed body, error message, HTTP status for the error)."""
        limit = self.state.config_snapshot()["max_body_bytes"]
        if request.content_length is not None and request.content_length > limit:
            return None, f"request body of {request.content_length} bytes exceeds {limit} bytes", 413
        data = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > limit:
                return None, f"request body exceeds {limit} bytes", 413
        if not data.strip():
            return None, "request body is empty, a JSON object is required", 400
        try:
            body = json.loads(bytes(data))
        except (UnicodeDecodeError, ValueError):
            return None, "request body is not valid JSON", 400
        self.state.update_entry(ctx().entry, body=redact_body(body))
        if not isinstance(body, dict):
            return body, "request body must be a JSON object", 400
        return body, None, 200

    def _origin(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    def _request_id(self) -> str:
        return str(uuid.uuid4())

    # -- provided by the parts (see their modules) ------------------------------------------------
    def _authorized(self, vendor: str | None, header: str | None) -> bool:
        raise NotImplementedError  # vendor_api.VendorApi

    def _vendor_error(self, vendor: str, endpoint: str, code: int, message: str | None = None, *,
                      http_status: int | None = None, task_id: str | None = None) -> web.Response:
        raise NotImplementedError  # vendor_api.VendorApi

    async def _pre_fault(self, request: web.Request, vendor: str | None,
                         endpoint: str) -> tuple[Fault | None, web.StreamResponse | None]:
        raise NotImplementedError  # faults.Faults

    def _close_connection(self, request: web.Request, *, reset: bool) -> web.Response:
        raise NotImplementedError  # faults.Faults

    async def _send_truncated(self, request: web.Request, response: web.Response) -> web.StreamResponse:
        raise NotImplementedError  # faults.Faults

    def _oss_error(self, request: web.Request, code: str, status: int, expires: str | None = None) -> web.Response:
        raise NotImplementedError  # cdn.Cdn

    def _signed_url(self, request: web.Request, task: Task, prefix: str) -> str:
        raise NotImplementedError  # cdn.Cdn

    def _prerender(self, task: Task) -> None:
        raise NotImplementedError  # cdn.Cdn

    async def _serve_video(self, request: web.Request, task: Task | V2Task, fault: Fault | None, *,
                           vendor_errors: bool, source: VideoSource | None = None,
                           extra_headers: dict[str, str] | None = None) -> web.StreamResponse:
        raise NotImplementedError  # cdn.Cdn
