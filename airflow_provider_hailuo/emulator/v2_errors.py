"""The v2 error body: real HTTP status, OpenAI-like ``{"type": "error", "error": {...}, "request_id"}``.

The vendor code goes in parentheses at the end of ``message`` and ``http_code`` is a string
(API_V2_NOTES "Errors (v2)").
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aiohttp import web

# HTTP status -> (error.type, vendor code or None)
ERROR_TYPES: dict[int, tuple[str, int | None]] = {
    400: ("bad_request_error", 2013),
    401: ("authorized_error", 1004),
    402: ("insufficient_balance_error", 1008),
    413: ("request_too_large_error", 2013),
    422: ("unprocessable_entity_error", 1026),
    429: ("rate_limit_error", 1002),
    500: ("server_error", 1000),
    529: ("overloaded_error", None),
}
DEFAULT_MESSAGES = {
    400: "invalid params",
    401: "authorized failed, please check your API key",
    402: "insufficient balance",
    413: "request body too large",
    422: "input new_sensitive: the prompt or media was flagged as sensitive content",
    429: "rate limit exceeded, please retry later",
    500: "unknown error",
    529: "the service is overloaded, please retry later",
}
# a base_resp fault code -> the HTTP status v2 answers it with
CODE_STATUS = {
    2013: 400, 1004: 401, 2049: 401, 1008: 402, 1026: 422, 1027: 422,
    1002: 429, 1039: 429, 1041: 429, 2045: 429, 2056: 429, 1000: 500, 1024: 500, 1033: 529,
}  # fmt: skip


def error_body(status: int, message: str | None, request_id: str, code: int | None = None) -> dict[str, Any]:
    error_type, default_code = ERROR_TYPES.get(status, ("server_error", 1000))
    code = default_code if code is None else code
    text = message or DEFAULT_MESSAGES.get(status) or HTTPStatus(status).phrase
    if code is not None:
        text = f"{text} ({code})"
    return {
        "type": "error",
        "error": {"type": error_type, "message": text, "http_code": str(status)},
        "request_id": request_id,
    }


def error_response(status: int, message: str | None, request_id: str, code: int | None = None) -> web.Response:
    return web.Response(
        body=json.dumps(error_body(status, message, request_id, code), ensure_ascii=False).encode(),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def fault_status_response(status: int, request_id: str) -> web.Response:
    """An ``http_status`` fault: the v2 JSON error for the table's statuses, a gateway page otherwise."""
    if status in ERROR_TYPES:
        return error_response(status, None, request_id)
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    html = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return web.Response(text=html, status=status, content_type="text/html")


def fault_code_response(code: int, status: int | None, request_id: str) -> web.Response:
    """A ``base_resp`` fault on a v2 endpoint: the v2 error for that vendor code."""
    http_status = status or CODE_STATUS.get(code, 500)
    return error_response(http_status, None, request_id, code if http_status != 529 else None)


def malformed_json() -> web.Response:
    return web.Response(text='{"task": {"id": "1", "status": "succ', status=200, content_type="application/json")
