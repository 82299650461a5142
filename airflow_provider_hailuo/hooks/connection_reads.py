"""Connection reads in the triggerer, gathered per (event loop, connection).

Every poll re-reads its connection so that a rotated key is used at the next poll. A read is not
cheap: in the real triggerer a round trip to its supervisor plus secret masking, and even an
``AIRFLOW_CONN_*`` read costs ~300 us of CPU (two thread hops and the secrets-backend set-up in
Airflow), about what a whole poll costs. Hundreds of triggers of one connection poll within the
same moments, so a read waits ``GATHER_SECONDS`` for the other polls asking for that connection and
is then sent once for all of them. A poll never joins a read already sent: every answer comes from
a read that started after the poll asked. Nothing is kept once the answer is handed out.

Each poll waits on a plain future of its own (cancelling it leaves the read to the others), not on
a chain of coroutines and ``asyncio.shield`` closures, so a waiting poll holds fewer objects for the
length of the gathering. (Measured in ``benchmarks/triggerer_scale.py`` at 3,000 triggers: it did
not change the count of full garbage collections or the worst lag measurably.)
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import weakref
from typing import Any


class _Read:
    """One read being gathered: the futures of the polls waiting for it."""

    __slots__ = ("task", "waiters")

    def __init__(self) -> None:
        self.waiters: list[asyncio.Future[Any]] = []
        self.task: asyncio.Task[None] | None = None


_Reads = dict[tuple[str, Any], _Read]
_GATHERING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Reads] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
#: How long a read waits for other polls of the same connection before it is sent. Polls are many
#: seconds apart, so 50 ms more before one is invisible; at 250 polls/s (1,000 triggers of
#: ``benchmarks/triggerer_scale.py``) it makes one read serve about a dozen polls.
GATHER_SECONDS = 0.05


def _reads() -> _Reads:
    loop = asyncio.get_running_loop()
    with _LOCK:
        reads = _GATHERING.get(loop)
        if reads is None:
            reads = _GATHERING[loop] = {}
        return reads


async def _read(conn_id: str, hook: Any, reads: _Reads, key: tuple[str, Any], read: _Read) -> None:
    from airflow.providers.common.compat.connection import get_async_connection

    try:
        await asyncio.sleep(GATHER_SECONDS)
    finally:
        if reads.get(key) is read:  # sent (or cancelled): later polls gather a read of their own
            del reads[key]
    try:
        conn = await get_async_connection(conn_id, hook=hook)
    except asyncio.CancelledError:
        for waiter in read.waiters:
            waiter.cancel()
        raise
    except Exception as exc:  # every waiter gets the read's error; none is kept
        for waiter in read.waiters:
            if not waiter.done():
                waiter.set_exception(exc)
        return
    for waiter in read.waiters:
        if not waiter.done():  # a cancelled poll
            waiter.set_result(conn)


def fingerprint(conn: Any) -> str:
    """A digest of everything a hook's settings are made of: equal digests, equal settings."""
    fields = (getattr(conn, "conn_type", None), conn.host, conn.port, conn.schema, conn.login, conn.password,
              getattr(conn, "extra", None))
    return hashlib.sha256(repr(fields).encode()).hexdigest()


def read_connection(conn_id: str, hook: Any = None) -> asyncio.Future[Any]:
    """A future of ``get_async_connection(conn_id, hook=hook)``, shared with the polls gathering for it.

    Await it in the running loop. The read runs in a task of its own: cancelling one caller's future
    leaves it running for the others.
    """
    reads = _reads()
    # Reads through the same ``aget_connection`` are the same read, whichever hook class asks.
    method = getattr(hook, "aget_connection", None)
    key = (conn_id, getattr(method, "__func__", method))
    read = reads.get(key)
    if read is None:
        read = reads[key] = _Read()
        read.task = asyncio.ensure_future(_read(conn_id, hook, reads, key, read))
    waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    read.waiters.append(waiter)
    return waiter
