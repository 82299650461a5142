"""The aiohttp application, assembled from its surfaces: the vendor APIs (surfaces/), the
signed-URL CDN (cdn.py), fault injection (faults.py) and the control API (control.py)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .cdn import Cdn
from .control import ControlApi
from .faults import Faults
from .signing import BACKUP_PREFIX, PRIMARY_PREFIX
from .state import VENDORS
from .surfaces import SURFACES
from .vendor_api import VendorApi
from .web_io import CURRENT, RequestContext, VideoSource, json_response, redact_headers
from .web_io import ctx as _ctx  # noqa: F401  (the v2 modules import these names from here)
from .web_io import file_chunks as _file_chunks  # noqa: F401

if TYPE_CHECKING:
    from .media import VideoCache
    from .state import EmulatorState

__all__ = ["EmulatorApp", "VideoSource", "json_response"]


class EmulatorApp(VendorApi, Faults, Cdn, ControlApi):
    """The emulator: each surface in ``surfaces.SURFACES`` adds its routes under its prefix; the
    MiniMax v2 surface (minimax_v2.py) registers its own, and runs its CDN on a port of its own."""

    def __init__(self, state: EmulatorState, api_key: str, cache: VideoCache) -> None:
        super().__init__(state, api_key, cache)
        from .minimax_v2 import MiniMaxV2  # the v2 surface builds on this module

        self.v2 = MiniMaxV2(self)

    # ----------------------------------------------------------------------------------------
    # application
    # ----------------------------------------------------------------------------------------
    def build(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024**3)
        app.on_response_prepare.append(self._add_trace_id)
        app.on_cleanup.append(self._cleanup)
        for surface in SURFACES:
            for route in surface.routes(self):
                if route.method == "GET":  # GET routes answer HEAD too
                    app.router.add_get(route.path, route.handler, name=route.name)
                else:
                    app.router.add_route(route.method, route.path, route.handler, name=route.name)
        self.v2.register(app)
        app.router.add_get(PRIMARY_PREFIX + "/{key:.+}", self._download_handler(PRIMARY_PREFIX), name="cdn:download")
        app.router.add_get(
            BACKUP_PREFIX + "/{key:.+}", self._download_handler(BACKUP_PREFIX), name="cdn:backup_download"
        )
        self.add_control_routes(app)
        return app

    async def _cleanup(self, app: web.Application) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def _add_trace_id(self, request: web.Request, response: web.StreamResponse) -> None:
        context = CURRENT.get()
        response.headers.setdefault("Trace-Id", context.trace_id if context else secrets.token_hex(16))

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        trace_id = secrets.token_hex(16)
        route_name = request.match_info.route.name or ""
        scope, _, endpoint = route_name.partition(":")
        vendor: str | None = None
        if scope in VENDORS:
            vendor = scope
        elif scope != "cdn":
            if request.path.startswith("/_emulator/") or request.path == "/":
                endpoint = "control"
            else:
                endpoint = "unknown"
                first = request.path.strip("/").split("/", 1)[0]
                vendor = first if first in VENDORS else None
        entry: dict[str, Any] = {
            "time": time.time(),
            "method": request.method,
            "path": request.path,
            "vendor": vendor,
            "endpoint": endpoint,
            "query": dict(request.query),
            "body": None,
            "headers": redact_headers(request.headers),
            "status": None,
            "task_id": None,
            "trace_id": trace_id,
        }
        context = RequestContext(trace_id, entry)
        CURRENT.set(context)
        if request.path not in ("/_emulator/health", "/"):
            self.state.log_request(entry)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            self.state.update_entry(entry, status=exc.status)
            if exc.status in (404, 405):
                return json_response(
                    {
                        "error": {
                            "code": "not_found" if exc.status == 404 else "method_not_allowed",
                            "message": f"{request.method} {request.path}: {exc.reason}",
                        }
                    },
                    status=exc.status,
                    headers={"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None,
                )
            raise
        if entry["status"] is None and not context.aborted:
            self.state.update_entry(entry, status=response.status)
        return response
