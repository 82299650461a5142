"""What a video costs, as the contract's ``estimated_cost`` value: ``{"amount": float, "unit": str}``.

v1 (Hailuo) models are priced in MiniMax China credits per clip (seed 002, in ``capabilities``,
exposed by ``MiniMaxDialect.estimated_cost``). MiniMax-H3 is priced per second (API_V2_NOTES
"Prices"): USD on the global host, CNY on the China host. Where the table does not say (H3-Max
in CNY, images beyond the free ones in CNY), the estimate is None rather than a guess: ``max_cost``
must never be checked against a made-up figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Cost = dict[str, float | str]


@dataclass(frozen=True)
class H3Price:
    per_second: Mapping[str, float]  # resolution -> price of one output second
    free_images: int
    per_image: float | None  # beyond the free ones; None when not published


H3_PRICES: dict[tuple[str, str], H3Price] = {
    ("MiniMax-H3", "USD"): H3Price({"768P": 0.08, "2K": 0.13}, free_images=5, per_image=0.04),
    ("MiniMax-H3-Max", "USD"): H3Price({"480P": 0.05, "768P": 0.08}, free_images=2, per_image=0.074),
    ("MiniMax-H3", "CNY"): H3Price({"768P": 0.50, "2K": 0.80}, free_images=5, per_image=None),
}
REGENERATION_USD_PER_SECOND = 0.05
CONTEXT_IR_USD_PER_MILLION = {"input": 0.90, "output": 3.60}


def currency_for_region(region: str | None) -> str:
    """The hailuo_minimax connection's region: global (api.minimax.io) bills USD, China CNY."""
    return "USD" if str(region or "").strip().lower() in ("global", "intl") else "CNY"


def _cost(amount: float, unit: str) -> Cost:
    return {"amount": round(amount, 6), "unit": unit}


def estimate_h3_cost(model: str, resolution: str, duration: float, *, image_count: int = 0,
                     reference_video_seconds: float = 0.0, region: str | None = None) -> Cost | None:
    """Output seconds and reference-video input seconds at the output rate, plus paid images."""
    unit = currency_for_region(region)
    price = H3_PRICES.get((model, unit))
    if price is None or resolution not in price.per_second:
        return None
    paid_images = max(0, image_count - price.free_images)
    if paid_images and price.per_image is None:
        return None
    amount = (duration + reference_video_seconds) * price.per_second[resolution]
    return _cost(amount + paid_images * (price.per_image or 0.0), unit)


def cost_from_usage(model: str, resolution: str | None, usage: Mapping[str, object] | None,
                    region: str | None = None) -> Cost | None:
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
                            reference_video_seconds=input_seconds, region=region)


def estimate_regeneration_cost(duration: float, region: str | None = None) -> Cost | None:
    """Re-rendering a 768P H3 result at 2K: priced in USD only."""
    if currency_for_region(region) != "USD":
        return None
    return _cost(duration * REGENERATION_USD_PER_SECOND, "USD")


def context_ir_cost(usage: Mapping[str, object] | None, region: str | None = None) -> Cost | None:
    """H3-Context-IR is priced per million tokens (USD); usage keys as in OpenAI-style token counts."""
    if not usage or currency_for_region(region) != "USD":
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
