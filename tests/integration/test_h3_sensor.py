"""HailuoVideoSensor waits for a MiniMax-H3 task submitted elsewhere: poking and deferred (v2 trigger)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_hailuo.core.h3 import H3Request
from airflow_provider_hailuo.exceptions import HailuoTaskFailedError
from airflow_provider_hailuo.hooks import get_hook
from airflow_provider_hailuo.sensors.video import HailuoVideoSensor
from tests.reliability.helpers import run_operator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def submit(conn_id: str) -> str:
    return get_hook(conn_id).for_api("v2").submit(H3Request.build(model="MiniMax-H3", prompt="A red kite"))


@pytest.mark.parametrize("deferrable", [False, True])
def test_sensor_waits_for_a_v2_task(emulator: Any, vendor_conns: dict[str, str], deferrable: bool) -> None:
    conn_id = vendor_conns["minimax"]
    video_task_id = submit(conn_id)
    sensor = HailuoVideoSensor(task_id="wait", hailuo_conn_id=conn_id, video_task_id=video_task_id,
                               model="MiniMax-H3", deferrable=deferrable, poke_interval=0.1, timeout=30,
                               initial_delay=0.1)
    result = run_operator(sensor)
    assert (result["api"], result["video_task_id"], result["model"]) == ("v2", video_task_id, "MiniMax-H3")
    assert result["video_url"].startswith("http") and result["usage"]["output_seconds"] == 5
    assert emulator.count("status") == 0 and emulator.count("v2_status") >= 1


def test_a_cancelled_v2_task_is_final_for_the_sensor(emulator: Any, vendor_conns: dict[str, str]) -> None:
    emulator.configure(v2_queue_seconds=600, generation_seconds=600)
    conn_id = vendor_conns["minimax"]
    video_task_id = submit(conn_id)
    outcome = get_hook(conn_id).for_api("v2").cancel(video_task_id)
    assert (outcome.action, outcome.charged) == ("cancelled", False)
    sensor = HailuoVideoSensor(task_id="wait", hailuo_conn_id=conn_id, video_task_id=video_task_id, api="v2",
                               deferrable=False, poke_interval=0.1, timeout=30)
    with pytest.raises(HailuoTaskFailedError, match="cancelled"):
        run_operator(sensor)
