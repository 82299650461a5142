"""The trigger's log while it waits: each status change once, not a line per poll."""

from __future__ import annotations

from typing import Any

from airflow_provider_hailuo.core.models import TaskState
from airflow_provider_hailuo.triggers.video import HailuoVideoTrigger
from tests.unit.test_video_trigger import events_of, fake_hook, make_trigger, status  # noqa: F401 - fixture


async def test_the_trigger_logs_each_status_change_once(fake_hook: Any, mocker: Any) -> None:  # noqa: F811
    log = mocker.MagicMock()
    mocker.patch.object(HailuoVideoTrigger, "wait_log", new=log)  # the wait's (class) logger, observed
    script = [status(TaskState.QUEUED)] * 3 + [status(TaskState.RUNNING)] * 4 + [status(TaskState.SUCCEEDED)]
    hook = fake_hook(script)
    events = await events_of(make_trigger())
    assert events[0]["status"] == "success" and hook.calls == 8
    lines = [call.args[0] % call.args[1:] for call in log.info.call_args_list]
    changes = [line for line in lines if line.startswith("minimax video task vt-1:")]
    assert changes == ["minimax video task vt-1: queued (Queueing)", "minimax video task vt-1: running (Processing)",
                       "minimax video task vt-1: succeeded (Success)"]
    assert log.debug.call_count >= 5  # the polls that saw no change: debug only
