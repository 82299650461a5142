"""Prices as data: one table per vendor API, each with the document it was copied from and when.

Pure values, no I/O. :mod:`core.cost` turns them into the contract's ``estimated_cost``
(``{"amount", "unit"}``). DMXAPI and Modelverse publish no prices in our documents: their table is
the one a connection's extra ``prices`` gives (:func:`parse_price_table`), else there is none and
the estimate is None, never a guess (``max_cost`` must not be checked against a made-up figure).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from airflow_provider_hailuo.exceptions import HailuoConfigurationError

#: The units a price may be in (CONTRACT "estimated_cost").
UNITS = ("credits", "USD", "CNY")


@dataclass(frozen=True)
class PriceSource:
    """Where a table's figures come from; ``as_of`` is when they were copied (the documents carry no date)."""

    document: str
    section: str
    as_of: str


@dataclass(frozen=True)
class PerVideoPrices:
    """A price per clip by model, resolution and duration: MiniMax v1's credits, or a reseller's table."""

    unit: str
    #: model -> resolution -> duration (seconds) -> amount of one clip.
    per_video: Mapping[str, Mapping[str, Mapping[int, float]]]
    source: PriceSource

    def price(self, model: str | None, resolution: str | None, duration: int | None) -> float | None:
        if model is None or resolution is None or duration is None:
            return None
        return self.per_video.get(model, {}).get(resolution, {}).get(duration)


@dataclass(frozen=True)
class H3Price:
    """MiniMax-H3 is priced per output second; reference video input seconds at the same rate."""

    per_second: Mapping[str, float]  # resolution -> price of one output second
    free_images: int
    per_image: float | None  # beyond the free ones; None when not published


# -- MiniMax, video API v1 (Hailuo models) ---------------------------------------------------------
MINIMAX_V1_SOURCE = PriceSource("shared/seeds/002_5e4c028435ba80ea.txt (MiniMax, 海螺视频 API 文档)",
                                "定价信息 / 积分消耗标准 (credits per clip, MiniMax China)",
                                "2026-12-01 (copied; the document is undated)")
#: Credits per clip. Seed 002 lists "Hailuo-02/2.3" on one row: both models, same credits.
#: Failed or moderated generations are not charged (计费说明).
MINIMAX_V1_CREDITS = PerVideoPrices(
    unit="credits",
    per_video={
        "MiniMax-Hailuo-2.3-Fast": {"768P": {6: 0.7, 10: 1.1}, "1080P": {6: 1.3}},
        "MiniMax-Hailuo-02": {"512P": {6: 0.3, 10: 0.5}, "768P": {6: 1.0, 10: 2.0}, "1080P": {6: 2.0}},
        "MiniMax-Hailuo-2.3": {"768P": {6: 1.0, 10: 2.0}, "1080P": {6: 2.0}},
    },
    source=MINIMAX_V1_SOURCE,
)

# -- MiniMax, video API v2 (MiniMax-H3) --------------------------------------------------------------
MINIMAX_V2_SOURCE = PriceSource("shared/API_V2_NOTES.md (quoting MiniMax's pay-as-you-go price page)",
                                "Prices", "2026-12-01 (copied; the page quoted is undated)")
#: (model, currency) -> prices. USD: the global host's price page; CNY: the China host's, which
#: publishes H3 seconds only (no H3-Max, no paid images): those estimates are None.
H3_PRICES: dict[tuple[str, str], H3Price] = {
    ("MiniMax-H3", "USD"): H3Price({"768P": 0.08, "2K": 0.13}, free_images=5, per_image=0.04),
    ("MiniMax-H3-Max", "USD"): H3Price({"480P": 0.05, "768P": 0.08}, free_images=2, per_image=0.074),
    ("MiniMax-H3", "CNY"): H3Price({"768P": 0.50, "2K": 0.80}, free_images=5, per_image=None),
}
#: Reference audio is free; failed and cancelled tasks are not charged.
REFERENCE_AUDIO_PER_SECOND = 0.0
REGENERATION_USD_PER_SECOND = 0.05
CONTEXT_IR_USD_PER_MILLION = {"input": 0.90, "output": 3.60}


