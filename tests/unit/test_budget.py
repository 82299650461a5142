"""operators/budget.py: the one-request limit and the run budget, with plain values."""

from __future__ import annotations

import pytest

from airflow_provider_hailuo.exceptions import HailuoBudgetExceededError, HailuoInvalidRequestError
from airflow_provider_hailuo.operators.budget import (
    PlannedVideo,
    check_max_cost,
    enforce_max_cost,
    enforce_run_budget,
    run_totals,
)

CREDITS = "credits"


def cost(amount: float, unit: str = CREDITS) -> dict[str, object]:
    return {"amount": amount, "unit": unit}


@pytest.mark.parametrize(("value", "expected"), [(None, None), (0, 0.0), (2, 2.0), (1.5, 1.5), ("2.5", 2.5)])
def test_a_limit_is_a_number_at_or_above_zero(value: object, expected: float | None) -> None:
    assert check_max_cost(value) == expected


@pytest.mark.parametrize("value", [-0.01, "cheap", True, float("nan"), float("inf"), [1], ""])
def test_a_bad_limit_names_the_parameter_and_the_value(value: object) -> None:
    with pytest.raises(HailuoInvalidRequestError) as caught:
        check_max_cost(value)
    assert caught.value.parameter == "max_cost" and "max_cost" in str(caught.value)
    assert repr(value) in str(caught.value)


def test_over_the_limit_names_the_estimate_the_limit_and_the_unit() -> None:
    enforce_max_cost(None, None, "anything")  # no limit: nothing to check
    enforce_max_cost(1.0, cost(1.0), "at the limit")  # equal is within
    with pytest.raises(HailuoBudgetExceededError) as caught:
        enforce_max_cost(0.9, cost(1.0), "MiniMax-Hailuo-2.3 text-to-video")
    error = caught.value
    assert (error.estimate, error.limit, error.unit, error.parameter) == (1.0, 0.9, CREDITS, "max_cost")
    assert "estimated cost 1 credits is over max_cost 0.9 credits" in str(error)
    assert isinstance(error, HailuoInvalidRequestError)


def test_a_limit_with_no_known_price_is_an_error_not_a_pass() -> None:
    with pytest.raises(HailuoInvalidRequestError, match="unknown") as caught:
        enforce_max_cost(5, None, "MiniMax-Hailuo-02 via dmxapi")
    assert not isinstance(caught.value, HailuoBudgetExceededError) and caught.value.parameter == "max_cost"


def test_the_run_budget_sums_and_lists_the_most_expensive() -> None:
    videos = [PlannedVideo(f"#{n} p{n}", cost(amount)) for n, amount in enumerate([1, 2, 0.5, 2, 1, 1, 0.3], 1)]
    assert enforce_run_budget(videos, None) == {CREDITS: 7.8}
    assert enforce_run_budget(videos, 7.8) == {CREDITS: 7.8}
    with pytest.raises(HailuoBudgetExceededError) as caught:
        enforce_run_budget(videos, 7)
    message = str(caught.value)
    assert "7.8 credits for 7 video(s) is over max_cost 7 credits" in message and "nothing was submitted" in message
    listed = message.split("Most expensive: ", 1)[1]
    assert listed.startswith("#2 p2: 2 credits; #4 p4: 2 credits; #1 p1: 1 credits")
    assert "#7" not in listed and "#3" not in listed  # five listed, the cheapest left out


def test_a_run_budget_that_cannot_be_checked_is_refused() -> None:
    with pytest.raises(HailuoInvalidRequestError, match="#2 b"):
        enforce_run_budget([PlannedVideo("#1 a", cost(1)), PlannedVideo("#2 b", None)], 10)
    with pytest.raises(HailuoInvalidRequestError, match="several units"):
        enforce_run_budget([PlannedVideo("#1 a", cost(1)), PlannedVideo("#2 b", cost(1, "CNY"))], 10)
    assert run_totals([cost(1), None, cost(0.5, "CNY"), cost(2)]) == {CREDITS: 3.0, "CNY": 0.5}
