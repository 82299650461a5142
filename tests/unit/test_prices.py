"""Every price in core/prices.py against the document it was copied from (shared/ beside the repo).

The figures are read out of the documents' own text (seed 002's credit table, API_V2_NOTES'
"Prices" paragraph), so a table edited without its source, or a source changed without its
table, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from airflow_provider_hailuo.core.prices import (
    H3_PRICES,
    MINIMAX_V1_CREDITS,
    MINIMAX_V2_SOURCE,
    REGENERATION_USD_PER_SECOND,
    parse_price_table,
)
from airflow_provider_hailuo.exceptions import HailuoConfigurationError
from airflow_provider_hailuo.vendors.dmxapi import DMXAPIDialect
from airflow_provider_hailuo.vendors.minimax import MiniMaxDialect
from airflow_provider_hailuo.vendors.modelverse import ModelverseDialect

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


def _document(name: str) -> str:
    path = SHARED / name
    assert path.is_file(), f"{path} not found: the price tests read the documents in shared/ beside the repo"
    return path.read_text(encoding="utf-8")


def _seed_002_rows() -> dict[tuple[str, str, int], float]:
    """(model, resolution, seconds) -> credits, from seed 002's 积分消耗标准 table."""
    text = _document("seeds/002_5e4c028435ba80ea.txt")
    section = text.split("### 积分消耗标准", 1)[1].split("###", 1)[0]
    rows: dict[tuple[str, str, int], float] = {}
    for match in re.finditer(r"^\| (Hailuo-[^|]+?) \| (\d+P) \| (\d+) 秒 \| ([\d.]+) \|$", section, re.M):
        names, resolution, seconds, credits = match.groups()
        first, *others = names.split("/")  # "Hailuo-02/2.3": both models on one row
        for name in (first, *(f"Hailuo-{other}" for other in others)):
            rows[(f"MiniMax-{name}", resolution, int(seconds))] = float(credits)
    return rows


def test_every_v1_credit_price_is_seed_002s() -> None:
    document = _seed_002_rows()
    table = {(model, resolution, seconds): amount
             for model, resolutions in MINIMAX_V1_CREDITS.per_video.items()
             for resolution, durations in resolutions.items() for seconds, amount in durations.items()}
    assert len(document) == 11  # 8 rows, "Hailuo-02/2.3" rows count twice
    assert table == document
    assert MINIMAX_V1_CREDITS.unit == "credits" and "seeds/002" in MINIMAX_V1_CREDITS.source.document
    for (model, resolution, seconds), credits in document.items():
        assert MiniMaxDialect().estimated_cost(model, resolution, seconds) == {"amount": credits, "unit": "credits"}


def _prices_section() -> str:
    return " ".join(_document("API_V2_NOTES.md").split("## Prices", 1)[1].split("\n## ", 1)[0].split())


def _price_after(phrase: str) -> float:
    """The number in a quoted phrase of API_V2_NOTES' "Prices" paragraph, which must be in the document."""
    assert phrase in _prices_section(), f"{phrase!r} is no longer in API_V2_NOTES.md's Prices"
    # The price is the dollar figure, else the figure per second (CNY), else the phrase's only number.
    found = (re.search(r"\$(\d+(?:\.\d+)?)", phrase) or re.search(r"(\d+\.\d+)/s", phrase)
             or re.search(r"(\d+)", phrase))
    assert found is not None
    return float(found.group(1))


@pytest.mark.parametrize(("phrase", "price"), [
    ("H3: $0.08 per second at 768P", H3_PRICES[("MiniMax-H3", "USD")].per_second["768P"]),
    ("$0.13 per second at 2K", H3_PRICES[("MiniMax-H3", "USD")].per_second["2K"]),
    ("then $0.04 each", H3_PRICES[("MiniMax-H3", "USD")].per_image),
    ("the first 5 free", H3_PRICES[("MiniMax-H3", "USD")].free_images),
    ("H3-Max: $0.05/s", H3_PRICES[("MiniMax-H3-Max", "USD")].per_second["480P"]),
    ("$0.08/s 768P", H3_PRICES[("MiniMax-H3-Max", "USD")].per_second["768P"]),
    ("first 2 images free", H3_PRICES[("MiniMax-H3-Max", "USD")].free_images),
    ("then $0.074", H3_PRICES[("MiniMax-H3-Max", "USD")].per_image),
    ("Regeneration to 2K $0.05/s", REGENERATION_USD_PER_SECOND),
    ("China (CNY): 768P 0.50/s", H3_PRICES[("MiniMax-H3", "CNY")].per_second["768P"]),
    ("2K 0.80/s", H3_PRICES[("MiniMax-H3", "CNY")].per_second["2K"]),
])
def test_every_h3_price_is_api_v2_notes(phrase: str, price: float | None) -> None:
    assert price == _price_after(phrase)