# -- resellers: a price table from the connection's extra ---------------------------------------------
@dataclass(frozen=True)
class _Where:
    """Names the connection and the extra key in every error (the message a deployer acts on)."""

    conn_id: str
    extra_key: str
    path: tuple[str, ...] = field(default_factory=tuple)

    def at(self, key: object) -> _Where:
        return _Where(self.conn_id, self.extra_key, (*self.path, str(key)))

    def error(self, value: object, expected: str) -> HailuoConfigurationError:
        key = ".".join((self.extra_key, *self.path))
        return HailuoConfigurationError(
            f"connection {self.conn_id!r} extra {key} = {value!r} is not valid: expected {expected}. Shape: "
            f'{{"{self.extra_key}": {{"unit": "CNY", "per_video": {{"<model>": {{"<resolution>": {{"<seconds>": '
            '<amount>}}}}}.', parameter=key, value=value,
        )


def _amount(value: object, where: _Where) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise where.error(value, "a price: a number >= 0")
    return float(value)


def _duration(key: object, where: _Where) -> int:
    text = str(key).strip().lower().removesuffix("s")
    if not text.isdigit() or int(text) <= 0:
        raise where.error(key, "a duration in whole seconds, such as \"6\" or \"10\"")
    return int(text)


def _object(value: object, where: _Where, expected: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping) or not value:
        raise where.error(value, expected)
    return value


def parse_price_table(raw: object, *, conn_id: str, vendor: str, extra_key: str) -> PerVideoPrices | None:
    """The connection's extra ``extra_key`` (an object, or its JSON text from a form); None when unset.

    Models and resolutions are checked against the Hailuo table, so a typo fails loudly here
    instead of leaving every estimate silently None.
    """
    from airflow_provider_hailuo.core.capabilities import MODELS, PIXEL_SIZES

    if raw in (None, "", {}):
        return None
    where = _Where(conn_id, extra_key)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise where.error(raw, "a JSON object") from None
    table = _object(raw, where, 'an object with "unit" and "per_video"')
    unknown = sorted(set(table) - {"unit", "per_video", "source"})
    if unknown:
        raise where.at(unknown[0]).error(table[unknown[0]], 'only the keys "unit", "per_video" and "source"')
    unit = table.get("unit")
    if unit not in UNITS:
        raise where.at("unit").error(unit, f"one of {', '.join(UNITS)}")
    per_video: dict[str, dict[str, dict[int, float]]] = {}
    models = _object(table.get("per_video"), where.at("per_video"), "an object: model -> resolution -> seconds")
    for model, resolutions in models.items():
        at_model = where.at("per_video").at(model)
        if model not in MODELS:
            raise at_model.error(model, f"a Hailuo v1 model name ({', '.join(MODELS)})")
        for resolution, durations in _object(resolutions, at_model, "an object: resolution -> seconds").items():
            at_resolution = at_model.at(resolution)
            label = str(resolution).strip().upper()
            if label not in PIXEL_SIZES:
                raise at_resolution.error(resolution, f"a resolution ({', '.join(PIXEL_SIZES)})")
            for seconds, amount in _object(durations, at_resolution, "an object: seconds -> amount").items():
                at_seconds = at_resolution.at(seconds)
                per_video.setdefault(model, {}).setdefault(label, {})[_duration(seconds, at_seconds)] = _amount(
                    amount, at_seconds)
    source = table.get("source")
    return PerVideoPrices(unit=str(unit), per_video=per_video, source=PriceSource(
        f"connection {conn_id!r} extra {extra_key} ({vendor})", str(source) if source else "given by the deployer",
        "as given in the connection"))
