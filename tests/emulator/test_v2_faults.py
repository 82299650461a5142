"""The v1 fault switches work on the v2 endpoints (``v2_submit``, ``v2_status``, ... ``v2_download``)."""

from __future__ import annotations

import json
import time

import pytest
import requests

from airflow_provider_hailuo.emulator import EmulatorServer

from .helpers import TIMEOUT
from .v2_helpers import BEARER, assert_error, body, create, delete, listing, png, query, task, task_id, upload

pytestmark = pytest.mark.integration


def fresh() -> requests.Session:
    session = requests.Session()
    session.headers["Connection"] = "close"
    return session


@pytest.mark.parametrize(
    ("status", "error_type", "code"),
    [(500, "server_error", 1000), (529, "overloaded_error", None), (429, "rate_limit_error", 1002)],
)
def test_http_status_in_the_v2_shape(emulator: EmulatorServer, status: int, error_type: str, code: int | None) -> None:
    emulator.add_fault(endpoint="v2_submit", kind="http_status", status=status)
    assert_error(create(emulator, body()), status, error_type, code)
    task_id(create(emulator, body()))  # consumed: the next one passes
    assert [entry.get("fault") for entry in emulator.requests(endpoint="v2_submit")] == ["http_status", None]


def test_gateway_statuses_are_html(emulator: EmulatorServer) -> None:
    emulator.add_fault(endpoint="v2_status", kind="http_status", status=503, times=2)
    tid = task_id(create(emulator, body()))
    first, second = query(emulator, tid), query(emulator, tid)
    assert (first.status_code, second.status_code) == (503, 503)
    assert first.headers["Content-Type"].startswith("text/html") and "nginx" in first.text
    assert query(emulator, tid).status_code == 200


@pytest.mark.parametrize(
    ("code", "status", "error_type"),
    [(1002, 429, "rate_limit_error"), (1004, 401, "authorized_error"), (1008, 402, "insufficient_balance_error"),
     (1026, 422, "unprocessable_entity_error"), (2013, 400, "bad_request_error"), (1000, 500, "server_error")],
)  # fmt: skip
def test_base_resp_codes_map_to_v2_errors(emulator: EmulatorServer, code: int, status: int, error_type: str) -> None:
    emulator.add_fault(endpoint="v2_list", kind="base_resp", code=code)
    assert_error(listing(emulator), status, error_type, code)
    assert listing(emulator).status_code == 200


def test_overloaded_code_has_no_number(emulator: EmulatorServer) -> None:
    emulator.add_fault(endpoint="v2_delete", kind="base_resp", code=1033)
    assert_error(delete(emulator, "1"), 529, "overloaded_error", None)


def test_reset_slow_and_malformed(emulator: EmulatorServer) -> None:
    emulator.add_fault(endpoint="v2_submit", kind="reset")
    with pytest.raises(requests.ConnectionError):
        fresh().post(
            emulator.base_url("minimax") + "/v2/video_generation", json=body(), headers=BEARER, timeout=TIMEOUT
        )
    assert emulator.tasks() == []
    emulator.add_fault(endpoint="v2_submit", kind="slow", delay=0.3)
    started = time.monotonic()
    tid = task_id(create(emulator, body()))
    assert time.monotonic() - started >= 0.3
    emulator.add_fault(endpoint="v2_status", kind="malformed_json")
    broken = query(emulator, tid)
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.text)


def test_truncated_status_body(emulator: EmulatorServer) -> None:
    tid = task_id(create(emulator, body()))
    emulator.add_fault(endpoint="v2_status", kind="truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        url = emulator.base_url("minimax") + f"/v2/query/video_generation/{tid}"
        fresh().get(url, headers=BEARER, timeout=TIMEOUT).content  # noqa: B018


def test_download_faults(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0, synthetic_video_bytes=100_000)
    url = task(emulator, task_id(create(emulator, body())))["content"]["url"]
    emulator.add_fault(endpoint="v2_download", kind="expired_url")
    expired = requests.get(url, timeout=TIMEOUT)
    assert expired.status_code == 403 and "Request has expired." in expired.text
    emulator.add_fault(endpoint="v2_download", kind="http_status", status=503)
    unavailable = requests.get(url, timeout=TIMEOUT)
    assert unavailable.status_code == 503 and unavailable.headers["Content-Type"].startswith("application/xml")
    emulator.add_fault(endpoint="v2_download", kind="truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        fresh().get(url, timeout=TIMEOUT).content  # noqa: B018
    assert emulator.requests(endpoint="v2_download")[-1]["complete"] is False
    assert len(requests.get(url, timeout=TIMEOUT).content) == 100_000


def test_upload_faults_and_the_vendor_filter(emulator: EmulatorServer) -> None:
    emulator.add_fault(endpoint="v2_upload", kind="http_status", status=502)
    assert upload(emulator, png(), "a.png").status_code == 502
    emulator.add_fault(endpoint="v2_submit", kind="http_status", status=500, vendor="dmxapi")
    task_id(create(emulator, body()))  # a fault for another vendor does not fire on MiniMax v2
    assert emulator.faults()[0]["vendor"] == "dmxapi"
