"""The aiohttp application: three vendor surfaces, a signed-URL CDN and the control endpoints."""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import json
import logging
import re
import secrets
import socket
import struct
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from .catalog import InvalidParams, flatten_modelverse, validate_submit
from .config import ConfigError
from .media import VideoCache, VideoRenderError, synthetic_video_chunks
from .render import RenderSpec, render_spec_for
from .signing import BACKUP_PREFIX, FILENAME, PRIMARY_PREFIX, UrlSigner, oss_error_xml
from .state import VENDORS, EmulatorState, Fault, Task, make_fault
from .v2_store import V2Task

log = logging.getLogger("airflow_provider_hailuo.emulator")

CHUNK_SIZE = 256 * 1024
JSON_TYPE = "application/json"

BASE_RESP_MESSAGES = {
    0: "success",
    1000: "unknown error",
    1001: "request timeout",
    1002: "rate limit exceeded (RPM), please retry later",
    1004: "authorized failed, please check your API key",
    1008: "insufficient balance",
    1024: "internal error",
    1026: "input new_sensitive: the prompt or image was flagged as sensitive content",
    1027: "output new_sensitive: the generated video was flagged as sensitive content",
    1033: "system error, please retry later",
    1039: "token limit exceeded",
    1041: "connection limit exceeded",
    1042: "invisible characters in input",
    2013: "invalid params",
    2045: "rate growth limit exceeded",
    2049: "invalid api key",
    2056: "usage limit exceeded",
}

# Modelverse answers with HTTP statuses; the base_resp fault codes map onto them.
MODELVERSE_ERRORS: dict[int, tuple[int, str]] = {
    1000: (500, "internal_error"),
    1001: (504, "timeout"),
    1002: (429, "rate_limit_exceeded"),
    1004: (401, "invalid_api_key"),
    1008: (402, "insufficient_balance"),
    1024: (500, "internal_error"),
    1026: (400, "sensitive"),
    1027: (400, "sensitive"),
    1033: (503, "service_unavailable"),
    1039: (429, "rate_limit_exceeded"),
    1041: (429, "rate_limit_exceeded"),
    1042: (400, "invalid_parameter"),
    2013: (400, "invalid_parameter"),
    2045: (429, "rate_limit_exceeded"),
    2049: (401, "invalid_api_key"),
    2056: (429, "quota_exceeded"),
}
HTTP_ERROR_CODES = {
    400: "invalid_parameter",
    401: "invalid_api_key",
    402: "insufficient_balance",
    403: "forbidden",
    404: "not_found",
    413: "request_too_large",
    429: "rate_limit_exceeded",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}

MINIMAX_PHASES = ((0.2, "Preparing"), (0.45, "Queueing"), (1.0, "Processing"))
DMXAPI_PHASES = ((0.35, "Queueing"), (1.0, "Processing"))
MODELVERSE_PHASES = ((0.35, "Pending"), (1.0, "Running"))
FINAL_STATUS = {
    "minimax": ("Success", "Fail"),
    "dmxapi": ("Success", "Failed"),
    "modelverse": ("Success", "Failure"),
}
PHASES = {"minimax": MINIMAX_PHASES, "dmxapi": DMXAPI_PHASES, "modelverse": MODELVERSE_PHASES}

_OBJECT_KEY = re.compile(r"^inference_output/video/\d{4}-\d{2}-\d{2}/([0-9a-f]{32})/" + re.escape(FILENAME) + "$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_DATA_URL_KEEP = 48


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=_dumps(data), status=status, content_type=JSON_TYPE, charset="utf-8", headers=headers)


