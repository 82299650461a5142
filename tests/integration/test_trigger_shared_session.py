"""HailuoVideoTrigger on the triggerer's shared session, against the emulator over real HTTP:
a rotated key is used at the next poll, and cancelled triggers leave no session open."""

from __future__ import annotations

import asyncio
import gc
import time
import warnings
from typing import Any

import pytest

from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.hooks import get_hook
from airflow_provider_hailuo.transport.shared_sessions import SHARED_SESSIONS
from airflow_provider_hailuo.triggers.video import HailuoVideoTrigger
from airflow_provider_hailuo.waiting.decisions import WaitDecisions
from tests.conftest import conn_env

pytestmark = pytest.mark.integration
ROTATED_KEY = "sk-test-ROTATED-KEY-2b81d4"


def trigger_for(conn_id: str, task_id: str, **kwargs: Any) -> HailuoVideoTrigger:
    params: dict[str, Any] = {"hailuo_conn_id": conn_id, "video_task_id": task_id, "deadline": time.time() + 60,
                              "poll_interval": 0.1, "initial_delay": 0}
    params.update(kwargs)
    return HailuoVideoTrigger(**params)


async def events_of(trigger: HailuoVideoTrigger) -> list[dict[str, Any]]:
    return [dict(event.payload) async for event in trigger.run()]


def test_a_rotated_key_is_used_at_the_next_poll(emulator: Any, vendor_conns: dict[str, str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Right after the first answer the vendor revokes the key and the connection gets the new one.
    A trigger that kept the key it started with would be refused (1004) at its second poll."""
    conn_id = vendor_conns["minimax"]
    emulator.configure(generation_seconds=1.5)
    task_id = get_hook(conn_id).submit(VideoRequest.build(model="MiniMax-Hailuo-2.3", prompt="A red kite"))
    original_next_step = WaitDecisions.next_step
    rotated: list[int] = []

    def rotate_after_first_poll(self: WaitDecisions, now: float, jitter: float = 0.0) -> Any:
        if not rotated:  # between the first poll and the second: nothing is in flight now
            rotated.append(emulator.count("status"))
            emulator._app.api_key = ROTATED_KEY  # the old key is refused from now on
            name, value = conn_env(conn_id, "hailuo_minimax", emulator.base_url("minimax"), password=ROTATED_KEY)
            monkeypatch.setenv(name, value)
        return original_next_step(self, now, jitter)

    monkeypatch.setattr(WaitDecisions, "next_step", rotate_after_first_poll)

    async def run_and_count_sessions() -> tuple[list[dict[str, Any]], int]:
        events = await events_of(trigger_for(conn_id, task_id))
        return events, SHARED_SESSIONS.open_sessions()

    events, left_open = asyncio.run(run_and_count_sessions())
    assert rotated == [1]
    assert [event["status"] for event in events] == ["success"], events
    assert emulator.count("status") >= 2  # polls after the rotation, all accepted with the new key
    assert left_open == 0


@pytest.mark.filterwarnings("error::ResourceWarning")
def test_cancelled_triggers_leave_no_session_open(emulator: Any, vendor_conns: dict[str, str]) -> None:
    """Twenty triggers of two connections, cancelled while waiting (as the triggerer cancels a
    trigger whose task was cleared): every shared session is closed, none is reported unclosed."""
    emulator.configure(generation_seconds=3600)
    conns = [vendor_conns["minimax"], vendor_conns["dmxapi"]]
    task_ids = [(conn_id, get_hook(conn_id).submit(VideoRequest.build(model="MiniMax-Hailuo-02", prompt="kite")))
                for conn_id in conns for _ in range(10)]
    reports: list[dict[str, Any]] = []
    sessions: list[Any] = []

    async def scenario() -> int:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: reports.append(context))
        tasks = [asyncio.ensure_future(events_of(trigger_for(conn_id, task_id, poll_interval=30)))
                 for conn_id, task_id in task_ids]
        while emulator.count("status") < len(tasks):  # noqa: ASYNC110 - a count in another thread, not an event
            await asyncio.sleep(0.05)
        sessions.extend(entry.session for entry in SHARED_SESSIONS._entries().values())
        assert len(sessions) == 2  # one per connection, not one per trigger
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return SHARED_SESSIONS.open_sessions()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        assert asyncio.run(scenario()) == 0
        gc.collect()
    assert all(session.closed for session in sessions)
    assert not [context for context in reports if "Unclosed" in str(context.get("message"))], reports
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]
