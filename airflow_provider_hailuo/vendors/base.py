"""What every vendor dialect shares: HTTP request/response values and error mapping.

A dialect is sans-I/O (in the manner of h11): it turns a :class:`VideoRequest` into an
:class:`HttpRequest` and an :class:`HttpResponse` into a task id, a :class:`TaskStatus` or a
:class:`DownloadLocation`, raising the right :mod:`~airflow_provider_hailuo.exceptions` error.
All vendor differences live in the dialect modules; nothing here opens a socket.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlparse

from airflow_provider_hailuo.core.models import DownloadLocation, Mode, TaskState, TaskStatus
from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.exceptions import (
    HailuoAuthenticationError,
    HailuoConfigurationError,
    HailuoInsufficientBalanceError,
    HailuoInvalidRequestError,
    HailuoModerationError,
    HailuoProtocolError,
    HailuoRateLimitError,
    HailuoTransientError,
    HailuoVendorError,
    HailuoVendorInvalidRequestError,
)


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP call to make against the vendor's base URL."""

    method: str
    path: str
    endpoint: str  # submit, status, retrieve, retrieve_content: for logs and retry policy
    params: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    #: Safe to repeat after an ambiguous failure (no answer). False for submit: a repeat may pay twice.
    idempotent: bool = True


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


#: base_resp.status_code -> (meaning, error class). From API_NOTES.md and seed 002.
BASE_RESP_CODES: dict[int, tuple[str, type[HailuoVendorError]]] = {
    1000: ("unknown error", HailuoTransientError),
    1001: ("timeout", HailuoTransientError),
    1002: ("rate limited (requests per minute)", HailuoRateLimitError),
    1004: ("authentication failed (check the key; a China key does not work on the global host)",
           HailuoAuthenticationError),
    1008: ("insufficient balance", HailuoInsufficientBalanceError),
    1024: ("internal error", HailuoTransientError),
    1026: ("input (prompt or image) flagged as sensitive", HailuoModerationError),
    1027: ("generated video flagged as sensitive", HailuoModerationError),
    1033: ("system error", HailuoTransientError),
    1039: ("token limit", HailuoRateLimitError),
    1041: ("connection limit", HailuoRateLimitError),
    1042: ("invisible characters in input", HailuoVendorInvalidRequestError),
    2013: ("invalid parameters", HailuoVendorInvalidRequestError),
    2045: ("rate growth limit", HailuoRateLimitError),
    2049: ("invalid API key", HailuoAuthenticationError),
    2056: ("usage limit reached", HailuoInsufficientBalanceError),
}

#: Every spelling of a task status seen in the vendors' documents and clients, lower-cased.
STATUS_WORDS: dict[str, TaskState] = {
    "preparing": TaskState.QUEUED,
    "queueing": TaskState.QUEUED,
    "queuing": TaskState.QUEUED,
    "queued": TaskState.QUEUED,
    "pending": TaskState.QUEUED,
    "submitted": TaskState.QUEUED,
    "processing": TaskState.RUNNING,
    "running": TaskState.RUNNING,
    "in_progress": TaskState.RUNNING,
    "success": TaskState.SUCCEEDED,
    "succeeded": TaskState.SUCCEEDED,
    "succeed": TaskState.SUCCEEDED,
    "finished": TaskState.SUCCEEDED,
    "fail": TaskState.FAILED,
    "failed": TaskState.FAILED,
    "failure": TaskState.FAILED,
    "error": TaskState.FAILED,
    "cancelled": TaskState.FAILED,
    "canceled": TaskState.FAILED,
    "expired": TaskState.FAILED,
}

MAX_JSON_BYTES = 1024 * 1024  # a status answer is a few hundred bytes; more is hostile or broken


def map_status_word(word: object) -> TaskState | None:
    if not isinstance(word, str):
        return None
    return STATUS_WORDS.get(word.strip().lower())


def http_error_class(status: int) -> tuple[str, type[HailuoVendorError]]:
    if status in (401, 403):
        return "authentication failed", HailuoAuthenticationError
    if status == 402:
        return "insufficient balance", HailuoInsufficientBalanceError
    if status == 429:
        return "rate limited", HailuoRateLimitError
    if status in (400, 404, 405, 409, 413, 422):
        return "request rejected", HailuoVendorInvalidRequestError
    if status == 408 or status >= 500:
        return "server error", HailuoTransientError
    return "unexpected HTTP status", HailuoVendorError


