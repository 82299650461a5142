"""The signed-URL CDN (an OSS stand-in) and the video bytes every surface serves.

Ranges are read with aiohttp's own ``request.http_range``; rendering runs in a thread pool.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Iterator
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote

from aiohttp import web

from .core import AppCore
from .media import VideoRenderError, synthetic_video_chunks
from .render import RenderSpec, render_spec_for
from .signing import FILENAME, PRIMARY_PREFIX, oss_error_xml
from .state import Fault, Task
from .v2_store import V2Task
from .web_io import CHUNK_SIZE, VideoSource, ctx, file_chunks

log = logging.getLogger("airflow_provider_hailuo.emulator")

_OBJECT_KEY = re.compile(r"^inference_output/video/\d{4}-\d{2}-\d{2}/([0-9a-f]{32})/" + re.escape(FILENAME) + "$")


def wanted_range(request: web.Request, size: int) -> tuple[int, int] | None | str:
    """(start, end_exclusive) for a satisfiable single range, None to ignore, "unsatisfiable".

    aiohttp parses the header (``request.http_range``: a slice; a suffix ``bytes=-N`` has start -N).
    A header it cannot read, or several ranges, is ignored and the whole video sent, as servers do;
    one whose last byte comes before its first is unsatisfiable.
    """
    header = request.headers.get("Range", "").strip()
    if not header:
        return None
    try:
        wanted = request.http_range
    except ValueError:
        first, _, last = header.removeprefix("bytes=").partition("-")
        return "unsatisfiable" if first.isdigit() and last.isdigit() else None
    start, stop = wanted.start or 0, wanted.stop
    if header.startswith("bytes=-"):  # the last N bytes; bytes=-0 asks for none of them
        return "unsatisfiable" if start == 0 else (max(0, size + start), size)
    if start >= size:
        return "unsatisfiable"
    return start, size if stop is None else min(size, stop)


class Cdn(AppCore):
    def _signed_url(self, request: web.Request, task: Task, prefix: str) -> str:
        ttl = self.state.config_snapshot()["download_url_ttl"]
        object_key = self.signer.object_key(task.finished_at, task.token)
        return self.signer.sign(self._origin(request), prefix, object_key, ttl)

    def _prerender(self, task: Task) -> None:
        key = render_spec_for(task)
        if key in self._renders or self.cache.cached(key) is not None:
            return
        future = self._render(key)
        future.add_done_callback(lambda f: f.exception() if not f.cancelled() else None)

    def _render(self, key: RenderSpec) -> asyncio.Future[Path]:
        future = self._renders.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self.executor, self.cache.get, key)
            self._renders[key] = future
            future.add_done_callback(lambda _f: self._renders.pop(key, None))
        return future

    async def _video_source(self, task: Task) -> VideoSource:
        size = task.synthetic_bytes
        if size is not None:

            def chunks(start: int, end: int, size: int = size) -> Iterator[bytes]:
                return synthetic_video_chunks(size, CHUNK_SIZE, start=start, end=end)

            return VideoSource(size, chunks, f'"synthetic-{size}"')
        key = render_spec_for(task)
        path = self.cache.cached(key)
        if path is None:
            path = await asyncio.shield(self._render(key))
        stat = path.stat()
        return VideoSource(stat.st_size, file_chunks(path), f'"{key.digest[:24]}-{stat.st_size}"')

    def _oss_error(self, request: web.Request, code: str, status: int, expires: str | None = None) -> web.Response:
        request_id = secrets.token_hex(12).upper()
        return web.Response(
            text=oss_error_xml(code, request_id, host=request.host, expires=expires),
            status=status,
            content_type="application/xml",
            headers={"x-oss-request-id": request_id},
        )

    def _download_handler(self, prefix: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        endpoint = "download" if prefix == PRIMARY_PREFIX else "backup_download"

        async def handler(request: web.Request) -> web.StreamResponse:
            object_key = unquote(request.match_info["key"])
            query = {key: request.query.get(key, "") for key in ("Expires", "OSSAccessKeyId", "Signature")}
            problem = self.signer.check(prefix, object_key, query)
            if problem is not None:
                status = 403
                return self._oss_error(request, problem, status, expires=query["Expires"] or None)
            match = _OBJECT_KEY.match(object_key)
            task = self.state.by_token(match.group(1)) if match else None
            if task is None:
                return self._oss_error(request, "NoSuchKey", 404)
            self.state.update_entry(ctx().entry, vendor=task.vendor, task_id=task.task_id)
            fault, early = await self._pre_fault(request, task.vendor, endpoint)
            if early is not None:
                return early
            return await self._serve_video(request, task, fault, vendor_errors=False)

        return handler

    async def _serve_video(
        self,
        request: web.Request,
        task: Task | V2Task,
        fault: Fault | None,
        *,
        vendor_errors: bool,
        source: VideoSource | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> web.StreamResponse:
        entry = ctx().entry
        try:
            if source is None:
                assert isinstance(task, Task)
                source = await self._video_source(task)
        except (VideoRenderError, OSError) as exc:
            log.exception("rendering the video of task %s failed", task.task_id)
            if vendor_errors:
                return self._vendor_error(task.vendor, "retrieve_content", 1000, f"video rendering failed: {exc}")
            return web.Response(
                text=oss_error_xml("InternalError", secrets.token_hex(12).upper()),
                status=500,
                content_type="application/xml",
            )
        size = source.size
        headers = {
            "Accept-Ranges": "bytes",
            "ETag": source.etag,
            "Last-Modified": formatdate(task.finished_at, usegmt=True),
            **(extra_headers or {}),
        }
        if vendor_errors:
            headers["Content-Disposition"] = f'attachment; filename="{FILENAME}"'
        else:
            headers["x-oss-request-id"] = secrets.token_hex(12).upper()
            headers["x-oss-object-type"] = "Normal"
        wanted = wanted_range(request, size)
        if wanted == "unsatisfiable":
            headers["Content-Range"] = f"bytes */{size}"
            if vendor_errors:
                return web.Response(status=416, headers=headers)
            return web.Response(
                text=oss_error_xml("InvalidRange", secrets.token_hex(12).upper()),
                status=416,
                headers=headers,
                content_type="application/xml",
            )
        if isinstance(wanted, tuple):
            start, end = wanted
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        else:
            start, end, status = 0, size, 200
        length = end - start
        response = web.StreamResponse(status=status, headers=headers)
        response.content_type = "video/mp4"
        response.content_length = length
        self.state.update_entry(entry, status=status, range=[start, end - 1] if status == 206 else None)
        await response.prepare(request)
        if request.method == "HEAD":
            self.state.update_entry(entry, bytes_sent=0, sha256=None, complete=True)
            await response.write_eof()
            return response
        limit = length // 2 if fault is not None and fault.kind == "truncated" else length
        digest = hashlib.sha256()
        sent = 0
        try:
            for chunk in source.chunks(start, start + limit):
                digest.update(chunk)
                sent += len(chunk)
                if sent >= length:
                    # record before the last bytes leave, so a client that has read the whole
                    # body always finds the finished entry in the log
                    self.state.update_entry(entry, bytes_sent=sent, sha256=digest.hexdigest(), complete=True)
                await response.write(chunk)
        except ConnectionError:
            # the client went away; aiohttp closes the connection quietly
            self.state.update_entry(entry, bytes_sent=sent, sha256=digest.hexdigest(), complete=False)
            return response
        except asyncio.CancelledError:
            self.state.update_entry(entry, bytes_sent=sent, sha256=digest.hexdigest(), complete=False)
            raise
        if sent < length:
            self.state.update_entry(entry, bytes_sent=sent, sha256=digest.hexdigest(), complete=False)
            self._close_connection(request, reset=False)
            return response
        await response.write_eof()
        return response
