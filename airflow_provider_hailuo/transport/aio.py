"""Asynchronous transport (aiohttp) with the same retry policy as the sync one.

Used by the trigger: one ``aiohttp.ClientSession`` per trigger run, reused across polls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TypeVar

import aiohttp

from airflow_provider_hailuo.exceptions import (
    HailuoError,
    HailuoProtocolError,
    HailuoTransientError,
    HailuoVendorError,
)
from airflow_provider_hailuo.transport.policy import DEFAULT_POLICY, RetryPolicy
from airflow_provider_hailuo.transport.sync import USER_AGENT
from airflow_provider_hailuo.transport.urls import join_url, redact_url
from airflow_provider_hailuo.vendors.base import MAX_JSON_BYTES, HttpRequest, HttpResponse

log = logging.getLogger(__name__)
T = TypeVar("T")


def network_error(vendor: str, endpoint: str, exc: BaseException) -> HailuoVendorError:
    if isinstance(exc, aiohttp.TooManyRedirects):
        return HailuoProtocolError(f"{endpoint}: too many redirects (redirect loop?)", vendor=vendor,
                                   retryable=False)
    not_sent = isinstance(exc, aiohttp.ClientConnectorError)
    if isinstance(exc, asyncio.TimeoutError):
        detail = "no answer within the timeout"
    elif not_sent:
        detail = "could not connect"
    else:
        detail = f"connection failed ({exc.__class__.__name__})"
    error = HailuoTransientError(f"{endpoint}: {detail}", vendor=vendor)
    error.not_sent = not_sent  # type: ignore[attr-defined]
    return error


class AsyncTransport:
    """``async with AsyncTransport(...) as transport: await transport.execute(request, parse)``."""

    def __init__(self, base_url: str, headers: Mapping[str, str], *, vendor: str,
                 policy: RetryPolicy = DEFAULT_POLICY, session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.vendor = vendor
        self.policy = policy
        self._headers = dict(headers)
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> AsyncTransport:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(sock_connect=self.policy.connect_timeout,
                                            sock_read=self.policy.read_timeout,
                                            total=self.policy.connect_timeout + self.policy.read_timeout)
            self._session = aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": USER_AGENT})
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("AsyncTransport used outside 'async with'")
        return self._session

    async def send(self, request: HttpRequest) -> HttpResponse:
        url = join_url(self.base_url, request.path)
        headers = {"Accept": "application/json", **self._headers}
        try:
            async with self.session.request(request.method, url, params=request.params or None,
                                            json=request.json, headers=headers, allow_redirects=False) as resp:
                if 300 <= resp.status < 400:
                    raise HailuoProtocolError(
                        f"{request.endpoint}: the API answered with a redirect (HTTP {resp.status}) to "
                        f"{redact_url(resp.headers.get('Location', '?'))}; set the connection's host to the "
                        "final base URL",
                        vendor=self.vendor, http_status=resp.status, retryable=False,
                    )
                body = bytearray()
                while len(body) <= MAX_JSON_BYTES:
                    chunk = await resp.content.read(65536)
                    if not chunk:
                        break
                    body.extend(chunk)
                return HttpResponse(resp.status, dict(resp.headers), bytes(body))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise network_error(self.vendor, request.endpoint, exc) from None

    async def execute(self, request: HttpRequest, parse: Callable[[HttpResponse], T], *,
                      sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
        """Send and parse, retrying what the policy allows (the same loop as the sync transport)."""
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return parse(await self.send(request))
            except HailuoError as error:
                delay = self.policy.next_retry(error, idempotent=request.idempotent, attempt=attempt,
                                               started=started, what=f"{self.vendor} {request.endpoint}")
                if delay is None:
                    raise
            await sleep(delay)
