"""Asynchronous transport (aiohttp) with the same retry policy and call rules as the sync one.

Used by the trigger on a session shared by every trigger of its connection in the loop
(:mod:`.shared_sessions`), and with a session of its own elsewhere (``async with``). What a
call sends, refuses and becomes lives in :mod:`.call`; this module does not import requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import aiohttp

from airflow_provider_hailuo.transport import call as api
from airflow_provider_hailuo.transport.policy import DEFAULT_POLICY, RetryPolicy
from airflow_provider_hailuo.transport.shared_sessions import new_session
from airflow_provider_hailuo.vendors.base import HttpRequest, HttpResponse

T = TypeVar("T")


#: aiohttp's exceptions, in the words of call.NetworkFailure (a connector error: nothing was sent).
FAILURES: api.FailureTable = (
    (aiohttp.TooManyRedirects, api.NetworkFailure.REDIRECT_LOOP),
    (aiohttp.ClientConnectorError, api.NetworkFailure.NOT_SENT),
    (asyncio.TimeoutError, api.NetworkFailure.TIMEOUT),
)


class AsyncTransport(api.BoundClient):
    """``async with AsyncTransport(...) as transport: await transport.execute(request, parse)``."""

    def __init__(self, base_url: str, headers: Mapping[str, str], *, vendor: str,
                 policy: RetryPolicy = DEFAULT_POLICY, session: aiohttp.ClientSession | None = None,
                 slots: asyncio.Semaphore | None = None) -> None:
        super().__init__(base_url, headers, vendor=vendor, policy=policy)
        self._session = session
        #: Bounds this session's requests in flight (a shared session: its pool's size), taken before
        #: a request is built, so the polls waiting for a connection hold nothing but their place.
        self._slots = slots
        self._owns_session = session is None

    async def __aenter__(self) -> AsyncTransport:
        if self._session is None:
            self._session = new_session(self.policy.connect_timeout, self.policy.read_timeout)
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
        if self._slots is None:
            return await self._send(request)
        async with self._slots:
            return await self._send(request)

    async def _send(self, request: HttpRequest) -> HttpResponse:
        call = self.prepare(request)
        try:
            body_args: dict[str, Any] = {"json": request.json}
            if request.files:  # a multipart upload, as the sync transport sends it
                form = aiohttp.FormData(request.form)
                for name, filename, data, mime in request.files:
                    form.add_field(name, data, filename=filename, content_type=mime)
                body_args = {"data": form}
            async with self.session.request(request.method, call.url, params=call.params,
                                            headers=dict(call.headers), allow_redirects=False, **body_args) as resp:
                body = api.CappedBody()
                while body.take(await resp.content.read(api.READ_PIECE)):
                    pass
                return call.answer(resp.status, resp.headers, body)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise call.failed(api.classify(exc, FAILURES), exc) from None

    async def execute(self, request: HttpRequest, parse: Callable[[HttpResponse], T], *,
                      sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
        """Send and parse, retrying what the policy allows (the same RetryAttempts as the sync one)."""
        attempts = self.attempts(request)
        while True:
            with attempts:
                return parse(await self.send(request))
            await sleep(attempts.delay)
