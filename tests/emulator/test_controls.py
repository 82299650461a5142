"""Behaviour controls: Python API, the /_emulator control endpoints, and the request log."""

from __future__ import annotations

import json
import time

import pytest
import requests

from airflow_provider_hailuo.emulator import ConfigError, EmulatorServer

from .helpers import API_KEY, AUTH, SUBMIT_PATH, TIMEOUT, data_url, generate, query, status_word, submit, task_id_of

pytestmark = pytest.mark.integration


def control(
    server: EmulatorServer, method: str, path: str, body: object = None, key: str | None = API_KEY
) -> requests.Response:
    headers = {} if key is None else {"Authorization": key}
    return requests.request(method, f"{server.url}/_emulator/{path}", json=body, headers=headers, timeout=TIMEOUT)


def test_generation_seconds(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0)
    task_id = task_id_of("minimax", submit(emulator, "minimax", prompt="now"))
    assert query(emulator, "minimax", task_id).json()["status"] == "Success"
    emulator.configure(generation_seconds=60)
    task_id = task_id_of("minimax", submit(emulator, "minimax", prompt="later"))
    time.sleep(0.2)
    assert query(emulator, "minimax", task_id).json()["status"] == "Preparing"


def test_generation_seconds_range_is_per_prompt_and_repeatable(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=[20, 90])
    prompts = [f"clip {n}" for n in range(40)]
    for prompt in prompts:
        task_id_of("dmxapi", submit(emulator, "dmxapi", prompt=prompt))
    first = {t["task_id"]: t for t in emulator.tasks()}
    times = [t["generation_seconds"] for t in first.values()]
    assert all(20 <= s <= 90 for s in times) and max(times) - min(times) > 35, times  # spread, not one value
    for task in first.values():
        assert task["finished_at"] == pytest.approx(task["created_at"] + task["generation_seconds"])
    emulator.reset()
    emulator.configure(generation_seconds=[20, 90])
    for prompt in prompts:
        task_id_of("dmxapi", submit(emulator, "dmxapi", prompt=prompt))
    assert sorted(t["generation_seconds"] for t in emulator.tasks()) == sorted(times)  # same load every run
    for bad in ([90, 20], [1], [1, "x"]):
        with pytest.raises(ConfigError, match="generation_seconds"):
            emulator.configure(generation_seconds=bad)


def test_final_status_applies_to_later_submits(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0.2)
    before = task_id_of("dmxapi", submit(emulator, "dmxapi", prompt="before"))
    emulator.configure(final_status="fail")
    after = task_id_of("dmxapi", submit(emulator, "dmxapi", prompt="after"))
    time.sleep(0.25)
    assert query(emulator, "dmxapi", before).json()["status"] == "Success"
    failed = query(emulator, "dmxapi", after).json()
    assert failed["status"] == "Failed" and failed["error_message"]


@pytest.mark.parametrize("vendor", ["minimax", "dmxapi", "modelverse"])
def test_moderation_input(emulator: EmulatorServer, vendor: str) -> None:
    emulator.configure(moderation="input")
    response = submit(emulator, vendor, prompt="something flagged")
    if vendor == "modelverse":
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "sensitive"
    else:
        assert response.status_code == 200
        assert response.json()["base_resp"]["status_code"] == 1026
    assert emulator.tasks() == []


@pytest.mark.parametrize("vendor", ["minimax", "dmxapi", "modelverse"])
def test_moderation_output(emulator: EmulatorServer, vendor: str) -> None:
    emulator.configure(moderation="output", generation_seconds=0)
    final = generate(emulator, vendor)["final"]
    if vendor == "modelverse":
        assert final["output"]["task_status"] == "Failure"
        assert "sensitive" in final["output"]["error_message"]
    else:
        assert final["status"] == ("Fail" if vendor == "minimax" else "Failed")
        assert final["base_resp"]["status_code"] == 1027
        assert "file_id" not in final


