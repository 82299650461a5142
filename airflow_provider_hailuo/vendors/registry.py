"""The vendor APIs this provider knows, by connection type.

A new vendor API is one dialect module (with its ``spec``) plus one line in ``BUILTIN_DIALECTS``;
a dialect defined elsewhere (a test, a plugin) joins with :func:`register`. Hooks, provider
metadata, the operators' default connection and the transfer all ask this registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_hailuo.exceptions import HailuoConfigurationError
from airflow_provider_hailuo.vendors.dmxapi import DMXAPIDialect
from airflow_provider_hailuo.vendors.minimax import MiniMaxDialect
from airflow_provider_hailuo.vendors.modelverse import ModelverseDialect

if TYPE_CHECKING:
    from airflow_provider_hailuo.vendors.base import VendorDialect
    from airflow_provider_hailuo.vendors.spec import VendorSpec

#: The built-in dialects, the default one first (the operators' and the sensor's default connection).
BUILTIN_DIALECTS: tuple[type[VendorDialect], ...] = (MiniMaxDialect, DMXAPIDialect, ModelverseDialect)
_DIALECTS: dict[str, type[VendorDialect]] = {d.spec.conn_type: d for d in BUILTIN_DIALECTS}

DEFAULT_CONN_ID = BUILTIN_DIALECTS[0].spec.default_conn_id


def register(dialect: type[VendorDialect]) -> type[VendorDialect]:
    """Add (or replace) the dialect of ``dialect.spec.conn_type``; usable as a class decorator."""
    _DIALECTS[dialect.spec.conn_type] = dialect
    return dialect


def unregister(conn_type: str) -> None:
    """Forget a dialect added with :func:`register` (the built-in ones stay)."""
    if conn_type not in {d.spec.conn_type for d in BUILTIN_DIALECTS}:
        _DIALECTS.pop(conn_type, None)


def specs() -> list[VendorSpec]:
    return [dialect.spec for dialect in _DIALECTS.values()]


def builtin_specs() -> list[VendorSpec]:
    """The specs published in provider metadata (registered extras are not installed connection types)."""
    return [dialect.spec for dialect in BUILTIN_DIALECTS]


def conn_types_text() -> str:
    """``a, b or c``: the connection types, for error messages."""
    types = [spec.conn_type for spec in specs()]
    return types[0] if len(types) == 1 else ", ".join(types[:-1]) + " or " + types[-1]


def dialect_for_conn_type(conn_type: str | None, conn_id: str) -> type[VendorDialect]:
    key = (conn_type or "").replace("-", "_")
    if key not in _DIALECTS:
        raise HailuoConfigurationError(
            f"connection {conn_id!r} has conn_type {conn_type!r}, which is not a Hailuo connection. "
            f"Allowed: {', '.join(_DIALECTS)}.",
            parameter="hailuo_conn_id",
            value=conn_id,
        )
    return _DIALECTS[key]
