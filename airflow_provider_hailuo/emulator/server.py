"""``EmulatorServer``: the emulator in a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import threading
from types import TracebackType
from typing import Any

from aiohttp import web

from .app import EmulatorApp
from .media import VideoCache
from .state import VENDORS, EmulatorState, make_fault

DEFAULT_API_KEY = "sk-emulator"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class EmulatorServer:
    """One HTTP server speaking the MiniMax, DMXAPI and Modelverse video APIs.

    ``options`` are the behaviour controls (``generation_seconds``, ``final_status``,
    ``fail_reason``, ``moderation``, ``rate_limit``, ``insufficient_balance``,
    ``download_url_ttl``, ``synthetic_video_bytes``, ``max_body_bytes`` and the ``v2_*`` options of
    the MiniMax-H3 surface); ``reset()`` restores them. ``v2_cdn_port`` is the H3 video CDN's port.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        *,
        video_cache_dir: str | os.PathLike[str] | None = None,
        access_log: bool = False,
        v2_cdn_port: int = 0,
        **options: Any,
    ) -> None:
        if not api_key:
            raise ValueError("api_key must be a non-empty string")
        self.host = host
        self.port = port
        self.api_key = api_key
        self.access_log = access_log
        self.v2_cdn_port = v2_cdn_port  # the H3 video CDN listens on its own port (0: any free one)
        self.state = EmulatorState(options)
        self.cache = VideoCache(video_cache_dir)
        self._app = EmulatorApp(self.state, api_key, self.cache)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._cdn_runner: web.AppRunner | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        """Start serving in a background thread; returns once the socket is listening."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        self._started.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="hailuo-emulator", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout=30):
            raise RuntimeError("the emulator did not start within 30 s")
        if self._error is not None:
            self._thread.join(timeout=5)
            self._thread = None
            raise RuntimeError(f"the emulator could not start on {self.host}:{self.port}: {self._error}") from (
                self._error
            )
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._started.set()
            loop.close()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            try:
                for runner in (self._runner, self._cdn_runner):
                    if runner is not None:
                        loop.run_until_complete(runner.cleanup())
                pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    async def _startup(self) -> None:
        runner = web.AppRunner(
            self._app.build(),
            access_log=web.access_logger if self.access_log else None,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        self._runner = runner
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        cdn_runner = web.AppRunner(
            self._app.v2.cdn.build(), access_log=web.access_logger if self.access_log else None, shutdown_timeout=1.0
        )
        await cdn_runner.setup()
        cdn_site = web.TCPSite(cdn_runner, self.host, self.v2_cdn_port, reuse_address=True)
        await cdn_site.start()
        self._cdn_runner = cdn_runner
        cdn_sockets = getattr(getattr(cdn_site, "_server", None), "sockets", None) or []
        if cdn_sockets:
            self.v2_cdn_port = cdn_sockets[0].getsockname()[1]
        self._app.v2.cdn.port = self.v2_cdn_port

    def stop(self) -> None:
        """Stop serving and wait for the thread to end. Safe to call twice."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=15)
        self._thread = None
        self._loop = None
        self._runner = None
        self._cdn_runner = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> EmulatorServer:
        if self._thread is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = self.host
        if host in ("", "0.0.0.0"):  # noqa: S104 - only used to build a reachable URL
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def base_url(self, vendor: str) -> str:
        if vendor not in VENDORS:
            raise ValueError(f"vendor must be one of {', '.join(VENDORS)}, got {vendor!r}")
        return f"{self.url}/{vendor}"

    # -- controls --------------------------------------------------------------------------------
    def configure(self, **options: Any) -> dict[str, Any]:
        """Change behaviour options at run time; returns the whole configuration."""
        return self.state.configure(options)

    @property
    def config(self) -> dict[str, Any]:
        return self.state.config_snapshot()

    def add_fault(
        self,
        endpoint: str = "status",
        kind: str = "http_status",
        status: int | None = None,
        times: int = 1,
        vendor: str | None = None,
        code: int | None = None,
        delay: float | None = None,
        seconds: float | None = None,
    ) -> dict[str, Any]:
        """Make the next ``times`` matching requests (or all for ``seconds``) misbehave (see README)."""
        fault = make_fault(
            endpoint=endpoint, kind=kind, times=times, vendor=vendor, status=status, code=code, delay=delay,
            seconds=seconds
        )
        return self.state.add_fault(fault).as_dict()

    def faults(self) -> list[dict[str, Any]]:
        return self.state.fault_list()

    def clear_faults(self) -> None:
        self.state.clear_faults()

    def requests(self, vendor: str | None = None, endpoint: str | None = None) -> list[dict[str, Any]]:
        """The request log (oldest first), optionally filtered."""
        return self.state.requests(vendor, endpoint)

    def count(self, endpoint: str, vendor: str | None = None) -> int:
        return self.state.count(endpoint, vendor)

    def tasks(self, vendor: str | None = None) -> list[dict[str, Any]]:
        return self.state.task_summaries(vendor)

    def reset(self) -> None:
        """Forget tasks, the log, faults and rate-limit windows; restore the constructor options."""
        self.state.reset()

    def __repr__(self) -> str:
        return f"EmulatorServer(url={self.url!r}, running={self.running})"