def check_download_url(url: object, vendor: str, field_name: str) -> str:
    """A download URL must be an absolute http(s) URL; anything else is a hostile or broken answer."""
    if not isinstance(url, str) or not url:
        raise HailuoProtocolError(f"{field_name} is missing or not a string", vendor=vendor)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise HailuoProtocolError(
            f"{field_name} has scheme {parsed.scheme!r}; only http(s) download URLs are followed",
            vendor=vendor,
        )
    return url


class VendorDialect:
    """Shared behaviour; each vendor subclasses it and overrides what differs."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    default_base_url: ClassVar[str]
    supported_modes: ClassVar[frozenset[Mode]] = frozenset(Mode)
    #: Whether the finished video is found by the ``file_id`` of the status answer (files API).
    video_by_file_id: ClassVar[bool] = True

    # -- connection --------------------------------------------------------------------------
    def base_url(self, extra: Mapping[str, Any]) -> str:
        return self.default_base_url

    def auth_headers(self, api_key: str, extra: Mapping[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"}

    # -- request checks ----------------------------------------------------------------------
    def check_supported(self, request: VideoRequest) -> None:
        if request.mode not in self.supported_modes:
            modes = ", ".join(sorted(m.label for m in self.supported_modes))
            raise HailuoInvalidRequestError(
                f"{self.display_name} does not offer {request.mode.label} generation through its API "
                f"(it offers: {modes}). Use a connection of another vendor for this request.",
                parameter="hailuo_conn_id",
                value=self.name,
            )

    # -- submit / status / files: each dialect implements ------------------------------------
    def build_submit(self, request: VideoRequest) -> HttpRequest:
        raise NotImplementedError

    def parse_submit(self, response: HttpResponse) -> str:
        raise NotImplementedError

    def build_status(self, task_id: str) -> HttpRequest:
        raise NotImplementedError

    def parse_status(self, response: HttpResponse, task_id: str) -> TaskStatus:
        raise NotImplementedError

    def build_file_lookup(self, task_id: str | None, file_id: str | None) -> HttpRequest:
        raise NotImplementedError

    def parse_file_lookup(self, response: HttpResponse, task_id: str | None,
                          file_id: str | None) -> DownloadLocation:
        raise NotImplementedError

    def content_location(self, task_id: str | None, file_id: str | None) -> DownloadLocation | None:
        """Where the vendor's API returns the bytes directly (with the key), if it can."""
        return None

    def estimated_cost(self, model: str | None, resolution: str | None,
                       duration: int | None) -> dict[str, Any] | None:
        """``{"amount", "unit"}`` for one clip at this vendor's published prices; None when it has none."""
        return None

    # -- shared parsing helpers --------------------------------------------------------------
    def trace_id(self, response: HttpResponse, data: Mapping[str, Any] | None = None) -> str | None:
        for name in ("Trace-Id", "X-Trace-Id", "Minimax-Request-Id", "X-Request-Id"):
            value = response.header(name)
            if value:
                return value
        if data and isinstance(data.get("request_id"), str) and data["request_id"]:
            return str(data["request_id"])
        return None

    def error(self, cls: type[HailuoVendorError], message: str, response: HttpResponse | None = None,
              **kwargs: Any) -> HailuoVendorError:
        trace = self.trace_id(response) if response is not None else None
        kwargs.setdefault("trace_id", trace)
        return cls(message, vendor=self.name, **kwargs)

    def http_error(self, status: int, code: int | str | None) -> tuple[str, type[HailuoVendorError]]:
        """Meaning and error class of an HTTP error answer; dialects refine it by the body's code."""
        return http_error_class(status)

    def decode_json(self, response: HttpResponse, endpoint: str, task_id: str | None = None) -> dict[str, Any]:
        """Parse a JSON answer, turning HTTP errors and garbage into the right exceptions."""
        data: Any = None
        if len(response.body) > MAX_JSON_BYTES:
            raise self.error(
                HailuoProtocolError,
                f"{endpoint} answer is {len(response.body):,} bytes, more than a JSON answer can be "
                f"({MAX_JSON_BYTES:,}); refusing it",
                response,
                http_status=response.status,
                task_id=task_id,
            )
        try:
            data = json.loads(response.body.decode("utf-8")) if response.body else None
        except (ValueError, RecursionError):
            # ValueError: bad UTF-8, bad JSON, an integer over Python's 4,300-digit limit;
            # RecursionError: nesting bombs ("[[[[..."). All of them hostile or broken answers.
            data = None
        if response.status >= 400:
            code = _error_code(data)
            meaning, cls = self.http_error(response.status, code)
            detail = _error_detail(data) or _body_excerpt(response.body)
            raise self.error(
                cls,
                f"{endpoint} failed: {detail}" if detail else f"{endpoint} failed",
                response,
                code=code,
                meaning=meaning,
                http_status=response.status,
                task_id=task_id,
            )
        if not isinstance(data, dict):
            # Broken JSON with HTTP 200 is usually a cut connection or a proxy page: worth a retry
            # for idempotent calls, and ambiguous for a submit.
            raise self.error(
                HailuoProtocolError,
                f"{endpoint} answer is not a JSON object: {_body_excerpt(response.body)!r}",
                response,
                http_status=response.status,
                task_id=task_id,
                retryable=True,
            )
        return data

    def check_base_resp(self, data: Mapping[str, Any], response: HttpResponse, endpoint: str,
                        task_id: str | None = None) -> None:
        """MiniMax and DMXAPI answer errors with HTTP 200 and a non-zero base_resp.status_code."""
        base_resp = data.get("base_resp")
        if base_resp is None:
            return
        if not isinstance(base_resp, Mapping):
            raise self.error(HailuoProtocolError, f"{endpoint} answer has a malformed base_resp", response,
                             task_id=task_id)
        raw_code = base_resp.get("status_code", 0)
        try:
            code = int(raw_code)
        except (TypeError, ValueError):
            raise self.error(HailuoProtocolError, f"{endpoint} answer has base_resp.status_code {raw_code!r}",
                             response, task_id=task_id) from None
        if code == 0:
            return
        meaning, cls = BASE_RESP_CODES.get(code, ("unknown vendor error code", HailuoVendorError))
        message = str(base_resp.get("status_msg") or "").strip() or meaning
        raise self.error(cls, f"{endpoint} failed: {message}", response, code=code, meaning=meaning,
                         task_id=task_id)


