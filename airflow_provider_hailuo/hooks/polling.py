"""A trigger's client for the length of its wait: the connection re-read before every poll, the
HTTP session shared with every other trigger of that connection and key in the loop.

Re-reading is what makes a rotated key (or a moved host) count at the next poll instead of at the
next trigger; :mod:`.connection_reads` keeps those reads to one in flight per connection, and the
hook reuses its settings while the connection is unchanged. The session comes from
:data:`~airflow_provider_hailuo.transport.shared_sessions.SHARED_SESSIONS`: leased on the first
poll, moved to a new entry when the key changes, given back when the wait ends or is cancelled.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Any

from airflow_provider_hailuo.transport.aio import AsyncTransport
from airflow_provider_hailuo.transport.shared_sessions import SHARED_SESSIONS, SessionKey

if TYPE_CHECKING:
    from airflow_provider_hailuo.hooks.base import ClientSettings, HailuoHook
    from airflow_provider_hailuo.transport.policy import RetryPolicy


_Hooks = dict[tuple[str, str], "asyncio.Future[Any]"]
_HOOKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Hooks] = weakref.WeakKeyDictionary()
_HOOKS_LOCK = threading.Lock()


def _loop_hooks() -> _Hooks:
    loop = asyncio.get_running_loop()
    with _HOOKS_LOCK:
        found = _HOOKS.get(loop)
        if found is None:
            found = _HOOKS[loop] = {}
        return found


async def polling_hook(conn_id: str, api: str) -> HailuoHook:
    """The loop's hook for (connection, API), made once and shared by its triggers.

    A hook is a dialect and the settings read from the connection; its status calls hold no state
    of their own. Sharing it means one settings derivation and one secret masking per connection
    change instead of one per trigger, and no hook or dialect object per waiting trigger. The
    connection is still re-read at every poll (:meth:`PollingClient.transport`); a hook whose
    read fails is forgotten, so the next trigger builds a new one.
    """
    hooks_here = _loop_hooks()
    made = hooks_here.get((conn_id, api))
    if made is None:
        from airflow_provider_hailuo import hooks

        async def make() -> HailuoHook:
            return (await hooks.aget_hook(conn_id)).for_api(api)

        made = hooks_here[(conn_id, api)] = asyncio.ensure_future(make())
        made.add_done_callback(lambda done: _forget_failed(hooks_here, (conn_id, api), done))
    return await asyncio.shield(made)  # type: ignore[no-any-return]


def _forget_failed(hooks_here: _Hooks, key: tuple[str, str], done: asyncio.Future[Any]) -> None:
    if done.cancelled() or done.exception() is not None:
        if hooks_here.get(key) is done:
            del hooks_here[key]


def forget_hook(hook: HailuoHook) -> None:
    """Drop a shared hook (its connection could not be read or used): the next trigger makes a new one."""
    hooks_here = _loop_hooks()
    for key, made in list(hooks_here.items()):
        if made.done() and not made.cancelled() and made.exception() is None and made.result() is hook:
            del hooks_here[key]


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
        try:
            settings = await self.hook.aget_settings()
        except Exception:
            forget_hook(self.hook)
            raise
        if self._transport is not None and settings is self._settings:
            return self._transport
        policy = self.hook.retry_policy
        key = self._session_key(settings, policy)
        if key != self._key:
            SHARED_SESSIONS.acquire(key)
            previous, self._key = self._key, key
            if previous is not None:
                await SHARED_SESSIONS.release(previous)
        self._settings = settings
        hook = self.hook
        # The transport holds no per-call state: one per session and settings, whoever polls through it.
        self._transport = SHARED_SESSIONS.client(
            key, (settings, policy, hook.vendor),
            lambda session, slots: AsyncTransport(settings.base_url, settings.headers, vendor=hook.vendor,
                                                  policy=policy, session=session, slots=slots))
        return self._transport

    def _session_key(self, settings: ClientSettings, policy: RetryPolicy) -> SessionKey:
        """The session key of these settings, derived once per settings object for the hook's triggers."""
        cached = self.hook.__dict__.get("_polling_session_key")
        if cached is not None and cached[0] is settings and cached[1] is policy:
            return cached[2]  # type: ignore[no-any-return]
        key = SessionKey.of(self.hook.hailuo_conn_id, settings.base_url, settings.headers, policy)
        self.hook.__dict__["_polling_session_key"] = (settings, policy, key)
        return key

    async def close(self) -> None:
        key, self._key, self._transport = self._key, None, None
        if key is not None:
            await SHARED_SESSIONS.release(key)
