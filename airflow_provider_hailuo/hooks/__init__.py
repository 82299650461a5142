"""Hooks: one per vendor connection type, and the lookup from a conn id to its hook.

Which hook serves a connection type comes from the vendor registry (``vendors/registry.py``):
a dialect's spec names its hook class, or, for a dialect without one, a generic hook is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_hailuo.hooks.base import HailuoHook


def hook_class_for_conn_type(conn_type: str | None, conn_id: str) -> type[HailuoHook]:
    from airflow_provider_hailuo.hooks.base import hook_class_for
    from airflow_provider_hailuo.vendors.registry import dialect_for_conn_type

    return hook_class_for(dialect_for_conn_type(conn_type, conn_id))


def get_hook(conn_id: str, **kwargs: object) -> HailuoHook:
    """The hook of the connection's vendor (sync lookup; for workers, not triggers)."""
    from airflow.sdk import BaseHook

    from airflow_provider_hailuo.hooks.base import connection_not_found

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:
        connection_not_found(exc, conn_id)
        raise
    return hook_class_for_conn_type(conn.conn_type, conn_id)(conn_id, **kwargs)  # type: ignore[arg-type]


async def aget_hook(conn_id: str, **kwargs: object) -> HailuoHook:
    """Async-safe variant for triggers (the read is shared with any read of ``conn_id`` in flight)."""
    from airflow.sdk import BaseHook

    from airflow_provider_hailuo.hooks.base import connection_not_found
    from airflow_provider_hailuo.hooks.connection_reads import read_connection

    try:
        conn = await read_connection(conn_id, BaseHook)
    except Exception as exc:
        connection_not_found(exc, conn_id)
        raise
    hook = hook_class_for_conn_type(conn.conn_type, conn_id)(conn_id, **kwargs)  # type: ignore[arg-type]
    hook.__dict__["_prefetched_connection"] = conn  # aget_settings reuses it: one lookup per trigger run
    return hook