def redact_body(value: Any) -> Any:
    """Shorten data: URLs (base64 images) so the request log stays small."""
    if isinstance(value, dict):
        return {key: redact_body(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_body(item) for item in value]
    if isinstance(value, str) and value[:5].lower() == "data:" and len(value) > _DATA_URL_KEEP:
        return f"{value[:_DATA_URL_KEEP]}...<{len(value)} chars>"
    return value


def _redact_headers(headers: Any) -> dict[str, str]:
    redacted: dict[str, str] = {}
    for key, value in headers.items():
        redacted[key] = "***" if key.lower() in ("authorization", "cookie", "x-api-key") else value
    return redacted


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """(start, end_exclusive) for a satisfiable single range, None to ignore, "unsatisfiable"."""
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return max(0, size - suffix), size
    start = int(first)
    end = size if not last else min(size, int(last) + 1)
    if start >= size or (last and int(last) < start):
        return "unsatisfiable"
    return start, end


class _RequestContext:
    """Per-request bookkeeping (kept in a context variable: each request runs in its own task)."""

    __slots__ = ("trace_id", "entry", "aborted")

    def __init__(self, trace_id: str, entry: dict[str, Any]) -> None:
        self.trace_id = trace_id
        self.entry = entry
        self.aborted = False


_CURRENT: contextvars.ContextVar[_RequestContext | None] = contextvars.ContextVar(
    "hailuo_emulator_request", default=None
)


def _ctx() -> _RequestContext:
    context = _CURRENT.get()
    if context is None:  # pragma: no cover - only outside the middleware
        context = _RequestContext(secrets.token_hex(16), {})
        _CURRENT.set(context)
    return context


class VideoSource:
    """The bytes of one task's video, by range, streamed in chunks."""

    def __init__(self, size: int, chunks: Callable[[int, int], Iterator[bytes]], etag: str) -> None:
        self.size = size
        self.chunks = chunks
        self.etag = etag


def _file_chunks(path: Path) -> Callable[[int, int], Iterator[bytes]]:
    def chunks(start: int, end: int) -> Iterator[bytes]:
        with path.open("rb") as handle:
            handle.seek(start)
            remaining = end - start
            while remaining > 0:
                data = handle.read(min(CHUNK_SIZE, remaining))
                if not data:
                    return
                remaining -= len(data)
                yield data

    return chunks


class EmulatorApp:
    def __init__(self, state: EmulatorState, api_key: str, cache: VideoCache) -> None:
        if not api_key:
            raise ValueError("the emulator needs a non-empty API key")
        self.state = state
        self.api_key = api_key
        self.cache = cache
        self.signer = UrlSigner()
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hailuo-emulator-render")
        self._renders: dict[RenderSpec, asyncio.Future[Path]] = {}
        from .minimax_v2 import MiniMaxV2  # the v2 surface builds on this module

        self.v2 = MiniMaxV2(self)

    # ----------------------------------------------------------------------------------------
    # application
    # ----------------------------------------------------------------------------------------
    def build(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024**3)
        app.on_response_prepare.append(self._add_trace_id)
        app.on_cleanup.append(self._cleanup)
        routes: list[tuple[str, str, str, str]] = [
            ("POST", "/minimax/v1/video_generation", "minimax", "submit"),
            ("GET", "/minimax/v1/query/video_generation", "minimax", "status"),
            ("GET", "/minimax/v1/files/retrieve", "minimax", "retrieve"),
            ("GET", "/minimax/v1/files/retrieve_content", "minimax", "retrieve_content"),
            ("POST", "/dmxapi/v1/video_generation", "dmxapi", "submit"),
            ("GET", "/dmxapi/v1/query/video_generation", "dmxapi", "status"),
            ("GET", "/dmxapi/v1/files/retrieve", "dmxapi", "retrieve"),
            ("POST", "/modelverse/v1/tasks/submit", "modelverse", "submit"),
            ("GET", "/modelverse/v1/tasks/status", "modelverse", "status"),
        ]
        for method, path, vendor, endpoint in routes:
            handler = self._vendor_handler(vendor, endpoint)
            if method == "GET":  # GET routes answer HEAD too
                app.router.add_get(path, handler, name=f"{vendor}:{endpoint}")
            else:
                app.router.add_route(method, path, handler, name=f"{vendor}:{endpoint}")
        self.v2.register(app)
        app.router.add_get(PRIMARY_PREFIX + "/{key:.+}", self._download_handler(PRIMARY_PREFIX), name="cdn:download")
        app.router.add_get(
            BACKUP_PREFIX + "/{key:.+}", self._download_handler(BACKUP_PREFIX), name="cdn:backup_download"
        )
        control = [
            ("GET", "/_emulator/config", self._get_config),
            ("POST", "/_emulator/config", self._post_config),
            ("GET", "/_emulator/faults", self._get_faults),
            ("POST", "/_emulator/faults", self._post_fault),
            ("DELETE", "/_emulator/faults", self._delete_faults),
            ("GET", "/_emulator/requests", self._get_requests),
            ("GET", "/_emulator/tasks", self._get_tasks),
            ("POST", "/_emulator/reset", self._post_reset),
        ]
        for method, path, handler in control:
            app.router.add_route(method, path, self._control(handler))
        app.router.add_get("/_emulator/health", self._health)
        app.router.add_get("/", self._index)
        return app

    async def _cleanup(self, app: web.Application) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def _add_trace_id(self, request: web.Request, response: web.StreamResponse) -> None:
        context = _CURRENT.get()
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
            "headers": _redact_headers(request.headers),
            "status": None,
            "task_id": None,
            "trace_id": trace_id,
        }
        context = _RequestContext(trace_id, entry)
        _CURRENT.set(context)
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

    # ----------------------------------------------------------------------------------------
    # helpers
    # ----------------------------------------------------------------------------------------
    def _key_matches(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode(), self.api_key.encode())

    def _authorized(self, vendor: str | None, header: str | None) -> bool:
        if not header:
            return False
        header = header.strip()
        scheme, _, rest = header.partition(" ")
        bearer = scheme.lower() == "bearer" and self._key_matches(rest.strip())
        raw = self._key_matches(header)
        if vendor == "minimax":
            return bearer or self.v2.key_type(header) is not None  # v2_keys work on v1 too
        if vendor == "modelverse":
            return raw
        return bearer or raw  # dmxapi and the control endpoints

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
        self.state.update_entry(_ctx().entry, body=redact_body(body))
        if not isinstance(body, dict):
            return body, "request body must be a JSON object", 400
        return body, None, 200

    def _origin(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    def _request_id(self) -> str:
        return str(uuid.uuid4())

    def _base_resp(self, code: int, message: str | None = None) -> dict[str, Any]:
        return {"status_code": code, "status_msg": message or BASE_RESP_MESSAGES.get(code, "error")}

    def _vendor_error(
        self,
        vendor: str,
        endpoint: str,
        code: int,
        message: str | None = None,
        *,
        http_status: int | None = None,
        task_id: str | None = None,
    ) -> web.Response:
        """An error in the vendor's own style (base_resp with HTTP 200, or Modelverse HTTP errors)."""
        if vendor == "modelverse":
            default_status, error_code = MODELVERSE_ERRORS.get(code, (500, "internal_error"))
            status = http_status or default_status
            if http_status and code not in MODELVERSE_ERRORS:
                error_code = HTTP_ERROR_CODES.get(status, "error")
            return json_response(
                {
                    "error": {"code": error_code, "message": message or BASE_RESP_MESSAGES.get(code, "error")},
                    "request_id": self._request_id(),
                },
                status=status,
            )
        body: dict[str, Any] = {}
        if endpoint == "submit":
            body["task_id"] = ""
        elif endpoint == "status":
            body["task_id"] = task_id or ""
            body["status"] = ""
        body["base_resp"] = self._base_resp(code, message)
        return json_response(body, status=http_status or 200)

    def _auth_error(self, vendor: str, endpoint: str, header: str | None) -> web.Response:
        if vendor == "modelverse":
            message = (
                "missing API key: send 'Authorization: <key>'"
                if not header
                else "invalid API key (Modelverse expects the raw key: 'Authorization: <key>')"
            )
            return json_response(
                {"error": {"code": "invalid_api_key", "message": message}, "request_id": self._request_id()},
                status=401,
            )
        if not header:
            message = "login fail: Please carry the API secret key in the 'Authorization' field of the request header"
        elif vendor == "minimax" and not header.strip().lower().startswith("bearer "):
            message = "login fail: the Authorization header must be 'Bearer <API key>'"
        else:
            message = "login fail: invalid API key"
        return self._vendor_error(vendor, endpoint, 1004, message)

    # ----------------------------------------------------------------------------------------
    # faults
    # ----------------------------------------------------------------------------------------
    def _close_connection(self, request: web.Request, *, reset: bool) -> web.Response:
        """Close the TCP connection now: with an RST (``reset``), or after flushing what was
        written (truncated bodies). The returned response can no longer be sent: aiohttp notices
        the closed transport and drops it quietly."""
        _ctx().aborted = True
        transport = request.transport
        if transport is not None:
            if reset:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    except OSError:  # pragma: no cover
                        pass
                transport.abort()
            else:
                transport.close()
        return web.Response(status=499)

    async def _send_truncated(self, request: web.Request, response: web.Response) -> web.StreamResponse:
        body = bytes(response.body or b"")  # type: ignore[arg-type]
        stream = web.StreamResponse(status=response.status, headers=response.headers)
        stream.content_length = len(body)
        self.state.update_entry(_ctx().entry, status=response.status)
        await stream.prepare(request)
        await stream.write(body[: len(body) // 2])
        self._close_connection(request, reset=False)
        return stream

    def _http_fault_response(self, vendor: str | None, endpoint: str, status: int) -> web.Response:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Error"
        if endpoint in ("download", "backup_download", "v2_download"):
            code = "ServiceUnavailable" if status == 503 else "InternalError"
            return web.Response(
                text=oss_error_xml(code, secrets.token_hex(12).upper()), status=status, content_type="application/xml"
            )
        if vendor == "modelverse":
            return json_response(
                {
                    "error": {"code": HTTP_ERROR_CODES.get(status, "error"), "message": f"{status} {reason}"},
                    "request_id": self._request_id(),
                },
                status=status,
            )
        html = (
            f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        )
        return web.Response(text=html, status=status, content_type="text/html")

    def _malformed_json(self, vendor: str | None) -> web.Response:
        if vendor == "modelverse":
            text = '{"output": {"task_id": "1", "task_status": "Succ'
        else:
            text = '{"task_id": "1", "status": "Success", "base_resp": {"status_code": 0, "status_msg": "succ'
        return web.Response(text=text, status=200, content_type=JSON_TYPE)

    async def _pre_fault(
        self, request: web.Request, vendor: str | None, endpoint: str
    ) -> tuple[Fault | None, web.StreamResponse | None]:
        """Take a matching fault. Returns (fault still to apply later, response to send now)."""
        fault = self.state.take_fault(endpoint, vendor)
        if fault is None:
            return None, None
        entry = _ctx().entry
        self.state.update_entry(entry, fault=fault.kind)
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay or 0.0)
            return None, None
        if fault.kind == "reset":
            self.state.update_entry(entry, status=None)
            return None, self._close_connection(request, reset=True)
        if fault.kind == "http_status":
            return None, self._http_fault_response(vendor, endpoint, fault.status or 500)
        if fault.kind == "malformed_json":
            return None, self._malformed_json(vendor)
        if fault.kind == "base_resp":
            code = fault.code if fault.code is not None else 1000
            if endpoint in ("download", "backup_download", "v2_download"):
                return None, self._http_fault_response(vendor, endpoint, fault.status or 500)
            return None, self._vendor_error(vendor or "minimax", endpoint, code, http_status=fault.status)
        if fault.kind == "expired_url":
            return None, self._oss_error(request, "Expired", 403, expires=request.query.get("Expires"))
        return fault, None  # truncated: applied while sending

    # ----------------------------------------------------------------------------------------
    # vendor endpoints
    # ----------------------------------------------------------------------------------------
    def _vendor_handler(self, vendor: str, endpoint: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        implementations: dict[str, Callable[[web.Request, str, Fault | None], Awaitable[web.StreamResponse]]] = {
            "submit": self._submit,
            "status": self._status,
            "retrieve": self._retrieve,
            "retrieve_content": self._retrieve_content,
        }
        implementation = implementations[endpoint]

        async def handler(request: web.Request) -> web.StreamResponse:
            header = request.headers.get("Authorization")
            if not self._authorized(vendor, header):
                return self._auth_error(vendor, endpoint, header)
            fault, early = await self._pre_fault(request, vendor, endpoint)
            if early is not None:
                return early
            response = await implementation(request, vendor, fault)
            if fault is not None and fault.kind == "truncated" and isinstance(response, web.Response):
                return await self._send_truncated(request, response)
            return response

        return handler

    async def _submit(self, request: web.Request, vendor: str, fault: Fault | None) -> web.StreamResponse:
        body, error, http_status = await self._read_json(request)
        if error is not None:
            code = 2013
            if vendor == "modelverse":
                return self._vendor_error(vendor, "submit", code, f"invalid params, {error}", http_status=http_status)
            return self._vendor_error(
                vendor, "submit", code, f"invalid params, {error}", http_status=413 if http_status == 413 else None
            )
        if not self.state.admit_submit(vendor):
            return self._vendor_error(vendor, "submit", 1002)
        config = self.state.config_snapshot()
        if config["insufficient_balance"]:
            return self._vendor_error(vendor, "submit", 1008)
        try:
            flat = flatten_modelverse(body) if vendor == "modelverse" else body
            video = validate_submit(vendor, flat)
        except InvalidParams as exc:
            return self._vendor_error(vendor, "submit", 2013, str(exc))
        if config["moderation"] == "input":
            return self._vendor_error(vendor, "submit", 1026)
        task = self.state.create_task(vendor, video)
        self.state.update_entry(_ctx().entry, task_id=task.task_id)
        if vendor == "modelverse":
            return json_response({"output": {"task_id": task.task_id}, "request_id": self._request_id()})
        return json_response({"task_id": task.task_id, "base_resp": self._base_resp(0)})

    def _phase(self, task: Task) -> tuple[str, bool]:
        """(vendor status word, finished)."""
        progress = task.progress()
        if progress >= 1.0:
            success, failure = FINAL_STATUS[task.vendor]
            return (success if task.succeeded else failure), True
        for limit, word in PHASES[task.vendor]:
            if progress < limit:
                return word, False
        return PHASES[task.vendor][-1][1], False  # pragma: no cover

    def _failure_reason(self, task: Task) -> str:
        if task.moderation_output:
            return BASE_RESP_MESSAGES[1027]
        return task.fail_reason

    async def _status(self, request: web.Request, vendor: str, fault: Fault | None) -> web.StreamResponse:
        task_id = request.query.get("task_id", "").strip()
        entry = _ctx().entry
        self.state.update_entry(entry, task_id=task_id or None)
        if not task_id:
            if vendor == "modelverse":
                return self._vendor_error(vendor, "status", 2013, "task_id is required", http_status=400)
            return self._vendor_error(vendor, "status", 2013, "invalid params, task_id is required")
        task = self.state.task(vendor, task_id)
        if task is None:
            if vendor == "modelverse":
                return self._vendor_error(vendor, "status", 2013, f"task {task_id} not found", http_status=404)
            return self._vendor_error(
                vendor, "status", 2013, f"invalid params, task_id {task_id} not found", task_id=task_id
            )
        word, finished = self._phase(task)
        if finished and task.succeeded and task.synthetic_bytes is None:
            self._prerender(task)
        if vendor == "modelverse":
            output: dict[str, Any] = {
                "task_id": task.task_id,
                "task_status": word,
                "submit_time": int(task.created_at),
            }
            if finished:
                output["finish_time"] = int(task.finished_at)
                if task.succeeded:
                    output["urls"] = [self._signed_url(request, task, PRIMARY_PREFIX)]
                else:
                    output["error_message"] = self._failure_reason(task)
            return json_response(
                {"output": output, "usage": {"duration": task.request.duration}, "request_id": self._request_id()}
            )
        body: dict[str, Any] = {"task_id": task.task_id, "status": word}
        base_resp = self._base_resp(0)
        if finished and task.succeeded:
            body["file_id"] = task.file_id
            body["video_width"] = task.request.width
            body["video_height"] = task.request.height
        elif finished:
            reason = self._failure_reason(task)
            body["error_message"] = reason
            base_resp = self._base_resp(1027, reason) if task.moderation_output else self._base_resp(0, reason)
        body["base_resp"] = base_resp
        return json_response(body)

    def _signed_url(self, request: web.Request, task: Task, prefix: str) -> str:
        ttl = self.state.config_snapshot()["download_url_ttl"]
        object_key = self.signer.object_key(task.finished_at, task.token)
        return self.signer.sign(self._origin(request), prefix, object_key, ttl)

    def _file_for(self, request: web.Request, vendor: str, endpoint: str) -> tuple[Task | None, web.Response | None]:
        file_id = request.query.get("file_id", "").strip()
        task_id = request.query.get("task_id", "").strip()
        if not file_id:
            return None, self._vendor_error(vendor, endpoint, 2013, "invalid params, file_id is required")
        task = self.state.file(vendor, file_id)
        if task is None or not task.succeeded or task.progress() < 1.0:
            return None, self._vendor_error(vendor, endpoint, 2013, f"invalid params, file {file_id} not found")
        if vendor == "dmxapi" and task_id and task_id != task.task_id:
            return None, self._vendor_error(
                vendor, endpoint, 2013, f"invalid params, file {file_id} does not belong to task {task_id}"
            )
        self.state.update_entry(_ctx().entry, task_id=task.task_id)
        return task, None

    async def _retrieve(self, request: web.Request, vendor: str, fault: Fault | None) -> web.StreamResponse:
        task, error = self._file_for(request, vendor, "retrieve")
        if error is not None or task is None:
            return error or self._vendor_error(vendor, "retrieve", 1000)
        if task.synthetic_bytes is None:
            self._prerender(task)
        file_info: dict[str, Any] = {
            "file_id": int(task.file_id),
            "bytes": 0,
            "created_at": int(task.finished_at),
            "filename": FILENAME,
            "purpose": "video_generation",
            "download_url": self._signed_url(request, task, PRIMARY_PREFIX),
        }
        if vendor == "minimax":
            file_info["backup_download_url"] = self._signed_url(request, task, BACKUP_PREFIX)
        return json_response({"file": file_info, "base_resp": self._base_resp(0)})

    async def _retrieve_content(self, request: web.Request, vendor: str, fault: Fault | None) -> web.StreamResponse:
        task, error = self._file_for(request, vendor, "retrieve_content")
        if error is not None or task is None:
            return error or self._vendor_error(vendor, "retrieve_content", 1000)
        return await self._serve_video(request, task, fault, vendor_errors=True)

    # ----------------------------------------------------------------------------------------
    # videos and the CDN
    # ----------------------------------------------------------------------------------------
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
        return VideoSource(stat.st_size, _file_chunks(path), f'"{key.digest[:24]}-{stat.st_size}"')

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
            self.state.update_entry(_ctx().entry, vendor=task.vendor, task_id=task.task_id)
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
        entry = _ctx().entry
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
        wanted = _parse_range(request.headers.get("Range"), size)
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

    # ----------------------------------------------------------------------------------------
    # control endpoints
    # ----------------------------------------------------------------------------------------
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
        allowed = {"endpoint", "kind", "times", "vendor", "status", "code", "delay"}
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
