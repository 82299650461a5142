"""HailuoVideoSensor with a mock hook: poke, deferral and completion."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_hailuo.core.models import TaskState, TaskStatus
from airflow_provider_hailuo.exceptions import HailuoModerationError, HailuoTaskFailedError, HailuoTimeoutError
from airflow_provider_hailuo.operators._common import StatusPoller
from airflow_provider_hailuo.sensors.video import HailuoVideoSensor
from airflow_provider_hailuo.triggers.video import HailuoVideoTrigger


def status(state: TaskState, task_id: str = "vt-7") -> TaskStatus:
    raw = {TaskState.QUEUED: "Pending", TaskState.RUNNING: "Running", TaskState.SUCCEEDED: "Success",
           TaskState.FAILED: "Failure"}[state]
    extra: dict[str, Any] = {}
    if state is TaskState.SUCCEEDED:
        extra = {"video_url": "https://cdn.example.com/v.mp4", "duration": 6}
    if state is TaskState.FAILED:
        extra = {"error_message": "content rejected"}
    return TaskStatus(vendor="modelverse", task_id=task_id, state=state, raw_status=raw, **extra)


@pytest.fixture
def hook(mocker: Any) -> Any:
    fake = mocker.MagicMock(name="hook")
    fake.vendor = "modelverse"
    fake.get_status.return_value = status(TaskState.RUNNING)
    return fake


def make_sensor(hook: Any, **kwargs: Any) -> HailuoVideoSensor:
    params: dict[str, Any] = {"task_id": "wait", "video_task_id": "vt-7", "hailuo_conn_id": "hailuo_mv"}
    params.update(kwargs)
    sensor = HailuoVideoSensor(**params)
    sensor.__dict__["hook"] = hook
    return sensor


def test_templated_fields_and_defaults() -> None:
    assert {"video_task_id", "hailuo_conn_id"} <= set(HailuoVideoSensor.template_fields)
    sensor = HailuoVideoSensor(task_id="wait", video_task_id="x")
    assert sensor.deferrable is True
    assert sensor.poke_interval == 15
    assert sensor.timeout == 1800
    assert sensor.hailuo_conn_id == "hailuo_minimax_default"


def test_poke_is_false_while_running(hook: Any) -> None:
    assert make_sensor(hook).poke({}) is False  # type: ignore[arg-type]


def test_poke_returns_the_result_dict_when_done(hook: Any) -> None:
    hook.get_status.return_value = status(TaskState.SUCCEEDED)
    value = make_sensor(hook, model="MiniMax-Hailuo-2.3").poke({})  # type: ignore[arg-type]
    assert isinstance(value, PokeReturnValue)
    assert value.is_done
    assert value.xcom_value == {
        "vendor": "modelverse", "model": "MiniMax-Hailuo-2.3", "video_task_id": "vt-7", "status": "succeeded",
        "file_id": None, "video_url": "https://cdn.example.com/v.mp4", "video_width": None, "video_height": None,
        "duration": 6, "resolution": None, "prompt": None, "api": "v1", "mode": None, "ratio": None,
        "usage": None, "estimated_cost": None,
    }


def test_poke_raises_when_the_task_failed(hook: Any) -> None:
    hook.get_status.return_value = status(TaskState.FAILED)
    with pytest.raises(HailuoTaskFailedError, match="vt-7.*content rejected"):
        make_sensor(hook).poke({})  # type: ignore[arg-type]


def test_poke_raises_vendor_errors(hook: Any) -> None:
    hook.get_status.side_effect = HailuoModerationError("status failed", vendor="minimax", code=1027, task_id="vt-7")
    with pytest.raises(HailuoModerationError):
        make_sensor(hook).poke({})  # type: ignore[arg-type]


def test_deferrable_checks_once_then_defers_with_the_sensor_timing(hook: Any) -> None:
    sensor = make_sensor(hook, poke_interval=20, timeout=timedelta(minutes=10))
    before = time.time()
    with pytest.raises(TaskDeferred) as info:
        sensor.execute({})  # type: ignore[arg-type]
    trigger = info.value.trigger
    assert isinstance(trigger, HailuoVideoTrigger)
    assert info.value.method_name == "execute_complete"
    assert info.value.timeout is None
    _, kwargs = trigger.serialize()
    assert kwargs["video_task_id"] == "vt-7"
    assert kwargs["hailuo_conn_id"] == "hailuo_mv"
    assert kwargs["poll_interval"] == 20
    assert before + 600 <= kwargs["deadline"] <= time.time() + 600
    hook.get_status.assert_called_once_with("vt-7")


@pytest.mark.parametrize("initial_delay, first", [(None, 20), (45, 45)])
def test_deferred_first_query_is_the_poke_interval_unless_initial_delay_is_set(
        hook: Any, initial_delay: float | None, first: float) -> None:
    sensor = make_sensor(hook, poke_interval=20, initial_delay=initial_delay)
    with pytest.raises(TaskDeferred) as info:
        sensor.execute({})  # type: ignore[arg-type]
    _, kwargs = info.value.trigger.serialize()
    assert (kwargs["initial_delay"], kwargs["poll_interval"]) == (first, 20)


def test_deferrable_returns_at_once_when_already_done(hook: Any) -> None:
    hook.get_status.return_value = status(TaskState.SUCCEEDED)
    assert make_sensor(hook).execute({})["video_url"] == "https://cdn.example.com/v.mp4"  # type: ignore[arg-type]


def test_poke_mode_waits_in_the_worker(hook: Any) -> None:
    hook.get_status.side_effect = [status(TaskState.QUEUED), status(TaskState.RUNNING), status(TaskState.SUCCEEDED)]
    sensor = make_sensor(hook, deferrable=False, poke_interval=0.01, timeout=10)
    result = sensor.execute({})  # type: ignore[arg-type]
    assert result["status"] == "succeeded"
    assert hook.get_status.call_count == 3


def test_execute_complete_success_and_timeout(hook: Any) -> None:
    sensor = make_sensor(hook)
    poller = StatusPoller(video_task_id="vt-7", vendor="modelverse", deadline=time.time() + 60, poll_interval=1)
    done = poller.on_status(status(TaskState.SUCCEEDED))
    assert sensor.execute_complete({}, done)["video_task_id"] == "vt-7"  # type: ignore[arg-type]
    with pytest.raises(HailuoTimeoutError, match="vt-7"):
        sensor.execute_complete({}, StatusPoller(video_task_id="vt-7", vendor="modelverse", deadline=0,  # type: ignore[arg-type]
                                                 poll_interval=1).timeout_event())
