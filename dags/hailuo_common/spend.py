"""A run's budget for the example DAGs: count and cost checked in the plan step, before any submit.

Every prompt is a paid video. The plan step refuses a run of more prompts than ``prompt_limit``,
and, with ``max_cost`` set, a run whose summed estimates are over it (listing the most expensive
prompts), so nothing of a runaway list reaches the vendor. The manifest's ``totals`` are the sums
of its entries' costs, by unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_hailuo.core.cost import billed_cost
from airflow_provider_hailuo.operators.budget import PlannedVideo, enforce_run_budget, estimate_for, run_totals

#: The default prompt-count cap of a run (the ``prompt_limit`` param overrides it).
DEFAULT_PROMPT_LIMIT = 50


def budget_params(what: str) -> dict[str, Any]:
    """The ``max_cost`` and ``prompt_limit`` params a DAG of paid videos takes (a new Param per DAG)."""
    from airflow.sdk import Param

    return {
        "max_cost": Param(None, type=["null", "number"], minimum=0,
                          description="Refuse the run, before any submit, when the sum of its estimated costs is "
                                      "over this (in the connection's price unit: credits, USD or CNY)."),
        "prompt_limit": Param(DEFAULT_PROMPT_LIMIT, type=["null", "integer"], minimum=1,
                              description=f"Refuse a run of more {what} than this: each one is a paid video."),
    }


def check_prompt_count(count: int, params: Mapping[str, Any], what: str) -> None:
    limit = int(params.get("prompt_limit") or DEFAULT_PROMPT_LIMIT)
    if count > limit:
        raise ValueError(f"{count} {what} in one run; the limit is {limit} (param prompt_limit): "
                         "each one is a paid video. Raise the param if you mean it.")


def check_run_budget(items: Sequence[Mapping[str, Any]], params: Mapping[str, Any], *, label_key: str,
                     request_keys: Sequence[str], fixed: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Estimate every planned video (as its generate task will) and refuse the run when over ``max_cost``.

    Without ``max_cost`` nothing is estimated here: the videos' own estimates reach the manifest.
    """
    if params.get("max_cost") is None:
        return {}
    planned = []
    for position, item in enumerate(items, start=1):
        request = {**(fixed or {}), **{key: item[key] for key in request_keys if key in item}}
        conn_id = str(request.pop("hailuo_conn_id"))
        planned.append(PlannedVideo(f"#{position} {item[label_key]}", estimate_for(conn_id, request)))
    totals = enforce_run_budget(planned, params["max_cost"])
    print(f"Estimated cost of the run: {', '.join(f'{amount:g} {unit}' for unit, amount in totals.items())} "
          f"(max_cost {params['max_cost']:g})")
    return totals


def cost_columns(video: Mapping[str, Any]) -> dict[str, Any]:
    """A manifest entry's costs: the estimate made before sending and, where the vendor reported usage, the bill."""
    return {"estimated_cost": video.get("estimated_cost"), "billed_cost": billed_cost(video)}


def manifest_totals(entries: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Sums of the entries' costs by unit (what the manifest's ``totals`` say)."""
    return {key: run_totals([entry.get(key) for entry in entries]) for key in ("estimated_cost", "billed_cost")}
