"""Fixtures of the reliability suite, and the summary table printed at the end of every run.

* One emulator for the whole suite (a fresh one per test costs more than most tests here), reset
  before each test: tasks, request log, faults and options start clean. It overrides the
  function-scoped ``emulator`` of ``tests/conftest.py`` for this directory only, so the shared
  ``vendor_conns`` fixture points at it.
* A fast retry policy for every hook the suite makes (``hooks.base.DEFAULT_POLICY``): backoffs
  of milliseconds, so bursts of faults are waited out in well under a second.
* A moto S3 server (real S3 over HTTP on loopback) for object-storage images and destinations.
* ``pytest_runtest_logreport`` / ``pytest_terminal_summary``: count the outcomes of the tests in
  this directory by category and print them as a table at the end of the run, whether the suite
  runs alone or as part of ``make test``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_hailuo.transport.policy import RetryPolicy
from tests.conftest import running_emulator

#: Milliseconds of backoff; the budget and timeouts stay generous enough for a loaded 2-core runner.
FAST_POLICY = RetryPolicy(
    max_attempts=4,
    initial_backoff=0.01,
    max_backoff=0.05,
    rate_limit_initial_backoff=0.02,
    rate_limit_max_backoff=0.05,
    rate_limit_budget=10.0,
    connect_timeout=5.0,
    read_timeout=10.0,
)


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[Any]:
    with running_emulator() as server:
        yield server


@pytest.fixture
def emulator(shared_emulator: Any) -> Iterator[Any]:
    """The suite's emulator, reset: no tasks, no log, no faults, start-up options (0.3 s generations)."""
    shared_emulator.reset()
    try:
        yield shared_emulator
    finally:
        shared_emulator.clear_faults()


@pytest.fixture(autouse=True)
def fast_policy(monkeypatch: pytest.MonkeyPatch) -> RetryPolicy:
    """Every hook made during the test (operator, sensor, trigger, transfer) retries fast."""
    from airflow_provider_hailuo.hooks import base
    from airflow_provider_hailuo.transfers.object_storage import HailuoToObjectStorageOperator

    monkeypatch.setattr(base, "DEFAULT_POLICY", FAST_POLICY)
    monkeypatch.setattr(HailuoToObjectStorageOperator, "retry_backoff", 0.0)
    return FAST_POLICY


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``policy(read_timeout=0.5, ...)`` replaces fields of the suite's policy for one test."""
    from airflow_provider_hailuo.hooks import base

    def replace(**changes: Any) -> RetryPolicy:
        changed = dataclasses.replace(FAST_POLICY, **changes)
        monkeypatch.setattr(base, "DEFAULT_POLICY", changed)
        return changed

    return replace


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[Any]:
    from tests.integration.transfer_helpers import MotoS3

    server = MotoS3.start()
    try:
        yield server
    finally:
        server.stop()


# -- the summary table ---------------------------------------------------------------------------

CATEGORIES = {
    "test_bad_inputs": "bad inputs",
    "test_faults": "faults",
    "test_secrets": "secrets",
    "test_hostile_answers": "hostile answers",
}
_COLUMNS = ("tried", "passed", "failed", "xfailed", "xpassed", "skipped", "errors")
_outcomes: dict[str, Counter[str]] = defaultdict(Counter)


def _category(nodeid: str) -> str | None:
    path = nodeid.split("::", 1)[0].replace("\\", "/")
    if "reliability/" not in path and "/" in path:
        return None
    module = path.rsplit("/", 1)[-1].removesuffix(".py")
    return CATEGORIES.get(module)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    category = _category(report.nodeid)
    if category is None:
        return
    counts = _outcomes[category]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        counts["tried"] += 1
        if hasattr(report, "wasxfail"):
            counts["xfailed" if report.skipped else "xpassed"] += 1
        elif report.when == "setup" and report.failed:
            counts["errors"] += 1
        else:
            counts[report.outcome] += 1
    elif report.when == "teardown" and report.failed:
        counts["errors"] += 1


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _outcomes:
        return
    width = max(len("category"), *(len(name) for name in _outcomes))
    terminalreporter.write_sep("=", "reliability suite: cases tried and passed per category")
    header = f"{'category':<{width}}  " + "  ".join(f"{column:>7}" for column in _COLUMNS)
    terminalreporter.write_line(header)
    terminalreporter.write_line("-" * len(header))
    total: Counter[str] = Counter()
    order = [name for name in CATEGORIES.values() if name in _outcomes]
    for name in order:
        counts = _outcomes[name]
        total.update(counts)
        terminalreporter.write_line(f"{name:<{width}}  " + "  ".join(f"{counts[c]:>7}" for c in _COLUMNS))
    terminalreporter.write_line("-" * len(header))
    terminalreporter.write_line(f"{'total':<{width}}  " + "  ".join(f"{total[c]:>7}" for c in _COLUMNS))
