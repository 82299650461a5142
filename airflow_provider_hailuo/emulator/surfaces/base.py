"""What a surface is: a name (its URL prefix) and the routes it adds (see surfaces/__init__.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from ..app import EmulatorApp

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    #: The full path, prefix included (e.g. ``/minimax/v1/video_generation``).
    path: str
    #: ``<vendor>:<endpoint>``: the middleware logs requests by it (vendor, endpoint).
    name: str
    handler: Handler


@dataclass(frozen=True)
class Surface:
    name: str
    routes: Callable[[EmulatorApp], Iterable[Route]]

    @property
    def prefix(self) -> str:
        return f"/{self.name}"


def v1_routes(vendor: str, endpoints: Iterable[tuple[str, str, str]]) -> Callable[[EmulatorApp], list[Route]]:
    """Routes served by the shared v1 handlers (vendor_api.py): (method, path under the prefix, endpoint)."""

    def routes(app: EmulatorApp) -> list[Route]:
        return [Route(method, f"/{vendor}{path}", f"{vendor}:{endpoint}", app._vendor_handler(vendor, endpoint))
                for method, path, endpoint in endpoints]

    return routes
