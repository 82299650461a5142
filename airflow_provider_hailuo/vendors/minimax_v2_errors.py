"""MiniMax video API v2 error bodies, mapped onto the provider's exception classes.

v2 answers errors with the real HTTP status and an OpenAI-like body (API_V2_NOTES "Errors")::

    {"type": "error", "error": {"type": "bad_request_error", "message": "... (2013)", "http_code": "400"},
     "request_id": "0217..."}

The vendor code is only in parentheses at the end of ``message``; ``request_id`` plays the part of
v1's ``Trace-Id``. Unlike v1, moderation is an HTTP 422, not an HTTP 200 with ``base_resp``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_hailuo.exceptions import (
    HailuoAuthenticationError,
    HailuoInsufficientBalanceError,
    HailuoModerationError,
    HailuoRateLimitError,
    HailuoTransientError,
    HailuoVendorError,
    HailuoVendorInvalidRequestError,
)
from airflow_provider_hailuo.vendors.minimax import BASE_RESP_CODES

VENDOR = "minimax"
#: "(2013)" at the very end of the message, allowing trailing spaces or a full stop.
_CODE_AT_END = re.compile(r"\((\d{1,6})\)\s*[.。]?\s*$")
#: How MiniMax names the key types that cannot use H3 (Token Plan, Video Package).
_KEY_TYPE_WORDS = re.compile(
    r"token[\s_-]*plan|video[\s_-]*package|coding[\s_-]*plan|key[\s_-]*type|pay[\s-]*as[\s-]*you[\s-]*go|套餐", re.I
)
PAY_AS_YOU_GO_HINT = (
    "this API key's type cannot use MiniMax-H3: H3 needs a pay-as-you-go key (sk-api-...); Token Plan and "
    "Video Package keys cannot create H3 videos. Put a pay-as-you-go key in the hailuo_minimax connection."
)

#: error.type -> (meaning, class), for bodies whose message carries no known code.
ERROR_TYPES: dict[str, tuple[str, type[HailuoVendorError]]] = {
    "bad_request_error": ("invalid parameters", HailuoVendorInvalidRequestError),
    "authorized_error": ("authentication failed (check the key and the connection's region)",
                         HailuoAuthenticationError),
    "insufficient_balance_error": ("insufficient balance", HailuoInsufficientBalanceError),
    "unprocessable_entity_error": ("input flagged as sensitive", HailuoModerationError),
    "rate_limit_error": ("rate limited (300 requests per minute, 30 H3 tasks in flight)", HailuoRateLimitError),
    "server_error": ("server error", HailuoTransientError),
    "overloaded_error": ("the service is overloaded", HailuoTransientError),
}
#: Real HTTP status -> (meaning, class), the last resort.
HTTP_STATUSES: dict[int, tuple[str, type[HailuoVendorError]]] = {
    400: ERROR_TYPES["bad_request_error"],
    401: ERROR_TYPES["authorized_error"],
    403: ("the key may not use this endpoint", HailuoAuthenticationError),
    402: ERROR_TYPES["insufficient_balance_error"],
    404: ("not found (tasks older than 7 days cannot be queried)", HailuoVendorInvalidRequestError),
    413: ("request body too large (v2 takes at most 64 MB)", HailuoVendorInvalidRequestError),
    422: ERROR_TYPES["unprocessable_entity_error"],
    429: ERROR_TYPES["rate_limit_error"],
    500: ERROR_TYPES["server_error"],
    529: ERROR_TYPES["overloaded_error"],
}


def code_from_message(message: object) -> int | None:
    """The vendor code in parentheses at the end of an error message, or None."""
    if not isinstance(message, str):
        return None
    match = _CODE_AT_END.search(message)
    return int(match.group(1)) if match else None


def error_fields(data: Any) -> tuple[str | None, str | None, int | None]:
    """(error.type, error.message, code) of a v2 error body; Nones for anything else."""
    error = data.get("error") if isinstance(data, Mapping) else None
    if not isinstance(error, Mapping):
        return None, None, None
    kind = error.get("type") if isinstance(error.get("type"), str) else None
    message = error.get("message") if isinstance(error.get("message"), str) else None
    code = code_from_message(message)
    if code is None:
        raw = error.get("code")
        if isinstance(raw, int) and not isinstance(raw, bool):
            code = raw
        elif isinstance(raw, str) and raw.strip().isdigit():
            code = int(raw.strip())
    return kind, message, code


def request_id(data: Any) -> str | None:
    value = data.get("request_id") if isinstance(data, Mapping) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def classify(http_status: int, kind: str | None, message: str | None,
             code: int | None) -> tuple[str, type[HailuoVendorError]]:
    """Meaning and class: the code decides first, then ``error.type``, then the HTTP status."""
    if message and _KEY_TYPE_WORDS.search(message) and http_status in (400, 401, 403):
        return PAY_AS_YOU_GO_HINT, HailuoAuthenticationError
    if code is not None and code in BASE_RESP_CODES:
        meaning, cls = BASE_RESP_CODES[code]
        if code == 1004:
            meaning = "authentication failed (check the key; a China key does not work on the global host)"
        return meaning, cls
    if kind in ERROR_TYPES:
        return ERROR_TYPES[kind]
    if http_status in HTTP_STATUSES:
        return HTTP_STATUSES[http_status]
    if http_status >= 500 or http_status == 408:
        return "server error", HailuoTransientError
    return "unexpected HTTP status", HailuoVendorError


def v2_error(http_status: int, data: Any, endpoint: str, *, trace_id: str | None = None,
             task_id: str | None = None, body_excerpt: str = "") -> HailuoVendorError:
    """The exception for one v2 error answer; it names the vendor, code, meaning and request id."""
    kind, message, code = error_fields(data)
    meaning, cls = classify(http_status, kind, message, code)
    detail = message or body_excerpt
    # Without a code the exception would not print the meaning; say it in the message then.
    head = f"{endpoint} failed" if code is not None else f"{endpoint} failed ({meaning})"
    text = f"{head}: {detail}" if detail else head
    if cls is HailuoAuthenticationError and meaning == PAY_AS_YOU_GO_HINT:
        text = f"{text}. {PAY_AS_YOU_GO_HINT}"
        meaning = "key type cannot use MiniMax-H3"
    return cls(text, vendor=VENDOR, code=code, meaning=meaning, trace_id=request_id(data) or trace_id,
               http_status=http_status, task_id=task_id)
