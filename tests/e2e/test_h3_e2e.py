"""End to end: one MiniMax-H3 video (video API v2) waited for on a real triggerer.

The trigger row carries ``api: "v2"``: the triggerer polls ``/v2/query/video_generation/{id}``
and the task's result is the v2 result dict (``api``, ``mode``, ``ratio``, ``usage``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import EMULATOR_API_KEY, conn_env, running_emulator
from tests.e2e.airflow_stack import AirflowStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

DAG_ID = "hailuo_e2e_h3"
CONN_ID = "hailuo_minimax_e2e_h3"

# initial_delay 15 s: see test_generate_e2e.py (apache/airflow#72716 on this SQLite stack).
DAG_SOURCE = f'''
from airflow.sdk import DAG

from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator

with DAG("{DAG_ID}", schedule=None, catchup=False, tags=["e2e"]):
    HailuoGenerateVideoOperator(
        task_id="generate", hailuo_conn_id="{CONN_ID}", model="MiniMax-H3",
        prompt="A paper plane glides over a city at dawn", ratio="9:16", duration=6,
        initial_delay=15, poll_interval=2, timeout=300, retries=0,
    )
'''


@pytest.fixture(scope="module")
def e2e_emulator() -> Iterator[Any]:
    with running_emulator(generation_seconds=4) as server:
        yield server


@pytest.fixture(scope="module")
def stack(module_airflow_stack_factory: Any, e2e_emulator: Any) -> AirflowStack:
    env = dict([conn_env(CONN_ID, "hailuo_minimax", e2e_emulator.base_url("minimax"))])
    return module_airflow_stack_factory(dag_files={"hailuo_e2e_h3.py": DAG_SOURCE}, wait_for_dags=[DAG_ID],
                                        extra_env=env)


def test_one_h3_video_waits_on_the_triggerer(stack: AirflowStack, e2e_emulator: Any) -> None:
    run_id = stack.trigger(DAG_ID, conf={})
    watcher = stack.watcher(DAG_ID, run_id)
    state = stack.wait_for_run(DAG_ID, run_id, timeout=180)
    assert state == "success", watcher.summary() + "\n" + stack.diagnostics()
    assert "deferred" in watcher.states("generate"), watcher.summary()
    assert watcher.triggerer_ids("generate"), watcher.summary()
    result = stack.xcom(DAG_ID, run_id, "generate")
    assert (result["api"], result["mode"], result["ratio"], result["model"]) == ("v2", "text", "9:16", "MiniMax-H3")
    assert (result["video_width"], result["video_height"]) == (768, 1366) and result["duration"] == 6
    assert result["usage"]["output_seconds"] == 6 and result["video_url"].startswith("http")
    assert e2e_emulator.count("v2_submit") == 1 and e2e_emulator.count("submit") == 0
    assert e2e_emulator.count("v2_status") >= 2  # the worker's check, then the triggerer's polls
    assert EMULATOR_API_KEY not in json.dumps(result)
    assert EMULATOR_API_KEY not in stack.task_log(DAG_ID, run_id, "generate")
    assert EMULATOR_API_KEY not in stack.logs("triggerer")
