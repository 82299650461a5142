"""Injected faults: every kind, per endpoint and vendor, consumed after ``times`` requests."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
import requests

from airflow_provider_hailuo.emulator import EmulatorServer, synthetic_video_chunks

from .helpers import API_KEY, AUTH, TIMEOUT, generate, query, retrieve, submit, task_id_of

pytestmark = pytest.mark.integration


def fresh() -> requests.Session:
    """A session that does not reuse connections, so a closed connection is seen as such."""
    session = requests.Session()
    session.headers["Connection"] = "close"
    return session


def test_http_status_then_recovers(emulator: EmulatorServer) -> None:
    task_id = task_id_of("minimax", submit(emulator, "minimax", prompt="x"))
    emulator.add_fault(endpoint="status", kind="http_status", status=503, times=2)
    first = query(emulator, "minimax", task_id)
    second = query(emulator, "minimax", task_id)
    assert (first.status_code, second.status_code) == (503, 503)
    assert first.headers["Content-Type"].startswith("text/html") and "503" in first.text
    assert first.headers.get("Trace-Id")
    assert query(emulator, "minimax", task_id).json()["base_resp"]["status_code"] == 0
    assert emulator.faults() == []
    logged = emulator.requests(endpoint="status")
    assert [entry.get("fault") for entry in logged] == ["http_status", "http_status", None]
    assert [entry["status"] for entry in logged] == [503, 503, 200]


def test_fault_vendor_filter(emulator: EmulatorServer) -> None:
    emulator.add_fault(endpoint="submit", kind="http_status", status=500, vendor="dmxapi")
    task_id_of("minimax", submit(emulator, "minimax", prompt="unaffected"))
    assert submit(emulator, "dmxapi", prompt="hit").status_code == 500
    task_id_of("dmxapi", submit(emulator, "dmxapi", prompt="recovered"))


def test_modelverse_http_status_is_json(emulator: EmulatorServer) -> None:
    emulator.add_fault(endpoint="submit", kind="http_status", status=502)
    response = submit(emulator, "modelverse", prompt="x")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"


@pytest.mark.parametrize("code", [1002, 1004, 1033, 2056])
def test_base_resp_fault(emulator: EmulatorServer, code: int) -> None:
    emulator.add_fault(endpoint="submit", kind="base_resp", code=code)
    response = submit(emulator, "minimax", prompt="x")
    assert response.status_code == 200
    assert response.json()["base_resp"]["status_code"] == code
    assert emulator.tasks() == []


def test_base_resp_fault_on_query_and_modelverse(emulator: EmulatorServer) -> None:
    task_id = task_id_of("dmxapi", submit(emulator, "dmxapi", prompt="x"))
    emulator.add_fault(endpoint="status", kind="base_resp", code=1004)
    assert query(emulator, "dmxapi", task_id).json()["base_resp"]["status_code"] == 1004
    emulator.add_fault(endpoint="submit", kind="base_resp", code=1002, vendor="modelverse")
    response = submit(emulator, "modelverse", prompt="x")
    assert response.status_code == 429 and response.json()["error"]["code"] == "rate_limit_exceeded"
    emulator.add_fault(endpoint="submit", kind="base_resp", code=1008, vendor="modelverse")
    assert submit(emulator, "modelverse", prompt="x").status_code == 402


@pytest.mark.parametrize("vendor", ["minimax", "modelverse"])
def test_reset_closes_the_connection(emulator: EmulatorServer, vendor: str) -> None:
    task_id = task_id_of(vendor, submit(emulator, vendor, prompt="x"))
    emulator.add_fault(endpoint="status", kind="reset")
    with pytest.raises(requests.ConnectionError):
        fresh().get(
            emulator.base_url(vendor)
            + ("/v1/tasks/status" if vendor == "modelverse" else "/v1/query/video_generation"),
            params={"task_id": task_id},
            headers=AUTH[vendor],
            timeout=TIMEOUT,
        )
    assert query(emulator, vendor, task_id).status_code == 200
    entry = emulator.requests(endpoint="status")[0]
    assert entry["fault"] == "reset" and entry["status"] is None


def test_slow(emulator: EmulatorServer) -> None:
    emulator.add_fault(endpoint="submit", kind="slow", delay=0.4)
    started = time.monotonic()
    task_id_of("minimax", submit(emulator, "minimax", prompt="x"))
    assert time.monotonic() - started >= 0.4
    with pytest.raises(requests.Timeout):
        emulator.add_fault(endpoint="submit", kind="slow", delay=1.0)
        requests.post(
            emulator.base_url("minimax") + "/v1/video_generation",
            json={"model": "MiniMax-Hailuo-02", "prompt": "x"},
            headers=AUTH["minimax"],
            timeout=0.3,
        )


@pytest.mark.parametrize("vendor", ["minimax", "modelverse"])
def test_malformed_json(emulator: EmulatorServer, vendor: str) -> None:
    emulator.add_fault(endpoint="submit", kind="malformed_json")
    response = submit(emulator, vendor, prompt="x")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert emulator.tasks() == []


def test_truncated_json(emulator: EmulatorServer) -> None:
    emulator.add_fault(endpoint="submit", kind="truncated")
    with pytest.raises(requests.exceptions.RequestException):
        fresh().post(
            emulator.base_url("dmxapi") + "/v1/video_generation",
            json={"model": "MiniMax-Hailuo-02", "prompt": "x"},
            headers=AUTH["dmxapi"],
            timeout=TIMEOUT,
        ).json()


@pytest.mark.parametrize("endpoint", ["download", "backup_download"])
def test_truncated_download(emulator: EmulatorServer, endpoint: str) -> None:
    emulator.configure(generation_seconds=0, synthetic_video_bytes=1_000_000)
    result = generate(emulator, "minimax")
    url = result["url"] if endpoint == "download" else result["backup_url"]
    emulator.add_fault(endpoint=endpoint, kind="truncated")
    received = bytearray()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        with fresh().get(url, stream=True, timeout=TIMEOUT) as response:
            assert response.headers["Content-Length"] == "1000000"
            for chunk in response.iter_content(65536):
                received += chunk
    assert 0 < len(received) <= 500_000  # requests drops the last partial read when it raises
    entry = emulator.requests(endpoint=endpoint)[0]
    assert entry["complete"] is False and entry["bytes_sent"] == 500_000
    sent = b"".join(synthetic_video_chunks(1_000_000, end=500_000))
    assert entry["sha256"] == hashlib.sha256(sent).hexdigest()
    assert sent.startswith(bytes(received))
    # the next download is whole
    assert len(requests.get(url, timeout=TIMEOUT).content) == 1_000_000


def test_truncated_retrieve_content(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0, synthetic_video_bytes=300_000)
    result = generate(emulator, "minimax")
    emulator.add_fault(endpoint="retrieve_content", kind="truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        fresh().get(
            emulator.base_url("minimax") + "/v1/files/retrieve_content",
            params={"file_id": result["file_id"]},
            headers=AUTH["minimax"],
            timeout=TIMEOUT,
        )


def test_expired_url_fault_then_backup(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0)
    result = generate(emulator, "minimax")
    emulator.add_fault(endpoint="download", kind="expired_url", times=2)
    for _ in range(2):
        expired = requests.get(result["url"], timeout=TIMEOUT)
        assert expired.status_code == 403
        assert "<Code>AccessDenied</Code>" in expired.text and "expired" in expired.text
    assert requests.get(result["backup_url"], timeout=TIMEOUT).status_code == 200
    assert requests.get(result["url"], timeout=TIMEOUT).status_code == 200


def test_download_http_status_fault_is_oss_xml(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0)
    result = generate(emulator, "dmxapi")
    emulator.add_fault(endpoint="download", kind="http_status", status=503, vendor="dmxapi")
    response = requests.get(result["url"], timeout=TIMEOUT)
    assert response.status_code == 503 and "<Error>" in response.text


def test_retrieve_faults(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0)
    result = generate(emulator, "minimax")
    emulator.add_fault(endpoint="retrieve", kind="base_resp", code=1000)
    assert retrieve(emulator, "minimax", result["file_id"]).json()["base_resp"]["status_code"] == 1000
    assert retrieve(emulator, "minimax", result["file_id"]).json()["base_resp"]["status_code"] == 0


def test_time_bounded_fault_fires_for_its_seconds_then_expires(emulator: EmulatorServer) -> None:
    fault = emulator.add_fault(endpoint="submit", kind="base_resp", code=1002, seconds=1.0)
    assert fault["seconds"] == 1.0
    for _ in range(3):  # not consumed: every request inside the window is refused
        assert submit(emulator, "minimax", prompt="storm").json()["base_resp"]["status_code"] == 1002
    assert submit(emulator, "modelverse", prompt="storm").status_code == 429
    assert emulator.count("submit") == 4 and not emulator.tasks()
    time.sleep(1.1)
    task_id_of("minimax", submit(emulator, "minimax", prompt="after the storm"))
    assert emulator.faults() == []


def test_time_bounded_fault_seconds_must_be_positive(emulator: EmulatorServer) -> None:
    response = requests.post(f"{emulator.url}/_emulator/faults", headers={"Authorization": API_KEY}, timeout=TIMEOUT,
                             json={"endpoint": "submit", "kind": "reset", "seconds": 0})
    assert response.status_code == 400 and "seconds" in response.text
