"""End to end: two mapped generate tasks on a real Airflow (scheduler, triggerer, LocalExecutor).

The emulator runs in this test process on a free port; the stack's components reach it through
``AIRFLOW_CONN_*`` JSON connections. The first run proves both tasks really wait on the triggerer
(seen ``deferred``, trigger held by a triggerer job) and succeed. The second run SIGKILLs the
triggerer while both are deferred, starts a new one, and checks that the new triggerer adopts the
triggers and the tasks succeed in their first try, with exactly one submit each at the vendor.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import EMULATOR_API_KEY, conn_env, running_emulator
from tests.e2e.airflow_stack import AirflowStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

DAG_ID = "hailuo_e2e_generate"
CONNECTIONS = {"minimax": "hailuo_minimax_e2e", "dmxapi": "hailuo_dmxapi_e2e"}

# initial_delay: the first status query waits 15 s after the trigger starts. Airflow 3.3 can mark a
# deferred task failed when its trigger fires before the scheduler has drained the executor's
# "success" event of the deferring worker (apache/airflow#66374, #72716: "state changed
# externally"); on this SQLite stack a worker may take ~5 s to report its deferral. The provider's
# default initial delay (30 s) keeps production far from that window too.
DAG_SOURCE = f'''
from airflow.sdk import DAG

from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator

with DAG("{DAG_ID}", schedule=None, catchup=False, tags=["e2e"]):
    HailuoGenerateVideoOperator.partial(
        task_id="generate",
        hailuo_conn_id="{{{{ dag_run.conf['conn_id'] }}}}",
        model="MiniMax-Hailuo-2.3",
        initial_delay=15,
        poll_interval=2,
        timeout=300,
        retries=0,
    ).expand(prompt=[
        "{{{{ dag_run.conf['tag'] }}}}: a heron takes off",
        "{{{{ dag_run.conf['tag'] }}}}: rain on a window",
    ])
'''


@pytest.fixture(scope="module")
def e2e_emulator() -> Iterator[Any]:
    with running_emulator(generation_seconds=4) as server:
        yield server


@pytest.fixture(scope="module")
def stack(module_airflow_stack_factory: Any, e2e_emulator: Any) -> AirflowStack:
    env = dict(conn_env(conn_id, f"hailuo_{vendor}", e2e_emulator.base_url(vendor))
               for vendor, conn_id in CONNECTIONS.items())
    return module_airflow_stack_factory(dag_files={"hailuo_e2e_generate.py": DAG_SOURCE}, wait_for_dags=[DAG_ID],
                                        extra_env=env)


def check_results(stack: AirflowStack, emulator: Any, run_id: str, vendor: str, tag: str) -> None:
    results = [stack.xcom(DAG_ID, run_id, "generate", map_index=i) for i in (0, 1)]
    for index, result in enumerate(results):
        assert result["status"] == "succeeded", result
        assert result["vendor"] == vendor
        assert isinstance(result["file_id"], str) and result["file_id"]
        assert (result["video_width"], result["video_height"]) == (1366, 768)
        assert result["prompt"].startswith(f"{tag}: "), result
        assert stack.task_instance(DAG_ID, run_id, "generate", map_index=index)["try_number"] == 1
    submitted = [entry.get("task_id") for entry in emulator.requests(endpoint="submit")]
    assert len(submitted) == 2, submitted  # exactly one submit per map index
    assert sorted(submitted) == sorted(result["video_task_id"] for result in results)
    assert EMULATOR_API_KEY not in json.dumps(results)
    for index in (0, 1):
        assert EMULATOR_API_KEY not in stack.task_log(DAG_ID, run_id, "generate", map_index=index)
    for component in ("triggerer", "scheduler", "dag-processor", "api-server"):
        assert EMULATOR_API_KEY not in stack.logs(component), component


def test_two_mapped_generates_defer_on_the_triggerer(stack: AirflowStack, e2e_emulator: Any) -> None:
    e2e_emulator.reset()
    e2e_emulator.configure(generation_seconds=4)
    run_id = stack.trigger(DAG_ID, conf={"conn_id": CONNECTIONS["minimax"], "tag": "first"})
    watcher = stack.watcher(DAG_ID, run_id)
    state = stack.wait_for_run(DAG_ID, run_id, timeout=180)
    assert state == "success", watcher.summary() + "\n" + stack.diagnostics()
    assert watcher.map_indexes("generate") == [0, 1], watcher.summary()
    for index in (0, 1):
        assert "deferred" in watcher.states("generate", map_index=index), watcher.summary()
        assert watcher.triggerer_ids("generate", map_index=index), watcher.summary()
        log = stack.task_log(DAG_ID, run_id, "generate", map_index=index)
        assert "estimated cost: 1 credits" in log, log
        assert "Pausing task as DEFERRED" in log, log
    check_results(stack, e2e_emulator, run_id, "minimax", "first")


def test_generates_survive_a_triggerer_sigkill(stack: AirflowStack, e2e_emulator: Any) -> None:
    # Long enough that the triggers are still waiting when the dead triggerer's heartbeat goes
    # stale ([triggerer] triggerer_health_check_threshold = 10 s) and a new triggerer adopts them.
    e2e_emulator.reset()
    e2e_emulator.configure(generation_seconds=25)
    run_id = stack.trigger(DAG_ID, conf={"conn_id": CONNECTIONS["dmxapi"], "tag": "second"})
    watcher = stack.watcher(DAG_ID, run_id)
    stack.wait_for_task_state(DAG_ID, run_id, "generate", "deferred", timeout=120)
    old_jobs = stack.wait_until(
        lambda: all(watcher.triggerer_ids("generate", map_index=i) for i in (0, 1)) and watcher.triggerer_ids(
            "generate"),
        timeout=60, what="a triggerer picked up both triggers",
    )
    stack.kill_component("triggerer", signal.SIGKILL)
    assert stack.pids("triggerer") == []
    for index in (0, 1):  # losing the triggerer does not fail the tasks
        assert stack.task_instance(DAG_ID, run_id, "generate", map_index=index)["state"] == "deferred"

    new_job = stack.start_component("triggerer")
    assert new_job is not None and new_job["id"] not in old_jobs
    state = stack.wait_for_run(DAG_ID, run_id, timeout=180)
    assert state == "success", watcher.summary() + "\n" + stack.diagnostics()
    for index in (0, 1):
        held_by = watcher.triggerer_ids("generate", map_index=index)
        assert held_by[-1] == new_job["id"] and len(held_by) >= 2, watcher.summary()
        assert [t["try_number"] for t in stack.ti_tries(DAG_ID, run_id, "generate", map_index=index)] == [1]
    check_results(stack, e2e_emulator, run_id, "dmxapi", "second")
