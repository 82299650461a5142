"""HailuoGenerateVideoOperator without network or database: the hook is a mock."""

from __future__ import annotations

import base64
import io
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from airflow_provider_hailuo.core.models import TaskState, TaskStatus
from airflow_provider_hailuo.exceptions import (
    HailuoAuthenticationError,
    HailuoError,
    HailuoInvalidRequestError,
    HailuoModerationError,
    HailuoRateLimitError,
    HailuoTaskFailedError,
    HailuoTimeoutError,
    HailuoTransientError,
    HailuoVendorInvalidRequestError,
)
from airflow_provider_hailuo.operators.generate import (
    TASK_STATE_KEY,
    HailuoGenerateVideoOperator,
    request_fingerprint,
)
from airflow_provider_hailuo.operators.resume import HailuoSubmitUnconfirmedError, submitting_marker
from airflow_provider_hailuo.triggers.video import HailuoVideoTrigger
from airflow_provider_hailuo.vendors.minimax import MiniMaxDialect
from airflow_provider_hailuo.vendors.modelverse import ModelverseDialect
from airflow_provider_hailuo.waiting.decisions import WaitDecisions
from airflow_provider_hailuo.waiting.events import event_for_error

SECRET = "sk-test-HAILUO-SECRET-7f3a9c"


