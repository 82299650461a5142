"""The control API (``/_emulator/...``): configuration, faults, the request log, tasks, reset."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .config import ConfigError
from .core import AppCore
from .state import VENDORS, make_fault
from .web_io import json_response

#: (method, path, handler name): every control route; all but health and the index need the key.
CONTROL_ROUTES = (
    ("GET", "/_emulator/config", "_get_config"),
    ("POST", "/_emulator/config", "_post_config"),
    ("GET", "/_emulator/faults", "_get_faults"),
    ("POST", "/_emulator/faults", "_post_fault"),
    ("DELETE", "/_emulator/faults", "_delete_faults"),
    ("GET", "/_emulator/requests", "_get_requests"),
    ("GET", "/_emulator/tasks", "_get_tasks"),
    ("POST", "/_emulator/reset", "_post_reset"),
)


class ControlApi(AppCore):
    def add_control_routes(self, app: web.Application) -> None:
        for method, path, name in CONTROL_ROUTES:
            app.router.add_route(method, path, self._control(getattr(self, name)))
        app.router.add_get("/_emulator/health", self._health)
        app.router.add_get("/", self._index)

    def _control(
        self, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            if not self._authorized(None, request.headers.get("Authorization")):
                return json_response(
                    {"error": {"code": "unauthorized", "message": "the control endpoints need the emulator API key"}},
                    status=401,
                )
            try:
                return await handler(request)
            except ConfigError as exc:
                return json_response({"error": {"code": "invalid_parameter", "message": str(exc)}}, status=400)

        return wrapped

    async def _control_body(self, request: web.Request) -> dict[str, Any]:
        body, error, status = await self._read_json(request)
        if error is not None:
            raise ConfigError(error)
        assert isinstance(body, dict)
        return body

    async def _get_config(self, request: web.Request) -> web.StreamResponse:
        return json_response({"config": self.state.config_snapshot()})

    async def _post_config(self, request: web.Request) -> web.StreamResponse:
        body = await self._control_body(request)
        return json_response({"config": self.state.configure(body)})

    async def _get_faults(self, request: web.Request) -> web.StreamResponse:
        return json_response({"faults": self.state.fault_list()})

    async def _post_fault(self, request: web.Request) -> web.StreamResponse:
        body = await self._control_body(request)
        allowed = {"endpoint", "kind", "times", "vendor", "status", "code", "delay", "seconds"}
        unknown = set(body) - allowed
        if unknown:
            raise ConfigError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        if "endpoint" not in body or "kind" not in body:
            raise ConfigError("a fault needs 'endpoint' and 'kind'")
        fault = self.state.add_fault(make_fault(**body))
        return json_response({"fault": fault.as_dict()})

    async def _delete_faults(self, request: web.Request) -> web.StreamResponse:
        self.state.clear_faults()
        return json_response({"faults": []})

    async def _get_requests(self, request: web.Request) -> web.StreamResponse:
        entries = self.state.requests(request.query.get("vendor") or None, request.query.get("endpoint") or None)
        return json_response({"requests": entries})

    async def _get_tasks(self, request: web.Request) -> web.StreamResponse:
        lifetime = self.state.config_snapshot()["v2_task_lifetime"]
        return json_response(
            {
                "tasks": self.state.task_summaries(request.query.get("vendor") or None),
                "v2_in_flight": self.state.v2.in_flight_counts(lifetime),
            }
        )

    async def _post_reset(self, request: web.Request) -> web.StreamResponse:
        self.state.reset()
        return json_response({"reset": True, "config": self.state.config_snapshot()})

    async def _health(self, request: web.Request) -> web.StreamResponse:
        return json_response({"status": "ok"})

    async def _index(self, request: web.Request) -> web.StreamResponse:
        origin = self._origin(request)
        return json_response(
            {
                "service": "hailuo-emulator",
                "vendors": {vendor: f"{origin}/{vendor}" for vendor in VENDORS},
                "control": f"{origin}/_emulator/",
            }
        )
