"""Hook for MiniMax's own video API.

Its connection type, default conn id, extra fields and base URLs are the dialect's spec
(``airflow_provider_hailuo.vendors.minimax.SPEC``); this class exists for its import path.
"""

from __future__ import annotations

from typing import ClassVar

from airflow_provider_hailuo.hooks.base import HailuoHook
from airflow_provider_hailuo.vendors.base import VendorDialect
from airflow_provider_hailuo.vendors.minimax import MiniMaxDialect


class MiniMaxHook(HailuoHook):
    """A MiniMax connection: the password holds the API key."""

    dialect_class: ClassVar[type[VendorDialect]] = MiniMaxDialect