class FakeStore:
    """task_state_store stand-in: a dict with the accessor's get/set signature."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values = dict(values or {})
        self.writes: list[tuple[str, Any]] = []

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, *, retention: timedelta | None = None) -> None:
        self.writes.append((key, value))
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.writes.append((key, None))
        self.values.pop(key, None)


def status(state: TaskState, task_id: str = "vt-1", vendor: str = "minimax", **kwargs: Any) -> TaskStatus:
    raw = {TaskState.QUEUED: "Queueing", TaskState.RUNNING: "Processing", TaskState.SUCCEEDED: "Success",
           TaskState.FAILED: "Fail"}[state]
    if state is TaskState.SUCCEEDED and vendor != "modelverse":
        kwargs.setdefault("file_id", "file-1")
        kwargs.setdefault("video_width", 1366)
        kwargs.setdefault("video_height", 768)
    if state is TaskState.FAILED:
        kwargs.setdefault("error_message", "the model could not render it")
    return TaskStatus(vendor=vendor, task_id=task_id, state=state, raw_status=raw, **kwargs)


@pytest.fixture
def hook(mocker: Any) -> Any:
    fake = mocker.MagicMock(name="hook")
    fake.vendor = "minimax"
    fake.submit.return_value = "vt-1"
    fake.get_status.return_value = status(TaskState.RUNNING)
    fake.estimated_cost.side_effect = MiniMaxDialect().estimated_cost
    fake.for_api.return_value = fake  # a v1 model: the connection's own (v1) hook
    fake.api = "v1"
    fake.dialect = MiniMaxDialect()
    return fake


def make_operator(hook: Any, mocker: Any, **kwargs: Any) -> HailuoGenerateVideoOperator:
    params: dict[str, Any] = {"task_id": "generate", "model": "MiniMax-Hailuo-2.3", "prompt": "A cat on a boat",
                              "hailuo_conn_id": "hailuo_test", "initial_delay": 0, "poll_interval": 0.01}
    params.update(kwargs)
    operator = HailuoGenerateVideoOperator(**params)
    operator.__dict__["hook"] = hook  # cached_property: the instance dict wins
    mocker.patch.object(HailuoGenerateVideoOperator, "log", new_callable=mocker.PropertyMock,
                        return_value=mocker.MagicMock(name="log"))
    return operator


def ctx(store: FakeStore | None = None) -> Any:
    """A task context holding only what the operator reads: the task_state_store, when given."""
    return {"task_state_store": store} if store is not None else {}


def run(operator: HailuoGenerateVideoOperator, store: FakeStore) -> dict[str, Any]:
    """execute() that must return a result (not defer)."""
    result = operator.execute(ctx(store))
    assert result is not None
    return result


def logged(operator: HailuoGenerateVideoOperator) -> str:
    lines = []
    for call in operator.log.method_calls:  # type: ignore[attr-defined]
        args = call.args
        if not args:
            continue
        try:
            lines.append(str(args[0]) % args[1:] if len(args) > 1 else str(args[0]))
        except TypeError:
            lines.append(" ".join(str(a) for a in args))
    return "\n".join(lines)


def stored_for(operator: HailuoGenerateVideoOperator, video_task_id: str = "vt-old", **overrides: Any) -> dict:
    value = {"video_task_id": video_task_id, "vendor": "minimax",
             "request_sha256": request_fingerprint(operator.build_request())}
    value.update(overrides)
    return value


def png_data_url(width: int = 1280, height: int = 720) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# -- definition ----------------------------------------------------------------------------------

def test_template_fields_cover_prompt_and_images() -> None:
    fields = set(HailuoGenerateVideoOperator.template_fields)
    assert {"prompt", "first_frame_image", "last_frame_image", "subject_reference", "model"} <= fields


def test_defaults_and_timeout_as_timedelta() -> None:
    operator = HailuoGenerateVideoOperator(task_id="t", model="MiniMax-Hailuo-2.3", prompt="x",
                                           timeout=timedelta(minutes=5))
    assert operator.hailuo_conn_id == "hailuo_minimax_default"
    assert operator.deferrable is True
    assert operator.timeout == 300
    assert operator.poll_interval == 15
    assert operator.initial_delay is None  # 30 s when deferred, poll_interval in the worker (below)


@pytest.mark.parametrize("setting, expected", [(None, True), ("false", False), ("False", False), ("true", True)])
def test_deferrable_default_follows_airflow_config(monkeypatch: Any, setting: str | None, expected: bool) -> None:
    from airflow_provider_hailuo.sensors.video import HailuoVideoSensor

    monkeypatch.delenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", raising=False)
    if setting is not None:
        monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", setting)
    operator = HailuoGenerateVideoOperator(task_id="t", model="MiniMax-Hailuo-2.3", prompt="x")
    sensor = HailuoVideoSensor(task_id="s", video_task_id="1")
    assert (operator.deferrable, sensor.deferrable) == (expected, expected)
    # An explicit argument wins over the deployment's default either way.
    assert HailuoGenerateVideoOperator(task_id="u", model="MiniMax-Hailuo-2.3", prompt="x",
                                       deferrable=not expected).deferrable is (not expected)
    assert HailuoVideoSensor(task_id="v", video_task_id="1", deferrable=not expected).deferrable is (not expected)


def test_deferrable_default_read_from_airflow_cfg(monkeypatch: Any) -> None:
    """``[operators] default_deferrable = False`` in airflow.cfg is a choice too; Airflow's built-in
    default (also False) is not, so a stock deployment keeps deferring."""
    import configparser

    from airflow.providers.common.compat.sdk import conf

    monkeypatch.delenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", raising=False)
    assert not configparser.RawConfigParser.has_option(conf, "operators", "default_deferrable")
    assert conf.getboolean("operators", "default_deferrable", fallback=True) is False  # Airflow's own default
    assert HailuoGenerateVideoOperator(task_id="t", model="MiniMax-Hailuo-2.3", prompt="x").deferrable is True
    if not conf.has_section("operators"):
        conf.add_section("operators")
    configparser.RawConfigParser.set(conf, "operators", "default_deferrable", "False")
    try:
        assert HailuoGenerateVideoOperator(task_id="t", model="MiniMax-Hailuo-2.3", prompt="x").deferrable is False
    finally:
        configparser.RawConfigParser.remove_option(conf, "operators", "default_deferrable")


@pytest.mark.parametrize("name, value", [("poll_interval", 0), ("timeout", -1), ("timeout", "soon"),
                                         ("initial_delay", -5)])
def test_bad_timing_parameters_are_refused(name: str, value: Any) -> None:
    kwargs: dict[str, Any] = {name: value}
    with pytest.raises(HailuoInvalidRequestError, match=name):
        HailuoGenerateVideoOperator(task_id="t", model="MiniMax-Hailuo-2.3", prompt="x", **kwargs)


def test_module_import_is_light() -> None:
    import subprocess
    import sys

    code = ("import sys, airflow_provider_hailuo.operators.generate, airflow_provider_hailuo.sensors.video;"
            "print(sorted(m for m in ('aiohttp', 'requests', 'PIL', 'boto3') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


# -- bad input: nothing is sent ----------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"model": "MiniMax-Hailuo-9"},
    {"prompt": None},
    {"duration": 10, "resolution": "1080P"},
    {"first_frame_image": "/no/such/image.png"},
    {"model": "MiniMax-Hailuo-2.3", "last_frame_image": "https://example.com/a.png"},
])
def test_bad_input_raises_before_anything_is_sent(hook: Any, mocker: Any, kwargs: dict) -> None:
    operator = make_operator(hook, mocker, **kwargs)
    store = FakeStore()
    with pytest.raises(HailuoInvalidRequestError):
        operator.execute(ctx(store))
    hook.submit.assert_not_called()
    hook.get_status.assert_not_called()
    assert store.writes == []


def test_vendor_refusing_the_mode_raises_before_submit(hook: Any, mocker: Any) -> None:
    hook.vendor = "modelverse"
    hook.check_request.side_effect = ModelverseDialect().check_supported
    operator = make_operator(hook, mocker, model="S2V-01", prompt="the girl waves",
                             subject_reference=png_data_url(720, 1280))
    with pytest.raises(HailuoInvalidRequestError, match="subject-reference"):
        operator.execute(ctx(FakeStore()))
    hook.submit.assert_not_called()


# -- deferrable, first try -----------------------------------------------------------------------------

def test_defers_to_the_trigger_after_submit_and_one_check(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker, timeout=600, poll_interval=20, initial_delay=40)
    store = FakeStore()
    before = time.time()
    with pytest.raises(TaskDeferred) as info:
        operator.execute(ctx(store))
    deferred = info.value
    assert isinstance(deferred.trigger, HailuoVideoTrigger)
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout is None  # the trigger owns the deadline and reports it
    classpath, kwargs = deferred.trigger.serialize()
    assert classpath == "airflow_provider_hailuo.triggers.video.HailuoVideoTrigger"
    assert kwargs["hailuo_conn_id"] == "hailuo_test"
    assert kwargs["video_task_id"] == "vt-1"
    assert kwargs["poll_interval"] == 20
    assert kwargs["initial_delay"] == 40
    assert before + 600 <= kwargs["deadline"] <= time.time() + 600
    hook.submit.assert_called_once()
    hook.get_status.assert_called_once_with("vt-1")  # checked once before deferring
    # the marker before the request, then the id, before waiting
    marker = store.writes[0][1]
    assert marker["submitting"]["summary"] == "MiniMax-Hailuo-2.3 text-to-video, 6 s, 768P"
    assert (marker["request_sha256"], marker["vendor"], marker["api"]) == (operator._fingerprint, "minimax", "v1")
    assert "video_task_id" not in marker
    assert store.writes[1:] == [(TASK_STATE_KEY, {"video_task_id": "vt-1", "vendor": "minimax",
                                              "request_sha256": operator._fingerprint, "api": "v1",
                                              "facts": {"model": "MiniMax-Hailuo-2.3", "duration": 6,
                                                        "resolution": "768P", "mode": "text",
                                                        "expected_size": [1366, 768],
                                                        "prompt": "A cat on a boat",
                                                        "estimated_cost": {"amount": 1.0, "unit": "credits"},
                                                        "api": "v1", "ratio": None}})]
    log = logged(operator)
    assert "vt-1" in log
    assert "estimated cost: 1 credits" in log


def test_deferred_first_query_defaults_to_30_s_whatever_the_poll_interval(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker, poll_interval=5, initial_delay=None)
    with pytest.raises(TaskDeferred) as info:
        operator.execute(ctx(FakeStore()))
    _, kwargs = info.value.trigger.serialize()
    assert kwargs["initial_delay"] == 30 and kwargs["poll_interval"] == 5
    assert "first in about 30 s (initial_delay)" in logged(operator)


@pytest.mark.parametrize("initial_delay, first_sleep", [(None, 5.0), (12, 12.0), (0, 0.0)])
def test_sync_mode_first_query_comes_after_poll_interval_unless_initial_delay_is_set(
        hook: Any, mocker: Any, initial_delay: float | None, first_sleep: float) -> None:
    hook.get_status.side_effect = [status(TaskState.RUNNING), status(TaskState.RUNNING), status(TaskState.SUCCEEDED)]
    sleeps: list[float] = []
    mocker.patch("airflow_provider_hailuo.operators.generate.time.sleep", side_effect=sleeps.append)
    operator = make_operator(hook, mocker, deferrable=False, poll_interval=5, initial_delay=initial_delay)
    run(operator, FakeStore())
    # The first get_status is the one check after submitting; the wait's first sleep follows it.
    assert sleeps[0] == pytest.approx(first_sleep, abs=0.01)
    assert all(4.0 <= gap <= 10.0 for gap in sleeps[1:])


def test_result_dict_has_mode_api_and_the_estimated_cost(hook: Any, mocker: Any) -> None:
    hook.get_status.return_value = status(TaskState.SUCCEEDED)
    result = run(make_operator(hook, mocker), FakeStore())
    assert (result["api"], result["mode"], result["ratio"], result["usage"]) == ("v1", "text", None, None)
    assert result["estimated_cost"] == {"amount": 1.0, "unit": "credits"}  # seed 002: 2.3, 768P, 6 s
    hook.estimated_cost.side_effect = lambda *args: None  # a vendor without published prices
    image = run(make_operator(hook, mocker, first_frame_image=png_data_url()), FakeStore())
    assert (image["mode"], image["estimated_cost"]) == ("image", None)


def test_no_key_in_trigger_kwargs(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker)
    with pytest.raises(TaskDeferred) as info:
        operator.execute(ctx(FakeStore()))
    _, kwargs = info.value.trigger.serialize()
    assert set(kwargs) == {"hailuo_conn_id", "video_task_id", "deadline", "poll_interval", "initial_delay",
                           "max_transient_errors"}
    assert "A cat on a boat" not in repr(kwargs)


def test_fast_vendor_done_before_deferring_returns_the_result(hook: Any, mocker: Any) -> None:
    hook.get_status.return_value = status(TaskState.SUCCEEDED)
    operator = make_operator(hook, mocker)
    result = run(operator, FakeStore())
    assert result == {
        "vendor": "minimax", "model": "MiniMax-Hailuo-2.3", "video_task_id": "vt-1", "status": "succeeded",
        "file_id": "file-1", "video_url": None, "video_width": 1366, "video_height": 768, "duration": 6,
        "resolution": "768P", "prompt": "A cat on a boat", "api": "v1", "mode": "text", "ratio": None,
        "usage": None, "estimated_cost": {"amount": 1.0, "unit": "credits"},
    }


def test_failure_seen_by_the_check_before_deferring_raises(hook: Any, mocker: Any) -> None:
    hook.get_status.return_value = status(TaskState.FAILED)
    operator = make_operator(hook, mocker)
    with pytest.raises(HailuoTaskFailedError, match="vt-1.*could not render"):
        operator.execute(ctx(FakeStore()))


def test_transient_error_in_the_check_still_defers(hook: Any, mocker: Any) -> None:
    hook.get_status.side_effect = HailuoTransientError("status: server error", vendor="minimax", http_status=503)
    operator = make_operator(hook, mocker)
    with pytest.raises(TaskDeferred):
        operator.execute(ctx(FakeStore()))


def test_warnings_and_unknown_credit_cost_are_logged(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker, model="T2V-01-Director", prompt="[Pann left] a city at night")
    with pytest.raises(TaskDeferred):
        operator.execute(ctx(FakeStore()))
    log = logged(operator)
    assert "estimated cost: unknown" in log
    assert "camera command 'Pann left'" in log


# -- retries: reconnect instead of paying twice ------------------------------------------------------------

@pytest.mark.parametrize("state", [TaskState.QUEUED, TaskState.RUNNING])
def test_retry_reconnects_to_a_running_task(hook: Any, mocker: Any, state: TaskState) -> None:
    operator = make_operator(hook, mocker, initial_delay=30, poll_interval=10)
    store = FakeStore({TASK_STATE_KEY: stored_for(operator)})
    hook.get_status.return_value = status(state, task_id="vt-old")
    with pytest.raises(TaskDeferred) as info:
        operator.execute(ctx(store))
    hook.submit.assert_not_called()
    hook.get_status.assert_called_once_with("vt-old")  # the resume check doubles as the pre-defer check
    _, kwargs = info.value.trigger.serialize()
    assert kwargs["video_task_id"] == "vt-old"
    assert kwargs["initial_delay"] == 10
    assert store.writes == []


def test_retry_returns_the_result_of_a_succeeded_task(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker)
    store = FakeStore({TASK_STATE_KEY: stored_for(operator)})
    hook.get_status.return_value = status(TaskState.SUCCEEDED, task_id="vt-old")
    result = run(operator, store)
    hook.submit.assert_not_called()
    assert result["video_task_id"] == "vt-old"
    assert result["status"] == "succeeded"
    assert result["file_id"] == "file-1"


@pytest.mark.parametrize("deferrable", [True, False])
def test_retry_submits_anew_when_the_prior_task_failed(hook: Any, mocker: Any, deferrable: bool) -> None:
    operator = make_operator(hook, mocker, deferrable=deferrable)
    store = FakeStore({TASK_STATE_KEY: stored_for(operator)})
    hook.get_status.side_effect = [status(TaskState.FAILED, task_id="vt-old"), status(TaskState.RUNNING),
                                   status(TaskState.SUCCEEDED)]
    if deferrable:
        with pytest.raises(TaskDeferred) as info:
            operator.execute(ctx(store))
        assert info.value.trigger.serialize()[1]["video_task_id"] == "vt-1"
    else:
        assert run(operator, store)["video_task_id"] == "vt-1"
    hook.submit.assert_called_once()
    assert store.values[TASK_STATE_KEY]["video_task_id"] == "vt-1"
    assert "failed" in logged(operator)


def test_retry_submits_anew_when_the_prior_task_was_moderated(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker)
    store = FakeStore({TASK_STATE_KEY: stored_for(operator)})
    hook.get_status.side_effect = [
        HailuoModerationError("status failed", vendor="minimax", code=1027, task_id="vt-old"),
        status(TaskState.RUNNING),
    ]
    with pytest.raises(TaskDeferred):
        operator.execute(ctx(store))
    hook.submit.assert_called_once()


def test_retry_submits_anew_when_the_vendor_no_longer_knows_the_task(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker)
    store = FakeStore({TASK_STATE_KEY: stored_for(operator)})
    hook.get_status.side_effect = [
        HailuoVendorInvalidRequestError("task not found", vendor="minimax", code=2013), status(TaskState.RUNNING),
    ]
    with pytest.raises(TaskDeferred):
        operator.execute(ctx(store))
    hook.submit.assert_called_once()


def test_retry_does_not_submit_when_the_prior_status_cannot_be_read(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker)
    store = FakeStore({TASK_STATE_KEY: stored_for(operator)})
    hook.get_status.side_effect = HailuoTransientError("status: no answer", vendor="minimax")
    with pytest.raises(HailuoTransientError):
        operator.execute(ctx(store))
    hook.submit.assert_not_called()


@pytest.mark.parametrize("override", [{"request_sha256": "0" * 64}, {"vendor": "modelverse"}])
def test_stored_task_of_another_request_or_vendor_is_not_reused(hook: Any, mocker: Any, override: dict) -> None:
    operator = make_operator(hook, mocker)
    store = FakeStore({TASK_STATE_KEY: stored_for(operator, **override)})
    with pytest.raises(TaskDeferred) as info:
        operator.execute(ctx(store))
    hook.submit.assert_called_once()
    assert info.value.trigger.serialize()[1]["video_task_id"] == "vt-1"
    assert hook.get_status.call_args_list[0].args == ("vt-1",)  # the old one was not even queried


def test_a_bare_stored_id_is_accepted(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker)
    hook.get_status.return_value = status(TaskState.SUCCEEDED, task_id="vt-bare")
    result = run(operator, FakeStore({TASK_STATE_KEY: "vt-bare"}))
    assert result["video_task_id"] == "vt-bare"
    hook.submit.assert_not_called()


def test_no_task_state_store_submits_and_says_so(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker)
    with pytest.raises(TaskDeferred):
        operator.execute(ctx())
    hook.submit.assert_called_once()
    assert logged(operator).count("crash recovery is disabled") == 1


def test_durable_false_always_submits(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker, durable=False)
    store = FakeStore({TASK_STATE_KEY: {"video_task_id": "vt-old", "vendor": "minimax"}})
    with pytest.raises(TaskDeferred):
        operator.execute(ctx(store))
    hook.submit.assert_called_once()
    assert "durable=False" in logged(operator)


# -- execute_complete: every event kind ----------------------------------------------------------

def _event(**kwargs: Any) -> dict[str, Any]:
    poller = WaitDecisions(video_task_id="vt-9", vendor="minimax", deadline=time.time() + 60, poll_interval=1)
    if "state" in kwargs:
        event = poller.on_status(status(kwargs["state"], task_id="vt-9"))
        assert event is not None
        return event.to_dict()
    if "error" in kwargs:
        return event_for_error(kwargs["error"], "vt-9", "minimax").to_dict()
    return poller.timeout_event().to_dict()


def test_execute_complete_success_returns_the_result_dict(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker, model="MiniMax-Hailuo-02", duration=10, resolution="768P")
    result = operator.execute_complete(ctx(), _event(state=TaskState.SUCCEEDED))
    assert result["video_task_id"] == "vt-9"
    assert result["model"] == "MiniMax-Hailuo-02"
    assert result["duration"] == 10
    assert result["resolution"] == "768P"
    assert result["prompt"] == "A cat on a boat"
    assert result["file_id"] == "file-1"
    assert (result["mode"], result["api"]) == ("text", "v1")  # known after deferral, nothing re-read
    assert result["estimated_cost"] == {"amount": 2.0, "unit": "credits"}  # seed 002: 02, 768P, 10 s
    hook.get_status.assert_not_called()


def test_execute_complete_failed_raises_task_failed_with_the_id_and_reason(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker)
    with pytest.raises(HailuoTaskFailedError, match="vt-9.*could not render") as info:
        operator.execute_complete(ctx(), _event(state=TaskState.FAILED))
    assert info.value.task_id == "vt-9"
    assert info.value.reason == "the model could not render it"


def test_execute_complete_moderation_keeps_its_class_and_code(hook: Any, mocker: Any) -> None:
    error = HailuoModerationError("status failed: output flagged", vendor="minimax", code=1027,
                                  meaning="generated video flagged as sensitive", task_id="vt-9", trace_id="tr-1")
    operator = make_operator(hook, mocker)
    with pytest.raises(HailuoModerationError) as info:
        operator.execute_complete(ctx(), _event(error=error))
    assert str(info.value) == str(error)
    assert info.value.code == 1027
    assert info.value.trace_id == "tr-1"
    assert "vt-9" in str(info.value)


def test_execute_complete_timeout_raises_timeout_with_the_id(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker)
    with pytest.raises(HailuoTimeoutError, match="vt-9.*waits for it again") as info:
        operator.execute_complete(ctx(), _event())
    assert info.value.task_id == "vt-9"


def test_execute_complete_error_raises_the_mapped_error(hook: Any, mocker: Any) -> None:
    error = HailuoAuthenticationError("status failed: invalid api key", vendor="minimax", code=2049)
    operator = make_operator(hook, mocker)
    with pytest.raises(HailuoAuthenticationError, match="vt-9") as info:
        operator.execute_complete(ctx(), _event(error=error))
    assert info.value.vendor == "minimax"


def test_execute_complete_unknown_error_class_falls_back(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker)
    event = {"status": "error", "video_task_id": "vt-9", "vendor": "minimax", "message": "boom",
             "error_class": "os.system", "task_status": None}
    with pytest.raises(HailuoError, match="boom.*vt-9") as info:
        operator.execute_complete(ctx(), event)
    assert type(info.value) is HailuoError


@pytest.mark.parametrize("event", [
    None, "success", {}, {"status": "done", "video_task_id": "x"}, {"status": "success"},
    {"status": "success", "video_task_id": "x", "task_status": None},
    {"status": "success", "video_task_id": "x", "task_status": {"state": "nope"}},
    {"status": "success", "video_task_id": "x", "task_status": status(TaskState.RUNNING).to_dict()},
])
def test_execute_complete_malformed_event_raises_hailuo_error(hook: Any, mocker: Any, event: Any) -> None:
    operator = make_operator(hook, mocker)
    with pytest.raises(HailuoError, match="malformed"):
        operator.execute_complete(ctx(), event)


# -- sync mode --------------------------------------------------------------------------------------

def test_sync_mode_polls_in_the_worker(hook: Any, mocker: Any) -> None:
    hook.get_status.side_effect = [status(TaskState.QUEUED), status(TaskState.RUNNING), status(TaskState.RUNNING),
                                   status(TaskState.SUCCEEDED)]
    operator = make_operator(hook, mocker, deferrable=False)
    store = FakeStore()
    result = run(operator, store)
    assert result["status"] == "succeeded"
    assert hook.get_status.call_count == 4
    assert store.values[TASK_STATE_KEY]["video_task_id"] == "vt-1"
    log = logged(operator)
    assert log.count("vt-1: running") == 1  # status changes are logged once


def test_sync_mode_failure_raises(hook: Any, mocker: Any) -> None:
    hook.get_status.side_effect = [status(TaskState.RUNNING), status(TaskState.FAILED)]
    operator = make_operator(hook, mocker, deferrable=False)
    with pytest.raises(HailuoTaskFailedError, match="vt-1"):
        operator.execute(ctx(FakeStore()))


def test_sync_mode_timeout_raises_with_the_task_id(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker, deferrable=False, timeout=0.2, poll_interval=0.02)
    with pytest.raises(HailuoTimeoutError, match="vt-1.*Processing"):
        operator.execute(ctx(FakeStore()))
    assert hook.get_status.call_count >= 2


def test_sync_mode_tolerates_transient_errors_within_the_budget(hook: Any, mocker: Any) -> None:
    flaky = HailuoTransientError("status: server error", vendor="minimax", http_status=502)
    hook.get_status.side_effect = [flaky, flaky, status(TaskState.SUCCEEDED)]
    operator = make_operator(hook, mocker, deferrable=False, max_transient_errors=2)
    assert run(operator, FakeStore())["status"] == "succeeded"


def test_sync_mode_gives_up_after_the_budget(hook: Any, mocker: Any) -> None:
    flaky = HailuoTransientError("status: server error", vendor="minimax", http_status=502)
    hook.get_status.side_effect = [flaky, flaky, flaky]
    operator = make_operator(hook, mocker, deferrable=False, max_transient_errors=2)
    with pytest.raises(HailuoTransientError, match="server error"):
        operator.execute(ctx(FakeStore()))


def test_sync_mode_reconnect_does_not_submit(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker, deferrable=False)
    store = FakeStore({TASK_STATE_KEY: stored_for(operator)})
    hook.get_status.side_effect = [status(TaskState.RUNNING, task_id="vt-old"),
                                   status(TaskState.SUCCEEDED, task_id="vt-old")]
    assert run(operator, store)["video_task_id"] == "vt-old"
    hook.submit.assert_not_called()


# -- result details ------------------------------------------------------------------------------------

def test_sizes_missing_from_the_vendor_follow_the_resolution(hook: Any, mocker: Any) -> None:
    hook.vendor = "modelverse"
    hook.get_status.return_value = status(TaskState.SUCCEEDED, vendor="modelverse",
                                          video_url="https://cdn.example.com/v.mp4")
    operator = make_operator(hook, mocker, resolution="1080P")
    result = run(operator, FakeStore())
    assert (result["video_width"], result["video_height"]) == (1920, 1080)
    assert result["video_url"] == "https://cdn.example.com/v.mp4"
    assert result["file_id"] is None


def test_sizes_missing_from_the_vendor_follow_the_first_frame_after_deferral(hook: Any, mocker: Any) -> None:
    frame = png_data_url(720, 1280)
    with pytest.raises(TaskDeferred) as deferred:
        make_operator(hook, mocker, first_frame_image=frame, prompt=None).execute(ctx(FakeStore()))
    facts = deferred.value.kwargs["facts"]
    assert "data:" not in json.dumps(facts)  # JSON facts, never the image
    # After the trigger fires, a new operator instance resumes: it must not read the image again.
    operator = make_operator(hook, mocker, first_frame_image=frame, prompt=None)
    mocker.patch.object(HailuoGenerateVideoOperator, "build_request", side_effect=AssertionError("re-read"))
    poller = WaitDecisions(video_task_id="vt-9", vendor="modelverse", deadline=time.time() + 60, poll_interval=1)
    event = poller.on_status(status(TaskState.SUCCEEDED, task_id="vt-9", vendor="modelverse",
                                    video_url="https://cdn.example.com/v.mp4"))
    assert event is not None
    result = operator.execute_complete(ctx(), event.to_dict(), **deferred.value.kwargs)
    assert (result["video_width"], result["video_height"]) == (768, 1366)
    assert result["prompt"] is None


def test_ambiguous_submit_failure_is_raised_with_a_warning_and_keeps_the_marker(hook: Any, mocker: Any) -> None:
    hook.submit.side_effect = HailuoTransientError("submit: no answer within the timeout", vendor="minimax")
    operator = make_operator(hook, mocker)
    store = FakeStore()
    with pytest.raises(HailuoTransientError):
        operator.execute(ctx(store))
    assert "may have started a video" in logged(operator)
    assert [key for key, _ in store.writes] == [TASK_STATE_KEY]  # the marker, never replaced or removed
    assert submitting_marker(store.values[TASK_STATE_KEY]) is not None


def test_a_clear_refusal_removes_the_marker_so_a_retry_may_submit(hook: Any, mocker: Any) -> None:
    hook.submit.side_effect = HailuoRateLimitError("submit: rate limited", vendor="minimax", code=1002)
    operator = make_operator(hook, mocker)
    store = FakeStore()
    with pytest.raises(HailuoRateLimitError):
        operator.execute(ctx(store))
    assert store.writes[-1] == (TASK_STATE_KEY, None) and TASK_STATE_KEY not in store.values
    assert "may have started a video" not in logged(operator)


def test_a_retry_finding_the_marker_refuses_to_submit_again(hook: Any, mocker: Any) -> None:
    first = make_operator(hook, mocker)
    store = FakeStore()
    hook.submit.side_effect = HailuoTransientError("submit: connection reset after sending", vendor="minimax")
    with pytest.raises(HailuoTransientError):
        first.execute(ctx(store))
    hook.submit.reset_mock()
    retry = make_operator(hook, mocker)
    with pytest.raises(HailuoSubmitUnconfirmedError) as info:
        retry.execute(ctx(store))
    assert isinstance(info.value, AirflowFailException)  # no retries spent on the same refusal
    message = str(info.value)
    assert "minimax" in message and "not paid twice" in message and "state-store" in message
    assert "MiniMax-Hailuo-2.3 text-to-video" in message
    hook.submit.assert_not_called()
    hook.get_status.assert_not_called()


def test_a_marker_for_another_request_does_not_block_the_new_one(hook: Any, mocker: Any) -> None:
    store = FakeStore({TASK_STATE_KEY: {"submitting": {"at": "2026-12-01T00:00:00+00:00", "try_number": 1,
                                                       "summary": "old"},
                                        "request_sha256": "0" * 64, "vendor": "minimax", "api": "v1"}})
    operator = make_operator(hook, mocker)
    with pytest.raises(TaskDeferred):
        operator.execute(ctx(store))
    hook.submit.assert_called_once()
    assert store.values[TASK_STATE_KEY]["video_task_id"] == "vt-1"


def test_on_kill_names_the_running_vendor_task(hook: Any, mocker: Any) -> None:
    operator = make_operator(hook, mocker)
    with pytest.raises(TaskDeferred):
        operator.execute(ctx(FakeStore()))
    operator.on_kill()
    assert "no cancel call: video task vt-1 keeps running" in logged(operator)


def test_the_key_never_reaches_logs_or_events(hook: Any, mocker: Any) -> None:
    error = HailuoAuthenticationError("status failed: invalid api key", vendor="minimax", code=2049)
    event = event_for_error(error, "vt-1", "minimax")
    assert SECRET not in repr(event)
    operator = make_operator(hook, mocker)
    with pytest.raises(TaskDeferred):
        operator.execute(ctx(FakeStore()))
    assert SECRET not in logged(operator)
