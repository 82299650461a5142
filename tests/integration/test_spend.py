"""Spend in real DAG runs against the emulator: the connection's prices, max_cost let through, the bill.

A reseller's price table (connection extra ``prices``) prices its clips; a MiniMax connection with
``region: global`` prices H3 in USD (its estimate is made after the connection is read); a limit
equal to the estimate passes; the sidecar puts the cost billed from v2's usage beside the estimate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
from airflow_provider_hailuo.transfers.object_storage import HailuoToObjectStorageOperator
from tests.conftest import conn_env
from tests.integration.test_generate_dag import FAST, new_dag, run_dag, task_results, task_states

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PRICES = {"unit": "CNY", "per_video": {"MiniMax-Hailuo-02": {"768P": {"6": 1.5, "10": 3.0}}}}


def test_connection_prices_and_the_bill(airflow_db: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    for conn_id, conn_type, vendor, extra in (
        ("hailuo_dmx_priced", "hailuo_dmxapi", "dmxapi", {"auth_scheme": "bearer", "prices": json.dumps(PRICES)}),
        ("hailuo_minimax_global", "hailuo_minimax", "minimax", {"region": "global"}),
    ):
        monkeypatch.setenv(*conn_env(conn_id, conn_type, emulator.base_url(vendor), extra=extra))
    out = tmp_path / "out"
    with new_dag("hailuo_spend") as dag:
        reseller = HailuoGenerateVideoOperator(task_id="reseller", hailuo_conn_id="hailuo_dmx_priced",
                                               model="MiniMax-Hailuo-02", prompt="A kite", duration=10,
                                               max_cost=3.0, **FAST)
        h3 = HailuoGenerateVideoOperator(task_id="h3_global", hailuo_conn_id="hailuo_minimax_global",
                                         model="MiniMax-H3", prompt="A fox in snow", duration=10, resolution="2K",
                                         max_cost=1.3, **FAST)
        store = HailuoToObjectStorageOperator(task_id="store", hailuo_conn_id="hailuo_minimax_global",
                                              video=h3.output, dest=f"file://{out}/fox.mp4")
        h3 >> store
        del reseller
    dag_run = run_dag(dag)
    assert set(task_states(dag_run).values()) == {"success"}
    results = task_results(dag_run)
    assert results[("reseller", -1)]["estimated_cost"] == {"amount": 3.0, "unit": "CNY"}  # the extra's price
    video = results[("h3_global", -1)]
    assert video["estimated_cost"] == {"amount": 1.3, "unit": "USD"}  # 10 s at 2K, $0.13/s: global prices
    sidecar = json.loads((out / "fox.mp4.json").read_text())
    billed_seconds = video["usage"]["output_seconds"]
    assert sidecar["estimated_cost"] == video["estimated_cost"]
    assert sidecar["billed_cost"] == {"amount": pytest.approx(billed_seconds * 0.13), "unit": "USD"}