def test_h3_reference_video_seconds_are_billed_at_the_output_rate() -> None:
    assert "reference video billed per input second at the output rate" in _prices_section()
    from airflow_provider_hailuo.core.cost import estimate_h3_cost

    assert estimate_h3_cost("MiniMax-H3", "2K", 5, reference_video_seconds=4, currency="USD") == {
        "amount": pytest.approx((5 + 4) * 0.13), "unit": "USD"}


def test_what_the_china_page_does_not_price_has_no_estimate() -> None:
    assert ("MiniMax-H3-Max", "CNY") not in H3_PRICES  # the notes give CNY for H3's seconds only
    assert H3_PRICES[("MiniMax-H3", "CNY")].per_image is None
    assert "API_V2_NOTES" in MINIMAX_V2_SOURCE.document and MINIMAX_V2_SOURCE.as_of


# -- a reseller's table from its connection -----------------------------------------------------------
TABLE = {"unit": "CNY", "per_video": {"MiniMax-Hailuo-02": {"768p": {"6": 1.5, "10s": 3}}}, "source": "Nov price"}


@pytest.mark.parametrize("dialect_class", [DMXAPIDialect, ModelverseDialect])
def test_a_resellers_estimate_comes_from_its_connection_extra(dialect_class: type) -> None:
    dialect = dialect_class()
    dialect.configure({}, "hailuo_r")
    assert dialect.estimated_cost("MiniMax-Hailuo-02", "768P", 6) is None  # no published prices
    dialect.configure({"prices": TABLE}, "hailuo_r")
    assert dialect.estimated_cost("MiniMax-Hailuo-02", "768P", 6) == {"amount": 1.5, "unit": "CNY"}
    assert dialect.estimated_cost("MiniMax-Hailuo-02", "768P", 10) == {"amount": 3.0, "unit": "CNY"}
    assert dialect.estimated_cost("MiniMax-Hailuo-02", "1080P", 6) is None  # not in the table: no guess
    dialect.configure({"prices": '{"unit": "USD", "per_video": {"MiniMax-Hailuo-2.3": {"768P": {"6": 0.2}}}}'})
    assert dialect.estimated_cost("MiniMax-Hailuo-2.3", "768P", 6) == {"amount": 0.2, "unit": "USD"}


@pytest.mark.parametrize(("prices", "key", "value"), [
    ({"unit": "EUR", "per_video": TABLE["per_video"]}, "prices.unit", "EUR"),
    ({"unit": "CNY"}, "prices.per_video", None),
    ({"unit": "CNY", "per_video": {"Hailuo-02": {"768P": {"6": 1}}}}, "prices.per_video.Hailuo-02", "Hailuo-02"),
    ({"unit": "CNY", "per_video": {"MiniMax-Hailuo-02": {"4K": {"6": 1}}}}, "prices.per_video.MiniMax-Hailuo-02.4K",
     "4K"),
    ({"unit": "CNY", "per_video": {"MiniMax-Hailuo-02": {"768P": {"six": 1}}}},
     "prices.per_video.MiniMax-Hailuo-02.768P.six", "six"),
    ({"unit": "CNY", "per_video": {"MiniMax-Hailuo-02": {"768P": {"6": -1}}}},
     "prices.per_video.MiniMax-Hailuo-02.768P.6", -1),
    ({"unit": "CNY", "per_video": {"MiniMax-Hailuo-02": {"768P": {"6": "1.5"}}}},
     "prices.per_video.MiniMax-Hailuo-02.768P.6", "1.5"),
    ({"unit": "CNY", "per_video": TABLE["per_video"], "per_second": 1}, "prices.per_second", 1),
    ("{not json", "prices", "{not json"),
    ([1, 2], "prices", [1, 2]),
])
def test_a_bad_price_table_names_the_connection_the_key_and_the_value(prices: object, key: str,
                                                                      value: object) -> None:
    with pytest.raises(HailuoConfigurationError) as caught:
        DMXAPIDialect().configure({"prices": prices}, "hailuo_dmx_prod")
    assert (caught.value.parameter, caught.value.value) == (key, value)
    assert "'hailuo_dmx_prod'" in str(caught.value) and key in str(caught.value) and repr(value) in str(caught.value)


def test_the_table_records_where_it_came_from() -> None:
    table = parse_price_table(TABLE, conn_id="c", vendor="DMXAPI", extra_key="prices")
    assert table is not None and table.source.section == "Nov price" and "'c'" in table.source.document
