"""HailuoVideoTrigger and the shared poll decisions, driven with a fake hook and transport."""

from __future__ import annotations

import importlib
import json
import time
from typing import Any

import pytest

from airflow_provider_hailuo.core.models import TaskState, TaskStatus
from airflow_provider_hailuo.exceptions import (
    HailuoAuthenticationError,
    HailuoConfigurationError,
    HailuoModerationError,
    HailuoRateLimitError,
    HailuoTransientError,
)
from airflow_provider_hailuo.triggers.video import HailuoVideoTrigger
from airflow_provider_hailuo.waiting.decisions import BACKOFF_GROWTH, WaitDecisions, next_poll_delay
from airflow_provider_hailuo.waiting.events import event_from_dict

SECRET = "sk-test-HAILUO-SECRET-7f3a9c"


def status(state: TaskState, task_id: str = "vt-1") -> TaskStatus:
    raw = {TaskState.QUEUED: "Queueing", TaskState.RUNNING: "Processing", TaskState.SUCCEEDED: "Success",
           TaskState.FAILED: "Fail"}[state]
    extra: dict[str, Any] = {}
    if state is TaskState.SUCCEEDED:
        extra = {"file_id": "file-1", "video_width": 1920, "video_height": 1080}
    if state is TaskState.FAILED:
        extra = {"error_message": "generation failed upstream"}
    return TaskStatus(vendor="minimax", task_id=task_id, state=state, raw_status=raw, **extra)


class FakeTransport:
    def __init__(self, hook: FakeHook) -> None:
        self.hook = hook

    async def __aenter__(self) -> FakeTransport:
        self.hook.sessions_open += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.hook.sessions_open -= 1
        self.hook.sessions_closed += 1

    async def transport(self) -> FakeTransport:
        """The per-poll transport of the hook's PollingClient; here the client is its own transport."""
        return self


class FakeHook:
    """Answers aget_status from a script: TaskStatus values or exceptions; the last one repeats."""

    vendor = "minimax"

    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.calls = 0
        self.sessions_open = 0
        self.sessions_created = 0
        self.sessions_closed = 0

    api = "v1"

    def for_api(self, api: str, model: object = None) -> FakeHook:
        assert api == "v1"  # these tests hold v1 rows
        return self

    def polling_client(self) -> FakeTransport:
        self.sessions_created += 1
        return FakeTransport(self)

    async def aget_status(self, task_id: str, transport: FakeTransport) -> TaskStatus:
        assert isinstance(transport, FakeTransport)
        assert self.sessions_open == 1  # polled inside the one session
        self.calls += 1
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, BaseException):
            raise item
        return item


@pytest.fixture
def fake_hook(monkeypatch: pytest.MonkeyPatch) -> Any:
    holder: dict[str, Any] = {}

    async def aget_hook(conn_id: str, **kwargs: object) -> FakeHook:
        holder["conn_id"] = conn_id
        return holder["hook"]

    monkeypatch.setattr("airflow_provider_hailuo.hooks.aget_hook", aget_hook)

    def install(script: list[Any]) -> FakeHook:
        holder["hook"] = FakeHook(script)
        return holder["hook"]

    return install


def make_trigger(**kwargs: Any) -> HailuoVideoTrigger:
    params: dict[str, Any] = {"hailuo_conn_id": "hailuo_test", "video_task_id": "vt-1",
                              "deadline": time.time() + 30, "poll_interval": 0.01, "initial_delay": 0}
    params.update(kwargs)
    return HailuoVideoTrigger(**params)


