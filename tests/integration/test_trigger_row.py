"""A trigger row written by the release before the waiting/vendor redesign inflates and runs.

The row is held here as the triggerer's table holds it: the classpath and the kwargs exactly as
``HailuoVideoTrigger.serialize()`` wrote them. The event it yields then resumes an operator
deferred by that release (``execute_complete`` without the ``facts`` kwarg this release adds).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from airflow.sdk.module_loading import import_string

from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.hooks import get_hook
from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator

pytestmark = pytest.mark.integration

OLD_CLASSPATH = "airflow_provider_hailuo.triggers.video.HailuoVideoTrigger"


def old_row(conn_id: str, video_task_id: str) -> tuple[str, dict[str, Any]]:
    return OLD_CLASSPATH, {
        "hailuo_conn_id": conn_id,
        "video_task_id": video_task_id,
        "deadline": time.time() + 60,
        "poll_interval": 0.1,
        "initial_delay": 0.0,
        "max_transient_errors": 5,
    }


async def first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger yielded nothing")


@pytest.mark.parametrize("vendor", ["minimax", "dmxapi", "modelverse"])
def test_an_old_trigger_row_inflates_runs_and_resumes_an_old_deferral(emulator: Any, vendor_conns: dict[str, str],
                                                                     vendor: str) -> None:
    conn_id = vendor_conns[vendor]
    video_task_id = get_hook(conn_id).submit(VideoRequest.build(model="MiniMax-Hailuo-02", prompt="A red kite"))
    classpath, kwargs = old_row(conn_id, video_task_id)
    trigger = import_string(classpath)(**kwargs)
    assert trigger.serialize() == (classpath, kwargs)  # the same row is written back
    event = asyncio.run(first_event(trigger))
    assert event["status"] == "success"
    assert {"status", "video_task_id", "vendor", "message", "error_class", "code", "trace_id",
            "task_status"} <= set(event)
    operator = HailuoGenerateVideoOperator(task_id="generate", hailuo_conn_id=conn_id, model="MiniMax-Hailuo-02",
                                           prompt="A red kite")
    result = operator.execute_complete({}, event=event)  # no facts: deferred by the old release
    assert (result["vendor"], result["video_task_id"], result["model"]) == (vendor, video_task_id,
                                                                            "MiniMax-Hailuo-02")
    assert (result["video_width"], result["video_height"]) == (1366, 768)
    assert result["duration"] == 6 and result["resolution"] == "768P"
