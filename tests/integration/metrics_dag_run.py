"""Run in a subprocess by test_metrics.py: one ``dag.test()`` against the emulator, with Airflow's StatsD
metrics switched on by the environment the test sets (``AIRFLOW__METRICS__STATSD_*``).

argv: emulator URL, MiniMax connection id; the emulator's key (for its control API) in the
environment. The DAG makes every metric happen once or more: a v1 video (deferred: the trigger
polls), an H3 video in the worker, a connection test, then an H3 task that times out while queued
(cancelled at the vendor, the failure counted) and is retried (the retry reconnects).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(emulator_url: str, conn_id: str) -> None:
    from airflow.sdk import DAG, task

    from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
    from tests.integration.test_generate_dag import run_dag

    fast = {"initial_delay": 0.1, "poll_interval": 0.1}
    with DAG("hailuo_metrics", schedule=None, start_date=dt.datetime(2025, 1, 1), catchup=False) as dag:
        v1 = HailuoGenerateVideoOperator(task_id="v1", hailuo_conn_id=conn_id, model="MiniMax-Hailuo-2.3",
                                         prompt="A kite", timeout=60, **fast)
        h3 = HailuoGenerateVideoOperator(task_id="h3", hailuo_conn_id=conn_id, model="MiniMax-H3", prompt="A fox",
                                         deferrable=False, timeout=60, **fast)

        @task
        def test_connection() -> None:
            """What the UI's "Test" button does: a status query of a task id that does not exist (an API
            error the vendor answers, not retried) proves the key."""
            from airflow_provider_hailuo.hooks import get_hook

            accepted, message = get_hook(conn_id).test_connection()
            assert accepted, message

        @task
        def keep_h3_queued() -> None:
            """The emulator's control API: v2 tasks now stay queued (so the next one times out queued)."""
            body = json.dumps({"v2_queue_seconds": 600, "generation_seconds": 600}).encode()
            request = urllib.request.Request(f"{emulator_url}/_emulator/config", data=body, method="POST",
                                             headers={"Content-Type": "application/json", "Authorization":
                                                      f"Bearer {os.environ['HAILUO_EMULATOR_API_KEY']}"})
            urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - the loopback emulator

        queued = HailuoGenerateVideoOperator(task_id="h3_queued", hailuo_conn_id=conn_id, model="MiniMax-H3",
                                             prompt="An owl", deferrable=False, timeout=1.5, retries=1,
                                             retry_delay=dt.timedelta(seconds=0), **fast)
        v1 >> h3 >> test_connection() >> keep_h3_queued() >> queued
    run = run_dag(dag)
    print(f"RUN STATE {run.state}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
