"""Cancel instead of paying, against the emulator: a queued H3 task is DELETEd when the wait ends early.

The emulator keeps tasks queued as long as ``v2_queue_seconds`` says and reports each task's
``status``, ``cancelled`` and ``charged`` on ``/_emulator/tasks``; these tests read that.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest

from airflow_provider_hailuo.exceptions import HailuoTimeoutError
from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
from airflow_provider_hailuo.transport.policy import RetryPolicy
from airflow_provider_hailuo.triggers.video import HailuoVideoTrigger

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def logged(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    """What the task logged: Airflow's task logger writes through structlog (captured output) or logging."""
    out, err = capfd.readouterr()
    return out + err + caplog.text


def v2_tasks(emulator: Any) -> dict[str, dict[str, Any]]:
    return {task["task_id"]: task for task in emulator.tasks("minimax") if task.get("api") == "v2"}


def operator(conn_id: str, **kwargs: Any) -> HailuoGenerateVideoOperator:
    params: dict[str, Any] = {"task_id": "h3", "hailuo_conn_id": conn_id, "model": "MiniMax-H3",
                              "prompt": "A paper boat on a stream", "deferrable": False, "poll_interval": 0.1,
                              "initial_delay": 0.1, "timeout": 60}
    params.update(kwargs)
    return HailuoGenerateVideoOperator(**params)


def test_timeout_while_queued_cancels_and_is_not_charged(emulator: Any, vendor_conns: dict[str, str],
                                                         capfd: Any, caplog: Any) -> None:
    emulator.configure(v2_queue_seconds=600, generation_seconds=600)
    task = operator(vendor_conns["minimax"], timeout=1.0)
    with caplog.at_level(logging.WARNING), pytest.raises(HailuoTimeoutError):
        task.execute({})
    (found,) = v2_tasks(emulator).values()
    assert (found["status"], found["cancelled"], found["charged"]) == ("cancelled", True, False)
    assert emulator.count("v2_delete") == 1
    text = logged(capfd, caplog)
    assert "was still queued and is now cancelled" in text and "not charged" in text


def test_timeout_while_running_leaves_it_and_says_it_is_charged(emulator: Any, vendor_conns: dict[str, str],
                                                                capfd: Any, caplog: Any) -> None:
    emulator.configure(v2_queue_seconds=0, generation_seconds=600)
    task = operator(vendor_conns["minimax"], timeout=1.0)
    with caplog.at_level(logging.WARNING), pytest.raises(HailuoTimeoutError):
        task.execute({})
    (found,) = v2_tasks(emulator).values()
    assert found["status"] == "running" and not found["cancelled"]
    assert emulator.count("v2_delete") == 0
    assert "keeps running and is charged" in logged(capfd, caplog)


def test_on_kill_in_the_worker_cancels_the_queued_task(emulator: Any, vendor_conns: dict[str, str],
                                                       capfd: Any, caplog: Any) -> None:
    emulator.configure(v2_queue_seconds=600, generation_seconds=600)
    task = operator(vendor_conns["minimax"], timeout=30)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            task.execute({})
        except BaseException as exc:  # the wait ends when the task is cancelled at the vendor
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    with caplog.at_level(logging.WARNING):
        worker.start()
        deadline = time.monotonic() + 20
        while not v2_tasks(emulator) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the worker is polling now
        task.on_kill()
        worker.join(20)
    (found,) = v2_tasks(emulator).values()
    assert (found["status"], found["charged"]) == ("cancelled", False)
    text = logged(capfd, caplog)
    assert "Task killed: video task" in text and "not charged" in text
    assert failure and "cancelled" in str(failure[0])  # the poller then sees the final status


def test_trigger_on_kill_cancels_a_queued_v2_task(emulator: Any, vendor_conns: dict[str, str]) -> None:
    from airflow_provider_hailuo.core.h3 import H3Request
    from airflow_provider_hailuo.hooks import get_hook

    emulator.configure(v2_queue_seconds=600, generation_seconds=600)
    hook = get_hook(vendor_conns["minimax"]).for_api("v2")
    video_task_id = hook.submit(H3Request.build(model="MiniMax-H3", prompt="A kite over a beach"))
    trigger = HailuoVideoTrigger(hailuo_conn_id=vendor_conns["minimax"], video_task_id=video_task_id,
                                 deadline=time.time() + 60, api="v2")
    _, kwargs = trigger.serialize()
    assert kwargs["api"] == "v2"
    asyncio.run(HailuoVideoTrigger(**kwargs).on_kill())
    found = v2_tasks(emulator)[video_task_id]
    assert (found["status"], found["cancelled"], found["charged"]) == ("cancelled", True, False)


def test_trigger_timeout_cancels_a_queued_v2_task(emulator: Any, vendor_conns: dict[str, str]) -> None:
    from airflow_provider_hailuo.core.h3 import H3Request
    from airflow_provider_hailuo.hooks import get_hook

    emulator.configure(v2_queue_seconds=600, generation_seconds=600)
    hook = get_hook(vendor_conns["minimax"]).for_api("v2")
    video_task_id = hook.submit(H3Request.build(model="MiniMax-H3", prompt="A kite over a beach"))
    trigger = HailuoVideoTrigger(hailuo_conn_id=vendor_conns["minimax"], video_task_id=video_task_id,
                                 deadline=time.time() + 1, poll_interval=0.2, initial_delay=0, api="v2")

    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    event = asyncio.run(first_event())
    assert event["status"] == "timeout"
    found = v2_tasks(emulator)[video_task_id]
    assert (found["status"], found["charged"]) == ("cancelled", False)


def test_a_429_burst_on_create_is_waited_out(emulator: Any, vendor_conns: dict[str, str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """429 on the create is safe to repeat (the vendor refused it): backed off and sent again, paid once."""
    quick = RetryPolicy(rate_limit_initial_backoff=0.05, rate_limit_max_backoff=0.2, initial_backoff=0.05)
    monkeypatch.setattr("airflow_provider_hailuo.hooks.base.DEFAULT_POLICY", quick)
    emulator.add_fault(endpoint="v2_submit", kind="http_status", status=429, times=3)
    result = operator(vendor_conns["minimax"]).execute({})
    assert result is not None and result["api"] == "v2"
    assert emulator.count("v2_submit") == 4  # three refused, one accepted
    assert len(v2_tasks(emulator)) == 1  # one video, paid once
