"""A trigger's client for the length of its wait: the connection re-read before every poll, the
HTTP session shared with every other trigger of that connection and key in the loop.

Re-reading is what makes a rotated key (or a moved host) count at the next poll instead of at the
next trigger; :mod:`.connection_reads` keeps those reads to one in flight per connection, and the
hook reuses its settings while the connection is unchanged. The session comes from
:data:`~airflow_provider_hailuo.transport.shared_sessions.SHARED_SESSIONS`: leased on the first
poll, moved to a new entry when the key changes, given back when the wait ends or is cancelled.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from airflow_provider_hailuo.transport.aio import AsyncTransport
from airflow_provider_hailuo.transport.shared_sessions import SHARED_SESSIONS, SessionKey

if TYPE_CHECKING:
    from airflow_provider_hailuo.hooks.base import ClientSettings, HailuoHook


class PollingClient:
    """``async with PollingClient(hook) as client: transport = await client.transport()`` per poll."""

    def __init__(self, hook: HailuoHook) -> None:
        self.hook = hook
        self._settings: ClientSettings | None = None
        self._key: SessionKey | None = None
        self._transport: AsyncTransport | None = None

    async def __aenter__(self) -> PollingClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def transport(self) -> AsyncTransport:
        """The transport for the next poll, bound to the connection as it is now."""
        settings = await self.hook.aget_settings()
        if self._transport is not None and settings is self._settings:
            return self._transport
        policy = self.hook.retry_policy
        key = SessionKey.of(self.hook.hailuo_conn_id, settings.base_url, settings.headers, policy)
        if key != self._key:
            session = SHARED_SESSIONS.acquire(key)
            previous, self._key = self._key, key
            if previous is not None:
                await SHARED_SESSIONS.release(previous)
        else:
            assert self._transport is not None
            session = self._transport.session
        self._settings = settings
        self._transport = AsyncTransport(settings.base_url, settings.headers, vendor=self.hook.vendor,
                                         policy=policy, session=session)
        return self._transport

    async def close(self) -> None:
        key, self._key, self._transport = self._key, None, None
        if key is not None:
            await SHARED_SESSIONS.release(key)
