"""Smoke test of the e2e harness on a real Airflow: deferral on the triggerer, mapping, triggerer loss.

One stack serves both tests (module scope). The DAGs use the standard provider's
``DateTimeSensorAsync`` with a target rendered at task start ("now + N s"): unlike
``TimeDeltaSensor``, whose delta counts from the run's ``run_after`` and which skips deferring when
that moment has passed, it always defers, however slow the machine is to start the task.
"""

from __future__ import annotations

import re
import signal

import pytest
import requests

from tests.e2e.airflow_stack import AirflowStack, session_members

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

SMOKE_DAG_ID = "e2e_smoke"
KILL_DAG_ID = "e2e_triggerer_kill"

_DAG_TEMPLATE = '''
from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import DAG, task


def in_seconds(n):
    """A target time n seconds after the task renders its fields (i.e. after it starts)."""
    return "{{{{ macros.datetime.utcnow() + macros.timedelta(seconds=%d) }}}}" % n


with DAG("{dag_id}", schedule=None, catchup=False, tags=["e2e"]):
    wait = DateTimeSensorAsync(task_id="wait", target_time=in_seconds({wait_seconds}))
    wait_mapped = DateTimeSensorAsync.partial(task_id="wait_mapped").expand(
        target_time=[in_seconds(s) for s in {mapped_seconds!r}]
    )

    @task
    def items():
        return [1, 2, 3]

    @task
    def double(x):
        return x * 2

    @task
    def total(values):
        return sum(values)

    doubled = double.expand(x=items())
    [wait, wait_mapped] >> doubled
    total(doubled)
'''

# Every trigger fires >= 12 s after its task deferred. Shorter waits can hit an Airflow 3.3.2 race
# on a loaded machine: a trigger that fires before the scheduler has processed the deferring
# worker's exit gets the resumed TI failed (see AirflowStack.stale_defer_exit_failures).
SMOKE_DAG = _DAG_TEMPLATE.format(dag_id=SMOKE_DAG_ID, wait_seconds=12, mapped_seconds=[12, 14])
# Long enough that the trigger is still pending when the killed triggerer's heartbeat has gone
# stale ([triggerer] triggerer_health_check_threshold = 10 s) and a new triggerer adopts it.
KILL_DAG = _DAG_TEMPLATE.format(dag_id=KILL_DAG_ID, wait_seconds=30, mapped_seconds=[30])


@pytest.fixture(scope="module")
def stack(module_airflow_stack_factory) -> AirflowStack:
    return module_airflow_stack_factory(
        dag_files={"e2e_smoke.py": SMOKE_DAG, "e2e_triggerer_kill.py": KILL_DAG},
        wait_for_dags=[SMOKE_DAG_ID, KILL_DAG_ID],
    )


def _trigger_log_job_ids(stack: AirflowStack, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> set[int]:
    """Triggerer job ids that ran this TI's trigger: each writes ``attempt=N.log.trigger.<job id>.log``."""
    files = stack.task_log_files(dag_id, run_id, task_id, map_index)
    return {int(m.group(1)) for f in files if (m := re.search(r"\.trigger\.(\d+)\.log$", f.name))}


def test_deferred_sensor_and_mapped_tasks_succeed(stack: AirflowStack) -> None:
    print(f"stack startup {stack.startup_seconds:.1f}s; milestones {stack.timings}")
    assert stack.startup_seconds is not None and stack.startup_seconds < 90, stack.timings

    # simple_auth_manager_all_admins: the public REST API answers a bare request, no token.
    assert requests.get(f"{stack.api_url}/dags/{SMOKE_DAG_ID}", timeout=30).status_code == 200

    run_id = stack.trigger(SMOKE_DAG_ID, conf={"purpose": "smoke"})
    assert stack.dag_run(SMOKE_DAG_ID, run_id)["conf"] == {"purpose": "smoke"}
    state = stack.wait_for_run(SMOKE_DAG_ID, run_id, timeout=120)
    watcher = stack.watcher(SMOKE_DAG_ID, run_id)
    assert state == "success", watcher.summary() + "\n" + stack.diagnostics()
    assert not stack.stale_defer_exit_failures()

    # The sensor really waited on the triggerer: seen deferred, with its trigger held by a triggerer job.
    assert "deferred" in watcher.states("wait"), watcher.summary()
    assert watcher.triggerer_ids("wait"), watcher.summary()
    assert _trigger_log_job_ids(stack, SMOKE_DAG_ID, run_id, "wait"), stack.task_log_files(
        SMOKE_DAG_ID, run_id, "wait")
    assert stack.task_instance(SMOKE_DAG_ID, run_id, "wait")["try_number"] == 1  # resumed, not retried

    # Mapped deferrable sensors: every map index deferred and succeeded.
    assert watcher.map_indexes("wait_mapped") == [0, 1], watcher.summary()
    for i in (0, 1):
        assert "deferred" in watcher.states("wait_mapped", map_index=i), watcher.summary()

    # Mapped plain tasks: three instances listed by the REST API, results reduced downstream.
    tis = stack.task_instances(SMOKE_DAG_ID, run_id)
    doubled = sorted((t["map_index"], t["state"]) for t in tis if t["task_id"] == "double")
    assert doubled == [(0, "success"), (1, "success"), (2, "success")], doubled
    assert stack.xcom(SMOKE_DAG_ID, run_id, "double", map_index=2) == 6
    assert stack.xcom(SMOKE_DAG_ID, run_id, "total") == 12
    assert "Pausing task as DEFERRED" in stack.task_log(SMOKE_DAG_ID, run_id, "wait")


def test_run_survives_triggerer_sigkill(stack: AirflowStack) -> None:
    run_id = stack.trigger(KILL_DAG_ID)
    watcher = stack.watcher(KILL_DAG_ID, run_id)
    stack.wait_for_task_state(KILL_DAG_ID, run_id, "wait", "deferred", timeout=120)
    old_job = stack.wait_until(lambda: watcher.triggerer_ids("wait"), timeout=60,
                               what="a triggerer picked up the trigger")[0]

    old_pids = stack.pids("triggerer")
    assert old_pids
    stack.kill_component("triggerer", signal.SIGKILL)
    assert stack.pids("triggerer") == [] and not any(session_members(p) for p in old_pids)
    # Losing the triggerer does not fail the task: it stays deferred with its trigger orphaned.
    assert stack.task_instance(KILL_DAG_ID, run_id, "wait")["state"] == "deferred"

    new_job = stack.start_component("triggerer")  # waits for the new TriggererJob to heartbeat
    assert new_job is not None and new_job["id"] != old_job
    state = stack.wait_for_run(KILL_DAG_ID, run_id, timeout=150)
    assert state == "success", watcher.summary() + "\n" + stack.diagnostics()

    # The trigger was held by the killed triggerer, then adopted by the new one, which ran it to
    # the end (and wrote the trigger log; the killed one never got to flush its own).
    assert watcher.triggerer_ids("wait") == [old_job, new_job["id"]], watcher.summary()
    assert new_job["id"] in _trigger_log_job_ids(stack, KILL_DAG_ID, run_id, "wait")
    ti = stack.task_instance(KILL_DAG_ID, run_id, "wait")
    assert ti["try_number"] == 1, ti  # the same try resumed; no retry was needed
    assert [t["try_number"] for t in stack.ti_tries(KILL_DAG_ID, run_id, "wait")] == [1]
    assert stack.logs("triggerer").count("e2e harness: start #") == 2
