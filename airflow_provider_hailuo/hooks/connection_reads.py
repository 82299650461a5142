"""Connection reads in the triggerer, one in flight per (event loop, connection).

Every poll re-reads its connection so that a rotated key is used at the next poll. A read is not
cheap: in the real triggerer a round trip to its supervisor plus secret masking, and even an
``AIRFLOW_CONN_*`` read costs ~300 us of CPU (two thread hops and the secrets-backend set-up in
Airflow), about what a whole poll costs. Hundreds of triggers of one connection poll within the
same moments, so a read is gathered for ``GATHER_SECONDS`` and then sent, and every poll that asks
for that connection until its answer arrives shares it. An answer is at most one gather and one
read old; nothing is kept once it has been handed out, so the next poll reads again.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import weakref
from typing import Any

_Reads = dict[tuple[str, Any], "asyncio.Future[Any]"]
_IN_FLIGHT: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Reads] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
#: How long a read waits for other polls of the same connection before it is sent. Polls are many
#: seconds apart, so 50 ms more before one is invisible; at 250 polls/s (1,000 triggers of
#: ``benchmarks/triggerer_scale.py``) it makes one read serve about a dozen polls.
GATHER_SECONDS = 0.05


def _reads() -> _Reads:
    loop = asyncio.get_running_loop()
    with _LOCK:
        reads = _IN_FLIGHT.get(loop)
        if reads is None:
            reads = _IN_FLIGHT[loop] = {}
        return reads


async def _read(conn_id: str, hook: Any) -> Any:
    from airflow.providers.common.compat.connection import get_async_connection

    await asyncio.sleep(GATHER_SECONDS)
    return await get_async_connection(conn_id, hook=hook)


def _forget(reads: _Reads, key: tuple[str, Any], future: asyncio.Future[Any]) -> None:
    if reads.get(key) is future:
        del reads[key]
    if not future.cancelled():
        future.exception()  # retrieved here, so a read nobody waits for any more logs no warning


def fingerprint(conn: Any) -> str:
    """A digest of everything a hook's settings are made of: equal digests, equal settings."""
    fields = (getattr(conn, "conn_type", None), conn.host, conn.port, conn.schema, conn.login, conn.password,
              getattr(conn, "extra", None))
    return hashlib.sha256(repr(fields).encode()).hexdigest()


async def read_connection(conn_id: str, hook: Any = None) -> Any:
    """``get_async_connection(conn_id, hook=hook)``, shared with any identical read gathering or in flight.

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
