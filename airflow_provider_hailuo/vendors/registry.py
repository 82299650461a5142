"""The vendor APIs this provider knows (placeholder until the specs land)."""

from __future__ import annotations

DEFAULT_CONN_ID = "hailuo_minimax_default"
