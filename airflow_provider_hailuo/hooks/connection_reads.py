"""Connection reads in the triggerer, one in flight per (event loop, connection).

Every poll re-reads its connection so that a rotated key is used at the next poll. In the real
triggerer a read is a round trip to its supervisor (plus secret masking), and hundreds of triggers
of one connection poll in the same instants: a poll that starts while a read of the same connection
is in flight waits for that read instead of sending its own. The result is never older than the
read it joined, which started before the poll asked; nothing is cached past it.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

_Reads = dict[tuple[str, Any], "asyncio.Future[Any]"]
_IN_FLIGHT: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Reads] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _reads() -> _Reads:
    loop = asyncio.get_running_loop()
    with _LOCK:
        reads = _IN_FLIGHT.get(loop)
        if reads is None:
            reads = _IN_FLIGHT[loop] = {}
        return reads


async def _read(conn_id: str, hook: Any) -> Any:
    from airflow.providers.common.compat.connection import get_async_connection

    return await get_async_connection(conn_id, hook=hook)


def _forget(reads: _Reads, key: tuple[str, Any], future: asyncio.Future[Any]) -> None:
    if reads.get(key) is future:
        del reads[key]
    if not future.cancelled():
        future.exception()  # retrieved here, so a read nobody waits for any more logs no warning


async def read_connection(conn_id: str, hook: Any = None) -> Any:
    """``get_async_connection(conn_id, hook=hook)``, shared with any identical read in flight.

    The read runs in its own task: a cancelled trigger leaves it running for the others (shield).
    """
    reads = _reads()
    # Reads through the same ``aget_connection`` are the same read, whichever hook class asks.
    method = getattr(hook, "aget_connection", None)
    key = (conn_id, getattr(method, "__func__", method))
    future = reads.get(key)
    if future is None:
        future = asyncio.ensure_future(_read(conn_id, hook))
        reads[key] = future
        future.add_done_callback(lambda done: _forget(reads, key, done))
    return await asyncio.shield(future)
