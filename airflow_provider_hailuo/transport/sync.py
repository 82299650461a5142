"""Synchronous transport (requests): runs a dialect's HttpRequest with timeouts and retries."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

import requests
from requests.adapters import HTTPAdapter

from airflow_provider_hailuo.exceptions import (
    HailuoError,
    HailuoProtocolError,
    HailuoTransientError,
    HailuoVendorError,
)
from airflow_provider_hailuo.transport.policy import DEFAULT_POLICY, RetryPolicy
from airflow_provider_hailuo.transport.urls import join_url, redact_url
from airflow_provider_hailuo.vendors.base import MAX_JSON_BYTES, HttpRequest, HttpResponse

log = logging.getLogger(__name__)
T = TypeVar("T")
USER_AGENT = "airflow-provider-hailuo"
MAX_REDIRECTS = 5


def _connect_failed(exc: BaseException) -> bool:
    """requests wraps 'could not open a connection' in ConnectionError; nothing was sent then."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text or "NameResolutionError" in text


def network_error(vendor: str, endpoint: str, exc: BaseException) -> HailuoVendorError:
    """Map a requests exception to our error, never quoting URLs (signed ones carry secrets)."""
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return HailuoProtocolError(f"{endpoint}: too many redirects (redirect loop?)", vendor=vendor,
                                   retryable=False)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        detail = "no answer within the read timeout"
    elif _connect_failed(exc):
        detail = "could not connect"
    else:
        detail = f"connection failed ({exc.__class__.__name__})"
    error = HailuoTransientError(f"{endpoint}: {detail}", vendor=vendor)
    error.not_sent = _connect_failed(exc)  # type: ignore[attr-defined]
    return error


class SyncTransport:
    """One requests.Session per hook: connection reuse, timeouts, retries."""

    def __init__(self, base_url: str, headers: Mapping[str, str], *, vendor: str,
                 policy: RetryPolicy = DEFAULT_POLICY, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.vendor = vendor
        self.policy = policy
        self._headers = dict(headers)
        self.session = session or requests.Session()
        self.session.max_redirects = MAX_REDIRECTS
        self.session.trust_env = True
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.policy.connect_timeout, self.policy.read_timeout)

    def send(self, request: HttpRequest) -> HttpResponse:
        """One attempt; the body is read up to MAX_JSON_BYTES + 1 so a hostile answer cannot flood memory."""
        url = join_url(self.base_url, request.path)
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **self._headers}
        try:
            with self.session.request(
                request.method, url, params=request.params or None, json=request.json, headers=headers,
                timeout=self.timeout, allow_redirects=False, stream=True,
            ) as response:
                if 300 <= response.status_code < 400:
                    raise HailuoProtocolError(
                        f"{request.endpoint}: the API answered with a redirect (HTTP {response.status_code}) to "
                        f"{redact_url(response.headers.get('Location', '?'))}; set the connection's host to the "
                        "final base URL",
                        vendor=self.vendor, http_status=response.status_code, retryable=False,
                    )
                body = bytearray()
                for chunk in response.iter_content(65536):
                    body.extend(chunk)
                    if len(body) > MAX_JSON_BYTES:
                        break
                return HttpResponse(response.status_code, dict(response.headers), bytes(body))
        except requests.exceptions.RequestException as exc:
            raise network_error(self.vendor, request.endpoint, exc) from None

    def execute(self, request: HttpRequest, parse: Callable[[HttpResponse], T], *,
                sleep: Callable[[float], None] = time.sleep) -> T:
        """Send and parse, retrying what the policy allows; parse errors count as failed attempts."""
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return parse(self.send(request))
            except HailuoError as error:
                delay = self.policy.next_retry(error, idempotent=request.idempotent, attempt=attempt,
                                               started=started, what=f"{self.vendor} {request.endpoint}")
                if delay is None:
                    raise
            sleep(delay)

    @contextmanager
    def open_stream(self, url: str, *, headers: Mapping[str, str] | None = None,
                    authenticated: bool = False, start: int = 0,
                    params: Mapping[str, str] | None = None) -> Iterator[requests.Response]:
        """Open a streaming GET. Signed URLs get no key (authenticated=False); the vendor API does."""
        sent = {"User-Agent": USER_AGENT, **(headers or {})}
        if authenticated:
            sent.update(self._headers)
        if start:
            sent["Range"] = f"bytes={start}-"
        try:
            response = self.session.get(url, headers=sent, params=params, stream=True, timeout=self.timeout,
                                        allow_redirects=not authenticated)
        except requests.exceptions.RequestException as exc:
            raise network_error(self.vendor, "download", exc) from None
        try:
            yield response
        finally:
            response.close()

    def close(self) -> None:
        self.session.close()
