"""Spend limits: ``max_cost`` on one request, and a run's budget over many (the example DAGs' plan step).

Both are checked against estimates before anything is sent. A limit set where the price is
unknown is an error, not a pass: a budget that cannot be checked is no budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_hailuo.exceptions import HailuoBudgetExceededError, HailuoInvalidRequestError

#: How many of the most expensive prompts a refused run lists.
LISTED_PROMPTS = 5


def check_max_cost(value: object, parameter: str = "max_cost") -> float | None:
    """The limit as a float; None when unset. Not a number, or negative: refused, naming the parameter."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip():
        try:
            value = float(value.strip())
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise HailuoInvalidRequestError(
            f"{parameter} must be a number >= 0 in the unit of the request's price (credits, USD or CNY); "
            f"got {value!r}.", parameter=parameter, value=value)
    return float(value)


def _amount(cost: Mapping[str, Any]) -> float:
    return float(cost["amount"])


def enforce_max_cost(max_cost: object, estimate: Mapping[str, Any] | None, what: str, *,
                     parameter: str = "max_cost") -> None:
    """Raise when ``estimate`` is over ``max_cost``, or unknown while a limit is set; ``what`` names the request."""
    limit = check_max_cost(max_cost, parameter)
    if limit is None:
        return
    if estimate is None:
        raise HailuoInvalidRequestError(
            f"{parameter}={limit:g} is set, but the price of {what} is unknown, so the limit cannot be checked. "
            "Give a reseller connection a price table (extra prices, README \"Spend\"), choose a priced "
            f"model/resolution/duration, or unset {parameter}.", parameter=parameter, value=max_cost)
    amount, unit = _amount(estimate), str(estimate.get("unit"))
    if amount > limit:
        raise HailuoBudgetExceededError(
            f"{what}: estimated cost {amount:g} {unit} is over {parameter} {limit:g} {unit}; nothing was sent.",
            estimate=amount, limit=limit, unit=unit, parameter=parameter)


@dataclass(frozen=True)
class PlannedVideo:
    """One prompt of a run and its estimate, for the run budget."""

    label: str
    estimate: Mapping[str, Any] | None


def run_totals(costs: Sequence[Mapping[str, Any] | None]) -> dict[str, float]:
    """unit -> sum of the known estimates (a run on one connection has one unit; H3 and v1 differ)."""
    totals: dict[str, float] = {}
    for cost in costs:
        if cost is not None:
            totals[str(cost["unit"])] = round(totals.get(str(cost["unit"]), 0.0) + _amount(cost), 6)
    return totals


def enforce_run_budget(videos: Sequence[PlannedVideo], max_cost: object, *,
                       parameter: str = "max_cost") -> dict[str, float]:
    """The run's totals by unit; raise before any submit when they are over ``max_cost`` (or cannot be known)."""
    totals = run_totals([video.estimate for video in videos])
    limit = check_max_cost(max_cost, parameter)
    if limit is None:
        return totals
    unpriced = [video.label for video in videos if video.estimate is None]
    if unpriced or len(totals) > 1:
        why = (f"{len(unpriced)} prompt(s) have no known price ({', '.join(unpriced[:LISTED_PROMPTS])})" if unpriced
               else f"the estimates are in several units ({', '.join(totals)})")
        raise HailuoInvalidRequestError(f"{parameter}={limit:g} cannot be checked: {why}.", parameter=parameter,
                                        value=max_cost)
    if not totals:
        return totals
    ((unit, total),) = totals.items()
    if total > limit:
        costly = sorted(videos, key=lambda video: -_amount(video.estimate or {"amount": 0}))[:LISTED_PROMPTS]
        listed = "; ".join(f"{video.label}: {_amount(video.estimate or {'amount': 0}):g} {unit}" for video in costly)
        raise HailuoBudgetExceededError(
            f"the run's estimated cost {total:g} {unit} for {len(videos)} video(s) is over {parameter} {limit:g} "
            f"{unit}; nothing was submitted. Most expensive: {listed}.",
            estimate=total, limit=limit, unit=unit, parameter=parameter)
    return totals


def estimate_for(conn_id: str, params: Mapping[str, Any], image_conn_id: str | None = None) -> dict[str, Any] | None:
    """The estimate of one generate request on a connection, built and checked as the operator would; no
    request is sent (the connection is read for its prices)."""
    from airflow_provider_hailuo.hooks import get_hook
    from airflow_provider_hailuo.operators.video_request import build_video_request, facts_for, request_api

    request = build_video_request({"model": params["model"], **params}, image_conn_id)
    hook = get_hook(conn_id).for_api(request_api(request), params["model"])
    hook.check_request(request)  # type: ignore[arg-type]
    return facts_for(request, hook).estimated_cost
