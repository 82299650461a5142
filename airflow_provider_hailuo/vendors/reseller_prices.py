"""A reseller's prices come from its connection: the extra ``prices`` (shape in the README, "Spend").

DMXAPI and Modelverse publish no price list in our documents, and MiniMax's credits are not what
they charge. Without a table their estimate is None; with one, each clip is priced from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_hailuo.core.cost import per_video_cost
from airflow_provider_hailuo.core.prices import PerVideoPrices, parse_price_table
from airflow_provider_hailuo.vendors.spec import JsonExtraField

PRICES = JsonExtraField(
    name="prices",
    label="Prices (JSON)",
    description='Your price per clip, for estimated_cost and max_cost: {"unit": "CNY", "per_video": '
                '{"MiniMax-Hailuo-02": {"768P": {"6": 1.5, "10": 3.0}}}}. Empty: no estimate.',
)


class ResellerPricing:
    """Mixin of a reseller dialect: its ``configure`` reads the table, ``estimated_cost`` uses it."""

    price_table: PerVideoPrices | None = None

    def configure(self, extra: Mapping[str, Any], conn_id: str | None = None) -> None:
        spec = self.spec  # type: ignore[attr-defined]
        self.price_table = parse_price_table(extra.get(PRICES.name), conn_id=conn_id or spec.default_conn_id,
                                             vendor=spec.display_name, extra_key=PRICES.name)

    def estimated_cost(self, model: str | None, resolution: str | None,
                       duration: int | None) -> dict[str, Any] | None:
        return per_video_cost(self.price_table, model, resolution, duration)
