"""What every emulator surface shares about a request: JSON answers, the per-request context
(trace id, request-log entry), redaction for the log, and the byte sources a video is served from."""

from __future__ import annotations

import contextvars
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

CHUNK_SIZE = 256 * 1024
JSON_TYPE = "application/json"
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


def redact_headers(headers: Any) -> dict[str, str]:
    redacted: dict[str, str] = {}
    for key, value in headers.items():
        redacted[key] = "***" if key.lower() in ("authorization", "cookie", "x-api-key") else value
    return redacted


class RequestContext:
    """Per-request bookkeeping (kept in a context variable: each request runs in its own task)."""

    __slots__ = ("trace_id", "entry", "aborted")

    def __init__(self, trace_id: str, entry: dict[str, Any]) -> None:
        self.trace_id = trace_id
        self.entry = entry
        self.aborted = False


CURRENT: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "hailuo_emulator_request", default=None
)


def ctx() -> RequestContext:
    context = CURRENT.get()
    if context is None:  # pragma: no cover - only outside the middleware
        context = RequestContext(secrets.token_hex(16), {})
        CURRENT.set(context)
    return context


class VideoSource:
    """The bytes of one task's video, by range, streamed in chunks."""

    def __init__(self, size: int, chunks: Callable[[int, int], Iterator[bytes]], etag: str) -> None:
        self.size = size
        self.chunks = chunks
        self.etag = etag


def file_chunks(path: Path) -> Callable[[int, int], Iterator[bytes]]:
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
