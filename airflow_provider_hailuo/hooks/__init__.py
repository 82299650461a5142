"""Hooks: one per vendor connection type, and the lookup from a conn id to its hook."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_hailuo.hooks.base import HailuoHook

#: conn_type -> "module:Class"; imported lazily so DAG parsing does not pay for aiohttp.
HOOK_CLASSES = {
    "hailuo_minimax": "airflow_provider_hailuo.hooks.minimax:MiniMaxHook",
    "hailuo_dmxapi": "airflow_provider_hailuo.hooks.dmxapi:DMXAPIHook",
    "hailuo_modelverse": "airflow_provider_hailuo.hooks.modelverse:ModelverseHook",
}


def hook_class_for_conn_type(conn_type: str | None, conn_id: str) -> type[HailuoHook]:
    import importlib

    from airflow_provider_hailuo.exceptions import HailuoConfigurationError

    key = (conn_type or "").replace("-", "_")
    if key not in HOOK_CLASSES:
        raise HailuoConfigurationError(
            f"connection {conn_id!r} has conn_type {conn_type!r}, which is not a Hailuo connection. "
            f"Allowed: {', '.join(HOOK_CLASSES)}.",
            parameter="hailuo_conn_id",
            value=conn_id,
        )
    module, name = HOOK_CLASSES[key].split(":")
    return getattr(importlib.import_module(module), name)


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
    """Async-safe variant for triggers."""
    from airflow.providers.common.compat.connection import get_async_connection

    from airflow_provider_hailuo.hooks.base import connection_not_found

    try:
        conn = await get_async_connection(conn_id)
    except Exception as exc:
        connection_not_found(exc, conn_id)
        raise
    hook = hook_class_for_conn_type(conn.conn_type, conn_id)(conn_id, **kwargs)  # type: ignore[arg-type]
    hook.__dict__["_prefetched_connection"] = conn  # aget_settings reuses it: one lookup per trigger run
    return hook
