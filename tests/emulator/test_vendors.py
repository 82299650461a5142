"""Each vendor's surface over real HTTP: full cycles, auth styles, status vocabularies, shapes."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests

from airflow_provider_hailuo.emulator import EmulatorServer

from .helpers import API_KEY, AUTH, FINAL, TIMEOUT, generate, query, retrieve, status_word, submit, task_id_of

pytestmark = pytest.mark.integration


def test_minimax_full_cycle(emulator: EmulatorServer) -> None:
    response = submit(emulator, "minimax", model="MiniMax-Hailuo-2.3", prompt="a fox", duration=6, resolution="768P")
    assert response.status_code == 200
    data = response.json()
    assert data["base_resp"] == {"status_code": 0, "status_msg": "success"}
    task_id = data["task_id"]
    assert isinstance(task_id, str) and task_id.isdigit()

    pending = query(emulator, "minimax", task_id).json()
    assert pending["status"] in ("Preparing", "Queueing", "Processing")  # see test_status_progression
    assert "file_id" not in pending and "video_width" not in pending

    time.sleep(0.35)
    final = query(emulator, "minimax", task_id).json()
    assert final["status"] == "Success"
    assert final["base_resp"]["status_code"] == 0
    assert isinstance(final["file_id"], str) and final["file_id"].isdigit()
    assert (final["video_width"], final["video_height"]) == (1366, 768)

    info = retrieve(emulator, "minimax", final["file_id"]).json()
    assert info["base_resp"]["status_code"] == 0
    file = info["file"]
    assert file["file_id"] == int(final["file_id"])  # a number here, a string in the query answer
    assert file["bytes"] == 0
    assert file["filename"] == "output_aigc.mp4" and file["purpose"] == "video_generation"
    assert isinstance(file["created_at"], int)
    assert "Expires=" in file["download_url"] and "Signature=" in file["download_url"]
    assert file["backup_download_url"] != file["download_url"]

    main = requests.get(file["download_url"], timeout=TIMEOUT)  # no Authorization on the CDN
    assert main.status_code == 200
    assert main.headers["Content-Type"] == "video/mp4"
    assert int(main.headers["Content-Length"]) == len(main.content)
    assert main.content[4:8] == b"ftyp"
    backup = requests.get(file["backup_download_url"], timeout=TIMEOUT)
    assert backup.status_code == 200 and backup.content == main.content

    content = requests.get(
        emulator.base_url("minimax") + "/v1/files/retrieve_content",
        params={"file_id": final["file_id"]},
        headers=AUTH["minimax"],
        timeout=TIMEOUT,
    )
    assert content.status_code == 200
    assert content.headers["Content-Type"] == "video/mp4"
    assert content.content == main.content

    downloads = emulator.requests(endpoint="download")
    assert len(downloads) == 1
    assert downloads[0]["vendor"] == "minimax" and downloads[0]["task_id"] == task_id
    assert downloads[0]["bytes_sent"] == len(main.content)
    assert downloads[0]["sha256"] == hashlib.sha256(main.content).hexdigest()
    assert emulator.count("backup_download") == 1 and emulator.count("retrieve_content") == 1


def test_dmxapi_full_cycle_both_auth_styles(emulator: EmulatorServer) -> None:
    bearer = {"Authorization": f"Bearer {API_KEY}"}
    task_id = task_id_of(
        "dmxapi", submit(emulator, "dmxapi", headers=bearer, prompt="a boat", model="MiniMax-Hailuo-2.3")
    )
    time.sleep(0.35)
    final = query(emulator, "dmxapi", task_id, headers=bearer).json()
    assert final["status"] == "Success" and final["base_resp"]["status_code"] == 0
    # DMXAPI's files/retrieve takes the task id too
    info = retrieve(emulator, "dmxapi", final["file_id"], task_id=task_id).json()
    assert info["file"]["file_id"] == int(final["file_id"])
    assert "backup_download_url" not in info["file"]  # not in DMXAPI's documents
    video = requests.get(info["file"]["download_url"], timeout=TIMEOUT)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"

    wrong_task = retrieve(emulator, "dmxapi", final["file_id"], task_id="123456789012345").json()
    assert wrong_task["base_resp"]["status_code"] == 2013
    # MiniMax's retrieve_content is not part of DMXAPI's surface
    missing = requests.get(
        emulator.base_url("dmxapi") + "/v1/files/retrieve_content",
        params={"file_id": final["file_id"]},
        headers=AUTH["dmxapi"],
        timeout=TIMEOUT,
    )
    assert missing.status_code == 404


def test_modelverse_full_cycle(emulator: EmulatorServer) -> None:
    response = submit(emulator, "modelverse", prompt="sunset [推进, 跟随]", duration=6, resolution="1080P")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"output", "request_id"}
    task_id = data["output"]["task_id"]
    assert task_id.isdigit()

    pending = query(emulator, "modelverse", task_id).json()
    assert pending["output"]["task_status"] in ("Pending", "Running")
    assert "urls" not in pending["output"] and "finish_time" not in pending["output"]
    assert pending["usage"] == {"duration": 6}

    time.sleep(0.35)
    final = query(emulator, "modelverse", task_id).json()
    output = final["output"]
    assert output["task_status"] == "Success"
    assert output["finish_time"] >= output["submit_time"]
    assert len(output["urls"]) == 1
    video = requests.get(output["urls"][0], timeout=TIMEOUT)
    assert video.status_code == 200 and video.headers["Content-Type"] == "video/mp4"
    assert emulator.requests(endpoint="download")[0]["vendor"] == "modelverse"


@pytest.mark.parametrize(
    ("vendor", "sequence"),
    [
        ("minimax", ["Preparing", "Queueing", "Processing", "Success"]),
        ("dmxapi", ["Queueing", "Processing", "Success"]),
        ("modelverse", ["Pending", "Running", "Success"]),
    ],
)
def test_status_progression(emulator: EmulatorServer, vendor: str, sequence: list[str]) -> None:
    emulator.configure(generation_seconds=1.5)
    task_id = task_id_of(vendor, submit(emulator, vendor, prompt="progress"))
    seen: list[str] = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        word = status_word(vendor, query(emulator, vendor, task_id).json())
        if not seen or seen[-1] != word:
            seen.append(word)
        if word in FINAL[vendor]:
            break
        time.sleep(0.03)
    assert seen == sequence


@pytest.mark.parametrize(("vendor", "word"), [("minimax", "Fail"), ("dmxapi", "Failed"), ("modelverse", "Failure")])
def test_failure_vocabulary(emulator: EmulatorServer, vendor: str, word: str) -> None:
    emulator.configure(final_status="fail", fail_reason="GPU on fire", generation_seconds=0)
    result = generate(emulator, vendor)
    final = result["final"]
    assert status_word(vendor, final) == word
    if vendor == "modelverse":
        assert final["output"]["error_message"] == "GPU on fire"
        assert "urls" not in final["output"]
    else:
        assert final["base_resp"] == {"status_code": 0, "status_msg": "GPU on fire"}
        assert final["error_message"] == "GPU on fire"
        assert "file_id" not in final


# --------------------------------------------------------------------------------------------
# auth
# --------------------------------------------------------------------------------------------
AUTH_CASES = [
    # vendor, header, accepted
    ("minimax", f"Bearer {API_KEY}", True),
    ("minimax", f"bearer {API_KEY}", True),
    ("minimax", API_KEY, False),  # MiniMax documents Bearer only
    ("minimax", "Bearer sk-wrong", False),
    ("minimax", None, False),
    ("dmxapi", API_KEY, True),
    ("dmxapi", f"Bearer {API_KEY}", True),
    ("dmxapi", "sk-wrong", False),
    ("dmxapi", None, False),
    ("modelverse", API_KEY, True),
    ("modelverse", f"Bearer {API_KEY}", False),  # Modelverse documents the raw key only
    ("modelverse", "sk-wrong", False),
    ("modelverse", None, False),
]


@pytest.mark.parametrize(("vendor", "header", "accepted"), AUTH_CASES)
def test_auth_styles(emulator: EmulatorServer, vendor: str, header: str | None, accepted: bool) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = submit(emulator, vendor, headers=headers, prompt="auth")
    assert response.headers.get("Trace-Id")
    data = response.json()
    if accepted:
        task_id_of(vendor, response)
    elif vendor == "modelverse":
        assert response.status_code == 401
        assert data["error"]["code"] == "invalid_api_key" and data["request_id"]
    else:
        assert response.status_code == 200  # errors come with HTTP 200
        assert data["base_resp"]["status_code"] == 1004
        assert data["task_id"] == ""
    assert len(emulator.tasks()) == (1 if accepted else 0)


@pytest.mark.parametrize("vendor", ["minimax", "dmxapi", "modelverse"])
def test_every_endpoint_needs_the_key(emulator: EmulatorServer, vendor: str) -> None:
    emulator.configure(generation_seconds=0)
    result = generate(emulator, vendor)
    task_id = result["task_id"]
    polled = query(emulator, vendor, task_id, headers={"Authorization": "nope"})
    if vendor == "modelverse":
        assert polled.status_code == 401
    else:
        assert polled.status_code == 200 and polled.json()["base_resp"]["status_code"] == 1004
        assert "file_id" not in polled.json()
        denied = requests.get(
            emulator.base_url(vendor) + "/v1/files/retrieve", params={"file_id": result["file_id"]}, timeout=TIMEOUT
        ).json()
        assert denied["base_resp"]["status_code"] == 1004 and "file" not in denied
    if vendor == "minimax":
        content = requests.get(
            emulator.base_url(vendor) + "/v1/files/retrieve_content",
            params={"file_id": result["file_id"]},
            headers={"Authorization": API_KEY},  # raw key: not accepted by MiniMax
            timeout=TIMEOUT,
        )
        assert content.headers["Content-Type"].startswith("application/json")
        assert content.json()["base_resp"]["status_code"] == 1004


def test_unknown_task_and_file(emulator: EmulatorServer) -> None:
    data = query(emulator, "minimax", "123456789012345").json()
    assert data["base_resp"]["status_code"] == 2013
    assert query(emulator, "modelverse", "123456789012345").status_code == 404
    error = query(emulator, "modelverse", "123456789012345").json()
    assert error["error"]["code"] and error["request_id"]
    assert retrieve(emulator, "minimax", "999").json()["base_resp"]["status_code"] == 2013
    missing = requests.get(emulator.base_url("minimax") + STATUS, headers=AUTH["minimax"], timeout=TIMEOUT).json()
    assert missing["base_resp"]["status_code"] == 2013


STATUS = "/v1/query/video_generation"


def test_tasks_belong_to_their_vendor(emulator: EmulatorServer) -> None:
    task_id = task_id_of("minimax", submit(emulator, "minimax", prompt="mine"))
    assert query(emulator, "dmxapi", task_id).json()["base_resp"]["status_code"] == 2013
    assert query(emulator, "modelverse", task_id).status_code == 404


def test_file_is_unknown_until_success(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=30)
    submit(emulator, "minimax", prompt="slow")
    file_id = emulator.tasks()[0]["file_id"]
    assert retrieve(emulator, "minimax", file_id).json()["base_resp"]["status_code"] == 2013


def test_trace_id_everywhere(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0)
    result = generate(emulator, "minimax")
    responses = [
        requests.get(result["url"], timeout=TIMEOUT),
        requests.get(result["url"].replace("Signature=", "Signature=x"), timeout=TIMEOUT),
        requests.get(emulator.url + "/minimax/v1/nothing", timeout=TIMEOUT),
        query(emulator, "minimax", "1", headers={}),
        submit(emulator, "modelverse", headers={}),
    ]
    trace_ids = [response.headers.get("Trace-Id") for response in responses]
    assert all(trace_ids) and len(set(trace_ids)) == len(trace_ids)
    assert all(len(t) == 32 and int(t, 16) >= 0 for t in trace_ids if t)
