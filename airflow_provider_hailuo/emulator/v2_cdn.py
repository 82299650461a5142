"""The v2 video CDN: its own listening port, so ``content.url`` is on another origin than the API.

MiniMax serves H3 videos from ``video-product.cdn.minimax.io``, not the API host. The project may
only use 127.0.0.1, so the emulator gives the CDN a second port on the same address: a client that
builds download URLs from its base URL, or sends its API key along, is caught. URLs are signed
OSS-style (``Expires``, ``OSSAccessKeyId``, ``Signature``) and expire after ``download_url_ttl``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from .media import synthetic_video_chunks
from .v2_store import V2Task
from .v2_video import H3VideoCache

if TYPE_CHECKING:
    from .app import EmulatorApp, VideoSource

V2_FILENAME = "output.mp4"
CHUNK_SIZE = 256 * 1024


class V2Signer:
    def __init__(self) -> None:
        self.access_key_id = "LTAI5tH3" + secrets.token_hex(6).upper()
        self._secret = secrets.token_bytes(32)

    def _signature(self, path: str, expires: int) -> str:
        digest = hmac.new(self._secret, f"GET\n\n\n{expires}\n{path}".encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()

    @staticmethod
    def object_path(task: V2Task) -> str:
        day = datetime.fromtimestamp(task.finished_at, tz=timezone.utc).strftime("%Y-%m-%d")
        return f"/inference_output/video/{day}/{task.token}/{V2_FILENAME}"

    def sign(self, origin: str, path: str, ttl: float) -> str:
        expires = int(time.time() + ttl)
        signature = self._signature(path, expires)
        from urllib.parse import quote

        return (
            f"{origin}{path}?Expires={expires}&OSSAccessKeyId={self.access_key_id}"
            f"&Signature={quote(signature, safe='')}"
        )

    def check(self, path: str, query: dict[str, str]) -> str | None:
        """None when the query signs ``path`` and has not expired, else the OSS error code."""
        expires_text, signature = query.get("Expires", ""), query.get("Signature", "")
        if not expires_text or not signature or not query.get("OSSAccessKeyId"):
            return "AccessDenied"
        if query["OSSAccessKeyId"] != self.access_key_id:
            return "InvalidAccessKeyId"
        try:
            expires = int(expires_text)
        except ValueError:
            return "AccessDenied"
        if not hmac.compare_digest(self._signature(path, expires).encode(), signature.encode()):
            return "SignatureDoesNotMatch"
        if expires < time.time():
            return "Expired"
        return None


class V2Cdn:
    """Serves the H3 MP4s (rendered on first need, cached) on the CDN port."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.signer = V2Signer()
        self.videos = H3VideoCache(app.cache.directory)
        self.port = 0  # set by the server once the CDN socket listens
        self._renders: dict[tuple[int, int, int], asyncio.Future[Path]] = {}

    def origin(self, request: web.Request) -> str:
        host = request.url.host or "127.0.0.1"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"{request.scheme}://{host}:{self.port}"

    def url(self, request: web.Request, task: V2Task) -> str:
        ttl = self.app.state.config_snapshot()["download_url_ttl"]
        return self.signer.sign(self.origin(request), self.signer.object_path(task), ttl)

    def build(self) -> web.Application:
        cdn = web.Application(middlewares=[self.app._middleware])
        cdn.router.add_get(
            "/inference_output/video/{day}/{token}/" + V2_FILENAME, self._download, name="cdn:v2_download"
        )
        return cdn

    def prerender(self, task: V2Task) -> None:
        if task.synthetic_bytes is not None or task.modality != "video":
            return
        key = (task.width, task.height, task.duration)
        if key not in self._renders and self.videos.cached(*key) is None:
            self._render(key).add_done_callback(lambda f: f.exception() if not f.cancelled() else None)

    def _render(self, key: tuple[int, int, int]) -> asyncio.Future[Path]:
        future = self._renders.get(key)
        if future is None:
            future = asyncio.get_running_loop().run_in_executor(self.app.executor, self.videos.get, *key)
            self._renders[key] = future
            future.add_done_callback(lambda _f: self._renders.pop(key, None))
        return future

    async def _source(self, task: V2Task) -> VideoSource:
        from .app import VideoSource, _file_chunks

        size = task.synthetic_bytes
        if size is not None:

            def chunks(start: int, end: int, size: int = size) -> Iterator[bytes]:
                return synthetic_video_chunks(size, CHUNK_SIZE, start=start, end=end)

            return VideoSource(size, chunks, f'"synthetic-{size}"')
        key = (task.width, task.height, task.duration)
        path = self.videos.cached(*key)
        if path is None:
            path = await asyncio.shield(self._render(key))
        length = path.stat().st_size
        return VideoSource(length, _file_chunks(path), f'"h3-{key[0]}x{key[1]}-{key[2]}s-{length}"')

    async def _download(self, request: web.Request) -> web.StreamResponse:
        from .app import _ctx

        problem = self.signer.check(
            request.path, {key: request.query.get(key, "") for key in ("Expires", "OSSAccessKeyId", "Signature")}
        )
        if problem is not None:
            return self.app._oss_error(request, problem, 403, expires=request.query.get("Expires") or None)
        task = self.app.state.v2.by_token(request.match_info["token"])
        lifetime = self.app.state.config_snapshot()["v2_task_lifetime"]
        if task is None or task.modality != "video" or task.status(lifetime) != "succeeded":
            return self.app._oss_error(request, "NoSuchKey", 404)
        self.app.state.update_entry(_ctx().entry, vendor="minimax", task_id=task.task_id)
        fault, early = await self.app._pre_fault(request, "minimax", "v2_download")
        if early is not None:
            return early
        try:
            source = await self._source(task)
        except Exception:  # noqa: BLE001 - a broken render is a 500 from the CDN, logged
            import logging

            logging.getLogger("airflow_provider_hailuo.emulator").exception("rendering task %s failed", task.task_id)
            return self.app._oss_error(request, "InternalError", 500)
        headers = {"Content-Disposition": f'attachment; filename="{V2_FILENAME}"'}
        return await self.app._serve_video(
            request, task, fault, vendor_errors=False, source=source, extra_headers=headers
        )