@pytest.mark.parametrize("vendor", ["minimax", "modelverse"])
def test_rate_limit_sliding_window(emulator: EmulatorServer, vendor: str) -> None:
    emulator.configure(rate_limit={"submits": 2, "window_seconds": 1.0})
    for _ in range(2):
        task_id_of(vendor, submit(emulator, vendor, prompt="ok"))
    refused = submit(emulator, vendor, prompt="too many")
    if vendor == "modelverse":
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limit_exceeded"
    else:
        assert refused.status_code == 200 and refused.json()["base_resp"]["status_code"] == 1002
    assert len(emulator.tasks()) == 2  # a refused submit creates no task
    # the limit is per vendor
    other = "dmxapi"
    task_id_of(other, submit(emulator, other, prompt="other vendor"))
    time.sleep(1.05)
    task_id_of(vendor, submit(emulator, vendor, prompt="window moved"))


@pytest.mark.parametrize("vendor", ["minimax", "modelverse"])
def test_insufficient_balance(emulator: EmulatorServer, vendor: str) -> None:
    emulator.configure(insufficient_balance=True)
    response = submit(emulator, vendor, prompt="broke")
    if vendor == "modelverse":
        assert response.status_code == 402 and response.json()["error"]["code"] == "insufficient_balance"
    else:
        assert response.json()["base_resp"]["status_code"] == 1008
    assert emulator.tasks() == []


@pytest.mark.parametrize("vendor", ["minimax", "modelverse"])
def test_max_body_bytes(emulator: EmulatorServer, vendor: str) -> None:
    emulator.configure(max_body_bytes=10_000)
    response = submit(emulator, vendor, prompt="x" * 20_000)
    assert response.status_code == 413
    assert emulator.tasks() == []


def test_configure_rejects_unknown_or_bad_values(emulator: EmulatorServer) -> None:
    with pytest.raises(ConfigError):
        emulator.configure(no_such_option=1)
    with pytest.raises(ConfigError):
        emulator.configure(final_status="maybe")
    with pytest.raises(ConfigError):
        emulator.configure(rate_limit={"submits": -1, "window_seconds": 1})
    with pytest.raises(ConfigError):
        emulator.add_fault(endpoint="nowhere", kind="reset")
    with pytest.raises(ConfigError):
        emulator.add_fault(endpoint="status", kind="expired_url")
    with pytest.raises(ConfigError):
        EmulatorServer(moderation="always")


def test_control_endpoints(emulator: EmulatorServer) -> None:
    assert control(emulator, "GET", "config", key=None).status_code == 401
    assert control(emulator, "GET", "config", key="wrong").status_code == 401
    config = control(emulator, "GET", "config", key=f"Bearer {API_KEY}").json()["config"]
    assert config["generation_seconds"] == 0.3 and config["download_url_ttl"] == 9 * 3600

    updated = control(emulator, "POST", "config", {"final_status": "fail", "fail_reason": "nope"}).json()["config"]
    assert updated["final_status"] == "fail" and emulator.config["fail_reason"] == "nope"
    bad = control(emulator, "POST", "config", {"generation_seconds": "soon"})
    assert bad.status_code == 400 and "generation_seconds" in bad.json()["error"]["message"]

    fault = control(emulator, "POST", "faults", {"endpoint": "submit", "kind": "http_status", "status": 502}).json()
    assert fault["fault"]["status"] == 502 and fault["fault"]["times"] == 1
    assert len(control(emulator, "GET", "faults").json()["faults"]) == 1
    assert control(emulator, "POST", "faults", {"endpoint": "submit"}).status_code == 400
    assert control(emulator, "DELETE", "faults").json() == {"faults": []}
    assert emulator.faults() == []

    task_id_of("minimax", submit(emulator, "minimax", prompt="logged"))
    listed = control(emulator, "GET", "requests?endpoint=submit").json()["requests"]
    assert [entry["endpoint"] for entry in listed] == ["submit"]
    assert len(control(emulator, "GET", "tasks").json()["tasks"]) == 1

    reset = control(emulator, "POST", "reset").json()
    assert reset["config"]["final_status"] == "success"
    assert emulator.tasks() == [] and emulator.count("submit") == 0

    health = requests.get(emulator.url + "/_emulator/health", timeout=TIMEOUT)
    assert health.json() == {"status": "ok"}


