"""What a video costs, as the contract's ``estimated_cost`` value: ``{"amount": float, "unit": str}``.

The tables, with their sources, are in :mod:`core.prices`. v1 (Hailuo) models are priced in
MiniMax China credits per clip (seed 002, exposed by ``MiniMaxDialect.estimated_cost``); a
reseller's clips at the table its connection's extra gives. MiniMax-H3 is priced per second
(API_V2_NOTES "Prices"): USD on the global host, CNY on the China host. Where the table does not say (H3-Max
in CNY, images beyond the free ones in CNY), the estimate is None rather than a guess: ``max_cost``
must never be checked against a made-up figure.
"""

from __future__ import annotations

from collections.abc import Mapping

from airflow_provider_hailuo.core.prices import (
    CONTEXT_IR_USD_PER_MILLION,
    H3_PRICES,
    REGENERATION_USD_PER_SECOND,
    H3Price,
    PerVideoPrices,
)

Cost = dict[str, float | str]

__all__ = ["H3Price", "Cost", "billed_cost", "context_ir_cost", "cost_from_usage", "estimate_h3_cost",
           "estimate_regeneration_cost", "per_video_cost"]


def _unit(currency: str | None) -> str:
    """The price table's currency; unset means CNY (the China host's prices, the default connection)."""
    return "USD" if str(currency or "").strip().upper() == "USD" else "CNY"


def _cost(amount: float, unit: str) -> Cost:
    return {"amount": round(amount, 6), "unit": unit}


def per_video_cost(table: PerVideoPrices | None, model: str | None, resolution: str | None,
                   duration: int | None) -> Cost | None:
    """One clip at a per-clip table (v1 credits, a reseller's), or None where the table does not say."""
    amount = table.price(model, resolution, duration) if table is not None else None
    return None if amount is None else _cost(amount, table.unit)  # type: ignore[union-attr]


def estimate_h3_cost(model: str, resolution: str, duration: float, *, image_count: int = 0,
                     reference_video_seconds: float = 0.0, currency: str | None = None) -> Cost | None:
    """Output seconds and reference-video input seconds at the output rate, plus paid images."""
    unit = _unit(currency)
    price = H3_PRICES.get((model, unit))
    if price is None or resolution not in price.per_second:
        return None
    paid_images = max(0, image_count - price.free_images)
    if paid_images and price.per_image is None:
        return None
    amount = (duration + reference_video_seconds) * price.per_second[resolution]
    return _cost(amount + paid_images * (price.per_image or 0.0), unit)


def cost_from_usage(model: str, resolution: str | None, usage: Mapping[str, object] | None,
                    currency: str | None = None) -> Cost | None:
    """The cost of a finished H3 task from what the vendor reports as billed (``task.usage``)."""
    if not usage or resolution is None:
        return None

    def number(key: str) -> float:
        value = usage.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0

    output_seconds = number("output_seconds")
    input_seconds = number("input_seconds")
    if not output_seconds and not input_seconds:
        output_seconds = number("total_seconds")
    return estimate_h3_cost(model, resolution, output_seconds, image_count=int(number("input_image_count")),
                            reference_video_seconds=input_seconds, currency=currency)


def estimate_regeneration_cost(duration: float, currency: str | None = None) -> Cost | None:
    """Re-rendering a 768P H3 result at 2K: priced in USD only."""
    if _unit(currency) != "USD":
        return None
    return _cost(duration * REGENERATION_USD_PER_SECOND, "USD")


def context_ir_cost(usage: Mapping[str, object] | None, currency: str | None = None) -> Cost | None:
    """H3-Context-IR is priced per million tokens (USD); usage keys as in OpenAI-style token counts."""
    if not usage or _unit(currency) != "USD":
        return None
    tokens = {}
    sides = (("input", ("input_tokens", "prompt_tokens")), ("output", ("output_tokens", "completion_tokens")))
    for side, keys in sides:
        value = next((usage[key] for key in keys if isinstance(usage.get(key), (int, float))), None)
        if value is None or isinstance(value, bool):
            return None
        tokens[side] = float(value)  # type: ignore[arg-type]
    amount = sum(tokens[side] * CONTEXT_IR_USD_PER_MILLION[side] / 1_000_000 for side in tokens)
    return _cost(amount, "USD")


def billed_cost(video: Mapping[str, object]) -> Cost | None:
    """What a finished video was billed, from the ``usage`` the vendor reported (v2), in the unit of its
    estimate; None where the vendor reports no usage (v1) or the price is unknown."""
    usage, estimate = video.get("usage"), video.get("estimated_cost")
    model, resolution = video.get("model"), video.get("resolution")
    if video.get("api") != "v2" or not isinstance(usage, Mapping) or not isinstance(estimate, Mapping):
        return None
    if not isinstance(model, str) or not isinstance(resolution, str):
        return None
    unit = estimate.get("unit")
    return cost_from_usage(model, resolution, usage, unit if isinstance(unit, str) else None)
