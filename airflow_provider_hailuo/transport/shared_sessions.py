"""One aiohttp ``ClientSession`` per (event loop, connection, key), shared by every trigger using it.

A triggerer runs hundreds of triggers of one connection in one loop; a session per trigger costs
each of them a connector, a resolver, a keep-alive pool and a TCP connect
(``benchmarks/triggerer_scale.py``). Here a session is created lazily inside the running loop on
the first lease, counted, and closed when its last user leaves. Entries are keyed by the loop
first, so two loops (two threads, two ``asyncio.run``) never share one: aiohttp sessions are bound
to the loop that created them. The key includes a hash of the auth headers, so a rotated key gets
its own entry and the old session closes when its last trigger has moved over.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

from airflow_provider_hailuo.transport.call import USER_AGENT
from airflow_provider_hailuo.transport.policy import RetryPolicy

T = TypeVar("T")


@dataclass(frozen=True)
class SessionKey:
    """What one shared session serves: a connection at one base URL with one key and one policy."""

    conn_id: str
    base_url: str
    #: sha256 of the auth headers: the key itself is never part of a dict key or a repr.
    headers_digest: str
    connect_timeout: float
    read_timeout: float

    @classmethod
    def of(cls, conn_id: str, base_url: str, headers: Mapping[str, str], policy: RetryPolicy) -> SessionKey:
        digest = hashlib.sha256(repr(sorted(headers.items())).encode()).hexdigest()
        return cls(conn_id, base_url, digest, policy.connect_timeout, policy.read_timeout)


class _Entry:
    __slots__ = ("client", "session", "slots", "users")

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        # One slot per connection the pool may open: a poll takes one before it builds its request,
        # so polls beyond the pool wait as one future each instead of as a queued aiohttp request
        # (request, URL, headers, timers, closures: ~50 objects) that the garbage collector walks.
        self.slots = asyncio.Semaphore(session.connector.limit if session.connector and session.connector.limit
                                       else 100)
        self.users = 0
        #: The client built on this session for its users (``(what it was built for, client)``).
        self.client: tuple[object, Any] | None = None


def new_session(connect_timeout: float, read_timeout: float) -> aiohttp.ClientSession:
    """The session every async client of this package uses (timeouts from the policy, our User-Agent).

    No ``sock_read``: its timer is re-armed at every piece of data received, a cost on every poll of
    every trigger, and an answer here is one small JSON body, which ``total`` (connect + read)
    bounds as well.
    """
    timeout = aiohttp.ClientTimeout(sock_connect=connect_timeout, total=connect_timeout + read_timeout)
    return aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": USER_AGENT})


class SharedSessions:
    """Reference-counted sessions: :meth:`acquire` in the running loop, :meth:`release` once each."""

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[SessionKey, _Entry]] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()  # the registry is process-wide; loops may run in several threads

    def _entries(self) -> dict[SessionKey, _Entry]:
        loop = asyncio.get_running_loop()
        with self._lock:
            entries = self._by_loop.get(loop)
            if entries is None:
                entries = self._by_loop[loop] = {}
            return entries

    def acquire(self, key: SessionKey) -> aiohttp.ClientSession:
        """The loop's session for ``key``, created on first use; the caller must :meth:`release` it."""
        entries = self._entries()
        entry = entries.get(key)
        if entry is None or entry.session.closed:
            entry = entries[key] = _Entry(new_session(key.connect_timeout, key.read_timeout))
        entry.users += 1
        return entry.session

    def slots(self, key: SessionKey) -> asyncio.Semaphore:
        """The semaphore bounding ``key``'s requests in flight to its pool's size (acquire first)."""
        return self._entries()[key].slots

    def client(self, key: SessionKey, built_for: object,
               build: Callable[[aiohttp.ClientSession, asyncio.Semaphore], T]) -> T:
        """One client object on ``key``'s session for all its users, rebuilt when ``built_for``
        changes (a stateless transport: thousands of triggers then hold one, not one each)."""
        entry = self._entries()[key]
        if entry.client is None or entry.client[0] != built_for:
            entry.client = (built_for, build(entry.session, entry.slots))
        return entry.client[1]  # type: ignore[no-any-return]

    async def release(self, key: SessionKey) -> None:
        """One user fewer; the last one closes the session. Safe in a cancelled task: aiohttp closes
        the connector before its first suspension, so a second cancellation cannot leave it open."""
        entries = self._entries()
        entry = entries.get(key)
        if entry is None:
            return
        entry.users -= 1
        if entry.users > 0:
            return
        del entries[key]
        await entry.session.close()

    def open_sessions(self) -> int:
        """Sessions open in the running loop (for tests and benchmarks)."""
        return len(self._entries())


#: The process's registry: the triggerer runs every trigger in one process.
SHARED_SESSIONS = SharedSessions()
