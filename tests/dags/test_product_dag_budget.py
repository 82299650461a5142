"""The product DAG's run budget: over ``max_cost`` (or ``prompt_limit``), refused before any submit."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tests.dags.test_daily_content_dag import DAGS, _load_dags, dags_module_env  # noqa: F401 - a fixture

DAG_ID = "hailuo_product_videos"


def _products() -> int:
    with (DAGS / "hailuo_prompts" / "products.csv").open(newline="", encoding="utf-8") as handle:
        return len(list(csv.DictReader(handle)))


@pytest.mark.parametrize("conf", ["over_budget", "too_many"])
def test_a_product_run_over_its_budget_submits_nothing(
    airflow_db: Path, emulator: Any, vendor_conns: dict[str, str], dags_module_env: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], conf: str,
) -> None:
    monkeypatch.setenv("HAILUO_CONN_ID", vendor_conns["minimax"])  # read when the DAG file is parsed
    count = _products()
    assert count >= 2
    run_conf: dict[str, Any] = {"media_base": (tmp_path / "media").as_uri()}
    if conf == "over_budget":
        run_conf["max_cost"] = count - 0.5  # every product video is 1 credit (Hailuo-02, 768P, 6 s; seed 002)
    else:
        run_conf["prompt_limit"] = count - 1
    run = _load_dags().dags[DAG_ID].test(run_conf=run_conf)
    assert run.state == "failed"
    assert emulator.count("submit") == 0 and emulator.requests() == []
    out = capsys.readouterr().out
    if conf == "over_budget":
        assert f"{count:g} credits for {count} video(s) is over max_cost {count - 0.5:g} credits" in out
    else:
        assert f"{count} products in one run; the limit is {count - 1}" in out