def test_reset_restores_constructor_config(emulator_video_cache: object) -> None:
    with EmulatorServer(api_key=API_KEY, generation_seconds=0, final_status="fail") as server:
        server.configure(
            final_status="success", insufficient_balance=True, rate_limit={"submits": 0, "window_seconds": 9}
        )
        server.add_fault(endpoint="status", kind="reset")
        server.reset()
        assert server.config["final_status"] == "fail"
        assert server.config["insufficient_balance"] is False and server.config["rate_limit"] is None
        assert server.faults() == []
        final = generate(server, "minimax")["final"]
        assert final["status"] == "Fail"


def test_request_log(emulator: EmulatorServer) -> None:
    image = data_url((1280, 720))
    task_id = task_id_of("minimax", submit(emulator, "minimax", first_frame_image=image, prompt="logged"))
    query(emulator, "minimax", task_id)
    query(emulator, "minimax", task_id)
    submit(emulator, "modelverse", prompt="another")

    assert emulator.count("submit") == 2
    assert emulator.count("status") == 2 and emulator.count("status", vendor="dmxapi") == 0
    entries = emulator.requests(vendor="minimax")
    assert [entry["endpoint"] for entry in entries] == ["submit", "status", "status"]
    first = entries[0]
    assert first["method"] == "POST" and first["path"] == "/minimax/v1/video_generation"
    assert first["status"] == 200 and first["task_id"] == task_id
    assert first["headers"]["Authorization"] == "***"
    assert first["body"]["prompt"] == "logged"
    logged_image = first["body"]["first_frame_image"]
    assert logged_image.startswith("data:image/png;base64,") and len(logged_image) < 100
    assert entries[1]["query"] == {"task_id": task_id} and entries[1]["task_id"] == task_id
    assert isinstance(first["time"], float)
    # the key never appears anywhere in the log, nor in the HTTP view of it
    assert API_KEY not in json.dumps(emulator.requests())
    assert API_KEY not in control(emulator, "GET", "requests").text


def test_unknown_paths_are_logged(emulator: EmulatorServer) -> None:
    response = requests.get(emulator.url + "/minimax/v3/video_generation", headers=AUTH["minimax"], timeout=TIMEOUT)
    assert response.status_code == 404
    wrong_method = requests.get(
        emulator.base_url("modelverse") + SUBMIT_PATH["modelverse"], headers=AUTH["modelverse"], timeout=TIMEOUT
    )
    assert wrong_method.status_code == 405
    unknown = emulator.requests(endpoint="unknown")
    assert [entry["vendor"] for entry in unknown] == ["minimax", "modelverse"]
    assert [entry["status"] for entry in unknown] == [404, 405]


def test_python_api(emulator: EmulatorServer) -> None:
    assert emulator.running
    assert emulator.url.startswith("http://127.0.0.1:") and emulator.port > 0
    assert emulator.base_url("dmxapi") == emulator.url + "/dmxapi"
    with pytest.raises(ValueError):
        emulator.base_url("openai")
    with pytest.raises(RuntimeError):
        emulator.start()
    # a second emulator on the same port cannot start
    with pytest.raises(RuntimeError):
        EmulatorServer(port=emulator.port, api_key=API_KEY).start()
    with pytest.raises(ValueError):
        EmulatorServer(api_key="")
    index = requests.get(emulator.url + "/", timeout=TIMEOUT).json()
    assert index["vendors"]["minimax"] == emulator.base_url("minimax")


def test_stop_is_idempotent_and_frees_the_port(emulator_video_cache: object) -> None:
    server = EmulatorServer(api_key=API_KEY, video_cache_dir=emulator_video_cache)  # type: ignore[arg-type]
    server.start()
    port = server.port
    server.stop()
    server.stop()
    assert not server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=2)


def test_status_words_are_stable_after_the_end(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0)
    result = generate(emulator, "modelverse")
    again = query(emulator, "modelverse", result["task_id"]).json()
    assert status_word("modelverse", again) == "Success"
    assert again["output"]["finish_time"] == result["final"]["output"]["finish_time"]