async def events_of(trigger: HailuoVideoTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


# -- serialisation -------------------------------------------------------------------------------

def test_serialize_round_trip_through_the_classpath() -> None:
    trigger = make_trigger(deadline=1_900_000_000.5, poll_interval=15, initial_delay=30, max_transient_errors=4)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_hailuo.triggers.video.HailuoVideoTrigger"
    module, name = classpath.rsplit(".", 1)
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs == {"hailuo_conn_id": "hailuo_test", "video_task_id": "vt-1", "deadline": 1_900_000_000.5,
                      "poll_interval": 15.0, "initial_delay": 30.0, "max_transient_errors": 4}
    json.dumps(kwargs)  # plain JSON


def test_serialized_kwargs_hold_no_key_header_or_prompt() -> None:
    _, kwargs = make_trigger().serialize()
    assert set(kwargs) == {"hailuo_conn_id", "video_task_id", "deadline", "poll_interval", "initial_delay",
                           "max_transient_errors"}
    text = json.dumps(kwargs).lower()
    for word in ("authorization", "bearer", "password", "api_key", "sk-", "prompt"):
        assert word not in text


def test_deadline_may_be_an_iso_timestamp() -> None:
    trigger = make_trigger(deadline="2030-01-01T00:00:00Z")
    assert trigger.deadline == 1893456000.0
    assert make_trigger(deadline="2030-01-01T08:00:00+08:00").deadline == 1893456000.0


def test_init_does_no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("no I/O in __init__")

    monkeypatch.setattr("airflow_provider_hailuo.hooks.aget_hook", forbidden)
    monkeypatch.setattr("airflow_provider_hailuo.hooks.get_hook", forbidden)
    make_trigger()


# -- events ---------------------------------------------------------------------------------------

async def test_success_yields_one_event_with_the_status(fake_hook: Any) -> None:
    hook = fake_hook([status(TaskState.QUEUED), status(TaskState.RUNNING), status(TaskState.SUCCEEDED)])
    events = await events_of(make_trigger())
    assert len(events) == 1
    event = events[0]
    assert event["status"] == "success"
    assert event["video_task_id"] == "vt-1"
    assert event["vendor"] == "minimax"
    assert TaskStatus.from_dict(event["task_status"]) == status(TaskState.SUCCEEDED)
    json.dumps(event)
    assert hook.calls == 3
    assert hook.sessions_created == 1  # one HTTP session for the whole run
    assert hook.sessions_closed == 1


async def test_vendor_failure_yields_failed_with_the_reason(fake_hook: Any) -> None:
    fake_hook([status(TaskState.RUNNING), status(TaskState.FAILED)])
    (event,) = await events_of(make_trigger())
    assert event["status"] == "failed"
    assert event["error_class"] == "HailuoTaskFailedError"
    assert "generation failed upstream" in event["message"]
    assert "vt-1" in event["message"]


async def test_moderation_yields_failed_with_class_and_code(fake_hook: Any) -> None:
    fake_hook([status(TaskState.RUNNING),
               HailuoModerationError("status failed", vendor="minimax", code=1027, task_id="vt-1")])
    (event,) = await events_of(make_trigger())
    assert event["status"] == "failed"
    assert event["error_class"] == "HailuoModerationError"
    assert event["code"] == 1027


async def test_refused_key_yields_error_at_once(fake_hook: Any) -> None:
    hook = fake_hook([HailuoAuthenticationError("status failed: invalid api key", vendor="minimax", code=2049)])
    (event,) = await events_of(make_trigger())
    assert event["status"] == "error"
    assert event["error_class"] == "HailuoAuthenticationError"
    assert hook.calls == 1
    assert SECRET not in json.dumps(event)


async def test_transient_errors_within_the_budget_are_waited_out(fake_hook: Any) -> None:
    flaky = HailuoTransientError("status: server error", vendor="minimax", http_status=503)
    limited = HailuoRateLimitError("status failed", vendor="minimax", code=1002)
    hook = fake_hook([flaky, limited, flaky, status(TaskState.SUCCEEDED)])
    (event,) = await events_of(make_trigger(max_transient_errors=3))
    assert event["status"] == "success"
    assert hook.calls == 4


async def test_transient_errors_beyond_the_budget_yield_error(fake_hook: Any) -> None:
    flaky = HailuoTransientError("status: server error", vendor="minimax", http_status=503)
    hook = fake_hook([status(TaskState.RUNNING), flaky, flaky, flaky])
    (event,) = await events_of(make_trigger(max_transient_errors=2))
    assert event["status"] == "error"
    assert event["error_class"] == "HailuoTransientError"
    assert hook.calls == 4


async def test_deadline_yields_timeout(fake_hook: Any) -> None:
    hook = fake_hook([status(TaskState.RUNNING)])
    started = time.monotonic()
    (event,) = await events_of(make_trigger(deadline=time.time() + 0.3, poll_interval=0.05))
    assert time.monotonic() - started < 5
    assert event["status"] == "timeout"
    assert event["error_class"] == "HailuoTimeoutError"
    assert "vt-1" in event["message"] and "Processing" in event["message"]
    assert hook.calls >= 2


async def test_past_deadline_still_polls_once(fake_hook: Any) -> None:
    fake_hook([status(TaskState.SUCCEEDED)])
    (event,) = await events_of(make_trigger(deadline=time.time() - 100, initial_delay=30))
    assert event["status"] == "success"


async def test_missing_connection_yields_error(monkeypatch: pytest.MonkeyPatch) -> None:
    async def aget_hook(conn_id: str, **kwargs: object) -> None:
        raise HailuoConfigurationError(f"connection {conn_id!r} is not defined.", parameter="hailuo_conn_id")

    monkeypatch.setattr("airflow_provider_hailuo.hooks.aget_hook", aget_hook)
    (event,) = await events_of(make_trigger())
    assert event["status"] == "error"
    assert event["error_class"] == "HailuoConfigurationError"
    assert "hailuo_test" in event["message"]


async def test_unexpected_exception_still_yields_one_error_event(fake_hook: Any) -> None:
    fake_hook([RuntimeError("bug")])
    (event,) = await events_of(make_trigger())
    assert event["status"] == "error"
    assert event["error_class"] == "HailuoError"
    assert "RuntimeError" in event["message"]


async def test_events_turn_back_into_the_same_errors(fake_hook: Any) -> None:
    original = HailuoModerationError("status failed: flagged", vendor="minimax", code=1027,
                                     meaning="generated video flagged as sensitive", task_id="vt-1", trace_id="t-9")
    fake_hook([original])
    (event,) = await events_of(make_trigger())
    rebuilt = event_from_dict(event).raise_error()
    assert type(rebuilt) is HailuoModerationError
    assert str(rebuilt) == str(original)
    assert (rebuilt.vendor, rebuilt.code, rebuilt.trace_id, rebuilt.task_id) == ("minimax", 1027, "t-9", "vt-1")


# -- the shared decisions -------------------------------------------------------------------------

def test_poll_delay_grows_to_twice_the_interval_and_stops_at_the_deadline() -> None:
    assert next_poll_delay(10, 1, 1000) == 10
    assert next_poll_delay(10, 2, 1000) == pytest.approx(10 * BACKOFF_GROWTH)
    assert next_poll_delay(10, 50, 1000) == 20
    assert next_poll_delay(10, 1, 3) == 3
    assert next_poll_delay(10, 1, 0) is None
    assert next_poll_delay(10, 1, -5) is None
    assert next_poll_delay(10, 1, 1000, jitter=0.1) == pytest.approx(11)


def test_status_changes_are_logged_once(mocker: Any) -> None:
    log = mocker.MagicMock()
    poller = WaitDecisions(video_task_id="vt-1", vendor="minimax", deadline=time.time() + 60, poll_interval=1,
                          log=log)
    for state in (TaskState.QUEUED, TaskState.QUEUED, TaskState.RUNNING, TaskState.RUNNING, TaskState.RUNNING):
        assert poller.on_status(status(state)) is None
    assert log.info.call_count == 2
    assert log.debug.call_count == 3


def test_jitter_never_stretches_a_gap_past_the_cap() -> None:
    from airflow_provider_hailuo.waiting.decisions import next_poll_delay

    # 50 polls in, the gap sits at the cap (2 x 10 s); +10 % jitter must not push detection past it.
    assert next_poll_delay(10, 50, 1000, jitter=0.1) == 18
    assert next_poll_delay(10, 50, 1000, jitter=-0.1) == 18
    assert next_poll_delay(10, 1, 1000, jitter=0.1) == 11
    assert next_poll_delay(10, 50, 5, jitter=0.1) == 5
    assert next_poll_delay(10, 50, 0) is None
