"""What every vendor dialect shares: HTTP request/response values and error mapping.

A dialect is sans-I/O (in the manner of h11): it turns a :class:`VideoRequest` into an
:class:`HttpRequest` and an :class:`HttpResponse` into a task id, a :class:`TaskStatus` or a
:class:`DownloadLocation`, raising the right :mod:`~airflow_provider_hailuo.exceptions` error.
All vendor differences live in the dialect modules; nothing here opens a socket.
"""

from __future__ import annotations

import enum
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
    HailuoProtocolError,
    HailuoRateLimitError,
    HailuoTransientError,
    HailuoVendorError,
    HailuoVendorInvalidRequestError,
)
from airflow_provider_hailuo.vendors.spec import VendorSpec


class DownloadSource(str, enum.Enum):
    """Where the bytes of a finished video can come from, in the words of the download plan."""

    SIGNED_URL = "signed URL"
    BACKUP_URL = "backup URL"
    CONTENT = "the vendor API's content endpoint"


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
    #: Multipart form fields and files ``(field, filename, bytes, mime)``; when set, sent instead of ``json``.
    form: dict[str, str] = field(default_factory=dict)
    files: tuple[tuple[str, str, bytes, str], ...] = field(default=(), repr=False)


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


def map_status_word(word: object, words: Mapping[str, TaskState] = STATUS_WORDS) -> TaskState | None:
    if not isinstance(word, str):
        return None
    return words.get(word.strip().lower())


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
    """Shared behaviour; each vendor API subclasses it, declares its ``spec`` and overrides what differs.

    ``name``, ``display_name`` and ``default_base_url`` are copied from the spec, so a dialect
    class answers them without an instance.
    """

    spec: ClassVar[VendorSpec]
    name: ClassVar[str]
    display_name: ClassVar[str]
    default_base_url: ClassVar[str]
    supported_modes: ClassVar[frozenset[Mode]] = frozenset(Mode)
    #: Whether the finished video is found by the ``file_id`` of the status answer (files API).
    video_by_file_id: ClassVar[bool] = True
    #: The vendor's status words (lower-cased) -> TaskState.
    status_words: ClassVar[Mapping[str, TaskState]] = STATUS_WORDS
    #: Answer headers that carry the vendor's request id, first found wins.
    trace_headers: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("spec")
        if spec is not None:
            cls.name, cls.display_name, cls.default_base_url = spec.name, spec.display_name, spec.default_base_url

    #: The API versions this vendor serves, "v1" (this dialect) first; see :meth:`for_api`.
    apis: ClassVar[tuple[str, ...]] = ("v1",)
    #: Which of them this dialect speaks.
    api: ClassVar[str] = "v1"
    #: Whether a queued task can be cancelled (DELETE) so it is not charged.
    can_cancel: ClassVar[bool] = False

    # -- which API -----------------------------------------------------------------------------
    def for_api(self, api: str, model: object = None) -> VendorDialect:
        """The dialect of API ``api`` on this vendor's connection; refused (parameter ``model``) when
        the vendor does not serve it, before anything is sent."""
        if api == "v1":
            return self
        raise HailuoInvalidRequestError(
            f"model {model!r} is served on API {api}, which {self.display_name} does not offer through a "
            f"{self.spec.conn_type} connection (it serves: {', '.join(self.apis)}). Use a connection of a vendor "
            "that serves it, or a model of this vendor's API.",
            parameter="model",
            value=model if model is not None else api,
        )

    def configure(self, extra: Mapping[str, Any], conn_id: str | None = None) -> None:
        """Read what the dialect needs of the connection's extra (price region or table); no I/O."""

    # -- connection --------------------------------------------------------------------------
    def base_url(self, extra: Mapping[str, Any]) -> str:
        return self.spec.base_url(extra)

    def auth_headers(self, api_key: str, extra: Mapping[str, Any]) -> dict[str, str]:
        return self.spec.auth_headers(api_key, extra)

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

    # -- calls only some APIs have (MiniMax v2): cancel, upload, list, prompt enhancer, re-render --
    def _no_call(self, what: str, value: object = None) -> HailuoConfigurationError:
        return HailuoConfigurationError(f"{self.display_name} has no {what}", parameter="hailuo_conn_id",
                                        value=value if value is not None else self.name)

    def build_cancel(self, task_id: str) -> HttpRequest:
        raise self._no_call("cancel call", task_id)

    def build_upload(self, upload: Any) -> HttpRequest:
        raise self._no_call("media upload call")

    def build_list(self, **filters: Any) -> HttpRequest:
        raise self._no_call("task list call")

    def build_context_ir(self, request: Any) -> HttpRequest:
        raise self._no_call("prompt enhancer")

    def build_regeneration(self, model: str, *, source_task_id: str | None = None, request: Any = None,
                           base_video_url: str | None = None) -> HttpRequest:
        raise self._no_call("re-render call")

    def parse_cancel(self, response: HttpResponse, task_id: str) -> Any: raise NotImplementedError  # noqa: E704
    def parse_upload(self, response: HttpResponse) -> str: raise NotImplementedError  # noqa: E704
    def parse_list(self, response: HttpResponse) -> Any: raise NotImplementedError  # noqa: E704

    def is_access_refusal(self, error: BaseException) -> bool:
        """Whether the vendor refused a call because the account lacks access to that form of it."""
        return False

    def estimated_cost(self, model: str | None, resolution: str | None,
                       duration: int | None) -> dict[str, Any] | None:
        """``{"amount", "unit"}`` for one clip at this vendor's published prices; None when it has none."""
        return None

    def download_plan(self, location: DownloadLocation, content: DownloadLocation | None) -> list[DownloadSource]:
        """The ordered sources to try for the bytes: the signed URL, its backup, then the vendor API's
        own content endpoint; a signed URL refused as expired is looked up afresh (see transfers/download)."""
        if location.content_path:
            return [DownloadSource.CONTENT]
        plan = [DownloadSource.SIGNED_URL] if location.url else []
        if location.backup_url:
            plan.append(DownloadSource.BACKUP_URL)
        if content is not None:
            plan.append(DownloadSource.CONTENT)
        return plan

    # -- shared parsing helpers --------------------------------------------------------------
    def trace_id(self, response: HttpResponse, data: Mapping[str, Any] | None = None) -> str | None:
        for name in self.trace_headers:
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
            code = self.error_code(data)
            meaning, cls = self.http_error(response.status, code)
            detail = self.error_detail(data) or _body_excerpt(response.body)
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

    def error_detail(self, data: Any) -> str | None:
        """The human-readable reason of an HTTP error answer (OpenAI-style ``error`` object and kin)."""
        return _error_detail(data)

    def error_code(self, data: Any) -> int | str | None:
        return _error_code(data)


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
    return None


def _error_code(data: Any) -> int | str | None:
    if not isinstance(data, Mapping):
        return None
    error = data.get("error")
    if isinstance(error, Mapping) and error.get("code") not in (None, ""):
        code = error["code"]
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
