"""airflow_provider_hailuo/metrics.py with a recording stand-in for Airflow's Stats (the real StatsD path is
tests/integration/test_metrics.py)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_hailuo import metrics
from airflow_provider_hailuo.exceptions import HailuoRateLimitError, HailuoTaskFailedError


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float, dict[str, str]]] = []

    def incr(self, name: str, count: float = 1, *, tags: dict[str, str]) -> None:
        self.calls.append((name, count, tags))


@pytest.fixture
def stats(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(metrics, "_stats", lambda: recorder)
    return recorder


def test_a_v2_video_counts_its_billed_seconds_and_cost(stats: Recorder) -> None:
    result: dict[str, Any] = {"vendor": "minimax", "api": "v2", "model": "MiniMax-H3", "resolution": "2K",
                              "duration": 10, "usage": {"output_seconds": 6},
                              "estimated_cost": {"amount": 1.3, "unit": "USD"}}
    assert metrics.video_ready(result) is result
    tags = {"vendor": "minimax", "api": "v2", "model": "MiniMax-H3"}
    assert stats.calls == [(metrics.VIDEOS, 1, tags), (metrics.VIDEO_SECONDS, 6, tags),
                           (metrics.COST, pytest.approx(0.78), {**tags, "unit": "USD"})]


def test_a_v1_video_without_a_price_counts_no_cost(stats: Recorder) -> None:
    metrics.video_ready({"vendor": "dmxapi", "api": "v1", "model": "MiniMax-Hailuo-02", "duration": 6,
                         "usage": None, "estimated_cost": None})
    assert [name for name, _, _ in stats.calls] == [metrics.VIDEOS, metrics.VIDEO_SECONDS]


def test_failed_attempts_and_failures_by_class(stats: Recorder) -> None:
    limited = HailuoRateLimitError("slow down", vendor="minimax", code=1002)
    metrics.call_failed({"vendor": "minimax", "endpoint": "status"}, limited, retrying=True)
    with pytest.raises(HailuoTaskFailedError), metrics.counting_failures("minimax", "v1", "MiniMax-Hailuo-2.3"):
        raise HailuoTaskFailedError("no")
    assert stats.calls == [
        (metrics.RATE_LIMITED, 1, {"vendor": "minimax", "endpoint": "status"}),
        (metrics.RETRIES, 1, {"vendor": "minimax", "endpoint": "status", "error": "HailuoRateLimitError"}),
        (metrics.FAILURES, 1, {"vendor": "minimax", "api": "v1", "model": "MiniMax-Hailuo-2.3",
                               "error": "HailuoTaskFailedError"}),
    ]


def test_a_broken_metrics_backend_never_fails_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> Any:
        raise OSError("statsd host unreachable")

    monkeypatch.setattr(metrics, "_stats", broken)
    metrics.submitted("minimax", "v1", "MiniMax-Hailuo-2.3")  # no exception
