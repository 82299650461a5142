"""Synchronous transport (requests): runs a dialect's HttpRequest with timeouts and retries.

What a call sends, refuses and becomes lives in :mod:`.call`; this module only moves the bytes
with requests and sorts requests' exceptions into a :class:`~.call.NetworkFailure`.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

import requests
import urllib3
from requests.adapters import HTTPAdapter

from airflow_provider_hailuo.transport import call as api
from airflow_provider_hailuo.transport.policy import DEFAULT_POLICY, RetryPolicy
from airflow_provider_hailuo.vendors.base import HttpRequest, HttpResponse

T = TypeVar("T")
#: What urllib3 and the socket layer raise when no connection was opened (nothing was sent).
_NEVER_CONNECTED = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError,
                    ConnectionRefusedError, socket.gaierror)


def _never_connected(exc: BaseException) -> bool:
    """Whether the causes requests wrapped (MaxRetryError.reason, __cause__) say no connection opened."""
    seen: list[BaseException] = []
    pending: list[object] = [exc]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or any(item is done for done in seen):
            continue
        if isinstance(item, _NEVER_CONNECTED):
            return True
        seen.append(item)
        pending.extend([*item.args, getattr(item, "reason", None), item.__cause__, item.__context__])
    return False


#: requests' exceptions, in the words of call.NetworkFailure.
FAILURES: api.FailureTable = (
    (requests.exceptions.TooManyRedirects, api.NetworkFailure.REDIRECT_LOOP),
    (requests.exceptions.ConnectTimeout, api.NetworkFailure.NOT_SENT),
    (requests.exceptions.ReadTimeout, api.NetworkFailure.READ_TIMEOUT),
)


def failure_of(exc: requests.exceptions.RequestException) -> api.NetworkFailure:
    """A ConnectionError whose cause says no connection opened is NOT_SENT; the rest by FAILURES."""
    if isinstance(exc, requests.exceptions.ConnectionError) and _never_connected(exc):
        return api.NetworkFailure.NOT_SENT
    return api.classify(exc, FAILURES)


class SyncTransport(api.BoundClient):
    """One requests.Session per hook: connection reuse, timeouts, retries."""

    def __init__(self, base_url: str, headers: Mapping[str, str], *, vendor: str,
                 policy: RetryPolicy = DEFAULT_POLICY, session: requests.Session | None = None) -> None:
        super().__init__(base_url, headers, vendor=vendor, policy=policy)
        self.session = session or requests.Session()
        self.session.max_redirects = api.MAX_REDIRECTS
        self.session.trust_env = True
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.policy.connect_timeout, self.policy.read_timeout)

    def send(self, request: HttpRequest) -> HttpResponse:
        """One attempt (see :class:`~.call.ApiCall` for what is refused and how much is read)."""
        call = self.prepare(request)
        try:
            with self.session.request(request.method, call.url, params=call.params, json=request.json,
                                      headers=dict(call.headers), timeout=self.timeout, allow_redirects=False,
                                      stream=True) as response:
                body = api.CappedBody()
                for piece in response.iter_content(api.READ_PIECE):
                    if not body.take(piece):
                        break
                return call.answer(response.status_code, response.headers, body)
        except requests.exceptions.RequestException as exc:
            raise call.failed(failure_of(exc), exc) from None

    def execute(self, request: HttpRequest, parse: Callable[[HttpResponse], T], *,
                sleep: Callable[[float], None] = time.sleep) -> T:
        """Send and parse, retrying what the policy allows; parse errors count as failed attempts."""
        attempts = self.attempts(request)
        while True:
            with attempts:
                return parse(self.send(request))
            sleep(attempts.delay)

    @contextmanager
    def open_stream(self, url: str, *, headers: Mapping[str, str] | None = None,
                    authenticated: bool = False, start: int = 0,
                    params: Mapping[str, str] | None = None) -> Iterator[requests.Response]:
        """Open a streaming GET. Signed URLs get no key (authenticated=False); the vendor API does."""
        sent = {"User-Agent": api.USER_AGENT, **(headers or {})}
        if authenticated:
            sent.update(self._headers)
        if start:
            sent["Range"] = f"bytes={start}-"
        try:
            response = self.session.get(url, headers=sent, params=params, stream=True, timeout=self.timeout,
                                        allow_redirects=not authenticated)
        except requests.exceptions.RequestException as exc:
            raise api.network_error(self.vendor, "download", failure_of(exc), exc) from None
        try:
            yield response
        finally:
            response.close()

    def close(self) -> None:
        self.session.close()