def _error_detail(data: Any) -> str | None:
    if not isinstance(data, Mapping):
        return None
    error = data.get("error")
    if isinstance(error, Mapping):
        return str(error.get("message") or error.get("msg") or "") or None
    if isinstance(error, str):
        return error
    for key in ("message", "msg", "detail", "error_message"):
        if isinstance(data.get(key), str):
            return str(data[key])
    base_resp = data.get("base_resp")
    if isinstance(base_resp, Mapping) and base_resp.get("status_msg"):
        return str(base_resp["status_msg"])
    return None


def _error_code(data: Any) -> int | str | None:
    if not isinstance(data, Mapping):
        return None
    error = data.get("error")
    if isinstance(error, Mapping) and error.get("code") not in (None, ""):
        code = error["code"]
        return code if isinstance(code, (int, str)) else str(code)
    base_resp = data.get("base_resp")
    if isinstance(base_resp, Mapping) and base_resp.get("status_code"):
        code = base_resp["status_code"]
        return code if isinstance(code, (int, str)) else str(code)
    return None


def _body_excerpt(body: bytes, limit: int = 120) -> str:
    text = body[:limit].decode("utf-8", errors="replace").strip()
    return text + ("..." if len(body) > limit else "")


def as_str_id(value: object, vendor: str, name: str, trace_id: str | None = None) -> str:
    """Ids come as strings or numbers depending on the endpoint; always hand out a string."""
    if isinstance(value, bool) or value is None or value == "":
        raise HailuoProtocolError(f"answer has no usable {name} ({value!r})", vendor=vendor, trace_id=trace_id)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, (str, int)):
        raise HailuoProtocolError(f"answer has {name} of type {type(value).__name__}", vendor=vendor,
                                  trace_id=trace_id)
    return str(value).strip()


def optional_int(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def require_api_key(api_key: object, vendor: str, conn_id: str) -> str:
    if not isinstance(api_key, str) or not api_key.strip():
        raise HailuoConfigurationError(
            f"connection {conn_id!r} ({vendor}) has no API key: put the key in the connection's password "
            "field.",
            parameter="hailuo_conn_id",
            value=conn_id,
        )
    return api_key.strip()
