"""The wait's event vocabulary: typed, frozen, JSON both ways, and errors that come back whole."""

from __future__ import annotations

import dataclasses
import json

import pytest

from airflow_provider_hailuo.core.models import TaskState, TaskStatus
from airflow_provider_hailuo.exceptions import (
    HailuoConfigurationError,
    HailuoModerationError,
    HailuoTaskFailedError,
    HailuoTimeoutError,
    HailuoVendorInvalidRequestError,
)
from airflow_provider_hailuo.waiting.decisions import WaitDecisions
from airflow_provider_hailuo.waiting.events import (
    VideoFailed,
    VideoSucceeded,
    WaitErrored,
    event_for_error,
    event_from_dict,
)


def decisions() -> WaitDecisions:
    return WaitDecisions(video_task_id="vt-1", vendor="minimax", deadline=0.0, poll_interval=1)


def test_events_are_frozen_and_survive_json() -> None:
    done = TaskStatus(vendor="minimax", task_id="vt-1", state=TaskState.SUCCEEDED, raw_status="Success",
                      file_id="f-1", video_width=1366, video_height=768)
    event = decisions().on_status(done)
    assert isinstance(event, VideoSucceeded)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.message = "changed"  # type: ignore[misc]
    again = event_from_dict(json.loads(json.dumps(event.to_dict())))
    assert again == event
    assert again.outcome() == done


def test_a_status_dict_is_what_asdict_gave_and_shares_no_container() -> None:
    # TaskStatus.to_dict copies field by field (asdict deep-copies everything, a cost on every event);
    # the dict must stay what asdict made, and the one container, usage, must still be a copy.
    usage = {"tokens": {"video": 12}, "seconds": 10}
    status = TaskStatus(vendor="minimax", task_id="vt-1", state=TaskState.SUCCEEDED, raw_status="Success",
                        file_id="f-1", api="v2", usage=usage)
    data = status.to_dict()
    assert data == {**dataclasses.asdict(status), "state": "succeeded"}
    data["usage"]["tokens"]["video"] = 0
    assert usage == {"tokens": {"video": 12}, "seconds": 10}
    assert TaskStatus.from_dict(data).file_id == "f-1"


def test_an_invalid_request_crosses_with_its_parameter_and_value() -> None:
    original = HailuoConfigurationError("connection 'c' has host 'ftp://x'; expected a base URL",
                                        parameter="host", value="ftp://x")
    event = event_from_dict(json.loads(json.dumps(event_for_error(original, "vt-1", "minimax").to_dict())))
    assert isinstance(event, WaitErrored)
    rebuilt = event.raise_error()
    assert type(rebuilt) is HailuoConfigurationError
    assert (rebuilt.parameter, rebuilt.value) == ("host", "ftp://x")
    assert str(original) in str(rebuilt) and "vt-1" in str(rebuilt)


def test_a_vendor_error_crosses_with_every_attribute() -> None:
    original = HailuoVendorInvalidRequestError("status failed: bad task", vendor="dmxapi", code=2013,
                                               meaning="invalid parameters", trace_id="t-1", http_status=400,
                                               task_id="vt-1")
    rebuilt = event_from_dict(event_for_error(original, "vt-1", "dmxapi").to_dict()).raise_error()
    assert type(rebuilt) is HailuoVendorInvalidRequestError
    assert str(rebuilt) == str(original)
    assert (rebuilt.vendor, rebuilt.code, rebuilt.meaning, rebuilt.trace_id, rebuilt.http_status, rebuilt.task_id) == (
        "dmxapi", 2013, "invalid parameters", "t-1", 400, "vt-1")


def test_a_data_url_value_never_crosses_whole() -> None:
    original = HailuoConfigurationError("bad image", parameter="first_frame_image",
                                        value="data:image/png;base64," + "A" * 5000)
    text = json.dumps(event_for_error(original, "vt-1", "minimax").to_dict())
    assert "AAAA" not in text


# -- events written by the release before the typed vocabulary (no "error" key) ----------------------

LEGACY_MODERATION = {
    "status": "failed", "video_task_id": "vt-1", "vendor": "minimax",
    "message": "minimax: status failed: flagged; code 1027 (generated video flagged as sensitive); "
               "HTTP 200; video_task_id vt-1; Trace-Id t-9",
    "error_class": "HailuoModerationError", "code": 1027, "trace_id": "t-9", "task_status": None,
}
LEGACY_FAILED = {
    "status": "failed", "video_task_id": "vt-2", "vendor": "minimax",
    "message": "minimax video task vt-2 failed: could not render", "error_class": "HailuoTaskFailedError",
    "code": None, "trace_id": None,
    "task_status": {"vendor": "minimax", "task_id": "vt-2", "state": "failed", "raw_status": "Fail",
                    "file_id": None, "video_url": None, "video_width": None, "video_height": None,
                    "duration": None, "error_message": "could not render", "error_code": None, "trace_id": None},
}
LEGACY_TIMEOUT = {
    "status": "timeout", "video_task_id": "vt-3", "vendor": "dmxapi",
    "message": "dmxapi video task vt-3 did not finish by the deadline 2026-01-01T00:00:00+00:00 (no status seen "
               "yet). It may still be running at the vendor: a retry of this Airflow task waits for it again "
               "instead of submitting a new video.",
    "error_class": "HailuoTimeoutError", "code": None, "trace_id": None, "task_status": None,
}


def test_an_old_vendor_error_event_comes_back_as_the_same_error() -> None:
    event = event_from_dict(LEGACY_MODERATION)
    assert isinstance(event, VideoFailed)
    rebuilt = event.raise_error()
    assert type(rebuilt) is HailuoModerationError
    assert str(rebuilt) == LEGACY_MODERATION["message"]
    assert (rebuilt.code, rebuilt.meaning, rebuilt.http_status, rebuilt.task_id, rebuilt.trace_id) == (
        1027, "generated video flagged as sensitive", 200, "vt-1", "t-9")


def test_old_failed_and_timeout_events_come_back_as_their_errors() -> None:
    failed = event_from_dict(LEGACY_FAILED).raise_error()
    assert isinstance(failed, HailuoTaskFailedError)
    assert (str(failed), failed.reason, failed.task_id) == (LEGACY_FAILED["message"], "could not render", "vt-2")
    timeout = event_from_dict(LEGACY_TIMEOUT).raise_error()
    assert isinstance(timeout, HailuoTimeoutError)
    assert (str(timeout), timeout.task_id) == (LEGACY_TIMEOUT["message"], "vt-3")
