"""One call to a vendor API, as both clients make it: the parts that are not I/O, written once.

``SyncTransport`` (requests) and ``AsyncTransport`` (aiohttp) differ only in how bytes move. What
they send (URL, headers), what they refuse (redirects: a redirect of an authenticated call could
carry the key elsewhere), how much of an answer they read (``MAX_JSON_BYTES`` + 1, so a hostile
answer cannot flood memory), the ``HttpResponse`` they build and the error a network failure
becomes all live here. Each client only sorts its own library's exceptions into a
:class:`NetworkFailure`. This module imports neither ``requests`` nor ``aiohttp``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from airflow_provider_hailuo.exceptions import (
    HailuoConnectError,
    HailuoProtocolError,
    HailuoTransientError,
    HailuoVendorError,
)
from airflow_provider_hailuo.transport.policy import DEFAULT_POLICY, RetryAttempts, RetryPolicy
from airflow_provider_hailuo.transport.urls import join_url, redact_url
from airflow_provider_hailuo.vendors.base import MAX_JSON_BYTES, HttpRequest, HttpResponse

USER_AGENT = "airflow-provider-hailuo"
MAX_REDIRECTS = 5
#: Bytes asked of the socket per read of an API answer.
READ_PIECE = 65536


class NetworkFailure(enum.Enum):
    """What went wrong below HTTP, in words both clients can sort their exceptions into."""

    REDIRECT_LOOP = "too many redirects (redirect loop?)"
    NOT_SENT = "could not connect"
    READ_TIMEOUT = "no answer within the read timeout"
    TIMEOUT = "no answer within the timeout"
    BROKEN = "connection failed"


#: (exception classes, failure) pairs a client checks in order; what matches none is BROKEN.
FailureTable = Sequence[tuple["type[BaseException] | tuple[type[BaseException], ...]", NetworkFailure]]


def classify(exc: BaseException, table: FailureTable) -> NetworkFailure:
    return next((failure for types, failure in table if isinstance(exc, types)), NetworkFailure.BROKEN)


def network_error(vendor: str, endpoint: str, failure: NetworkFailure, exc: BaseException) -> HailuoVendorError:
    """The error a network failure becomes; it never quotes the URL (signed ones carry secrets)."""
    if failure is NetworkFailure.REDIRECT_LOOP:
        return HailuoProtocolError(f"{endpoint}: {failure.value}", vendor=vendor, retryable=False)
    if failure is NetworkFailure.NOT_SENT:
        return HailuoConnectError(f"{endpoint}: {failure.value}", vendor=vendor)
    if failure is NetworkFailure.BROKEN:
        return HailuoTransientError(f"{endpoint}: {failure.value} ({exc.__class__.__name__})", vendor=vendor)
    return HailuoTransientError(f"{endpoint}: {failure.value}", vendor=vendor)


class CappedBody:
    """An answer's body, read until it ends or passes ``MAX_JSON_BYTES`` (then it is refused whole)."""

    def __init__(self) -> None:
        self._data = bytearray()

    def take(self, piece: bytes) -> bool:
        """Add a piece; True while more is worth reading."""
        self._data.extend(piece)
        return bool(piece) and len(self._data) <= MAX_JSON_BYTES

    def __bytes__(self) -> bytes:
        return bytes(self._data)


@dataclass(frozen=True)
class ApiCall:
    """One ``HttpRequest`` bound to a base URL and the connection's auth headers."""

    vendor: str
    request: HttpRequest
    url: str
    headers: Mapping[str, str] = field(repr=False)

    @classmethod
    def prepare(cls, base_url: str, request: HttpRequest, auth_headers: Mapping[str, str], *,
                vendor: str) -> ApiCall:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **auth_headers}
        return cls(vendor, request, join_url(base_url, request.path), headers)

    @property
    def params(self) -> dict[str, str] | None:
        return self.request.params or None

    def answer(self, status: int, headers: Mapping[str, str], body: CappedBody) -> HttpResponse:
        """The answer as an ``HttpResponse``; a redirect is refused (set the host to the final URL)."""
        if 300 <= status < 400:
            raise HailuoProtocolError(
                f"{self.request.endpoint}: the API answered with a redirect (HTTP {status}) to "
                f"{redact_url(headers.get('Location', '?'))}; set the connection's host to the final base URL",
                vendor=self.vendor, http_status=status, retryable=False,
            )
        return HttpResponse(status, dict(headers), bytes(body))

    def failed(self, failure: NetworkFailure, exc: BaseException) -> HailuoVendorError:
        return network_error(self.vendor, self.request.endpoint, failure, exc)


class BoundClient:
    """What both clients hold: the base URL, the auth headers (never logged), the vendor, the policy."""

    def __init__(self, base_url: str, headers: Mapping[str, str], *, vendor: str,
                 policy: RetryPolicy = DEFAULT_POLICY) -> None:
        self.base_url = base_url.rstrip("/")
        self.vendor = vendor
        self.policy = policy
        self._headers = dict(headers)

    def prepare(self, request: HttpRequest) -> ApiCall:
        return ApiCall.prepare(self.base_url, request, self._headers, vendor=self.vendor)

    def attempts(self, request: HttpRequest) -> RetryAttempts:
        return self.policy.attempts(idempotent=request.idempotent, what=f"{self.vendor} {request.endpoint}",
                                    labels={"vendor": self.vendor, "endpoint": request.endpoint})
