"""Small HTTP helpers shared by the emulator tests (plain ``requests``, no provider code)."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import requests
from PIL import Image

from airflow_provider_hailuo.emulator import EmulatorServer

API_KEY = "sk-emu-test-SECRET-51c0ffee"
TIMEOUT = 10

#: The header each vendor documents.
AUTH = {
    "minimax": {"Authorization": f"Bearer {API_KEY}"},
    "dmxapi": {"Authorization": API_KEY},
    "modelverse": {"Authorization": API_KEY},
}
SUBMIT_PATH = {
    "minimax": "/v1/video_generation",
    "dmxapi": "/v1/video_generation",
    "modelverse": "/v1/tasks/submit",
}
STATUS_PATH = {
    "minimax": "/v1/query/video_generation",
    "dmxapi": "/v1/query/video_generation",
    "modelverse": "/v1/tasks/status",
}
FINAL = {"minimax": ("Success", "Fail"), "dmxapi": ("Success", "Failed"), "modelverse": ("Success", "Failure")}


def data_url(size: tuple[int, int] = (1280, 720), fmt: str = "PNG", mime: str = "png") -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format=fmt)
    return f"data:image/{mime};base64," + base64.b64encode(buffer.getvalue()).decode()


def body_for(vendor: str, **fields: Any) -> dict[str, Any]:
    """A submit body in the vendor's shape from flat MiniMax-style fields."""
    fields.setdefault("model", "MiniMax-Hailuo-02")
    if vendor != "modelverse":
        return fields
    body: dict[str, Any] = {"model": fields.pop("model"), "input": {}, "parameters": {}}
    for key in ("prompt", "first_frame_image", "last_frame_image"):
        if key in fields:
            body["input"][key] = fields.pop(key)
    body["parameters"].update(fields)
    return body


def submit(
    server: EmulatorServer, vendor: str, headers: dict[str, str] | None = None, **fields: Any
) -> requests.Response:
    return requests.post(
        server.base_url(vendor) + SUBMIT_PATH[vendor],
        json=body_for(vendor, **fields),
        headers=AUTH[vendor] if headers is None else headers,
        timeout=TIMEOUT,
    )


def task_id_of(vendor: str, response: requests.Response) -> str:
    data = response.json()
    if vendor == "modelverse":
        assert response.status_code == 200, data
        return str(data["output"]["task_id"])
    assert data["base_resp"]["status_code"] == 0, data
    return str(data["task_id"])


def query(
    server: EmulatorServer, vendor: str, task_id: str, headers: dict[str, str] | None = None
) -> requests.Response:
    return requests.get(
        server.base_url(vendor) + STATUS_PATH[vendor],
        params={"task_id": task_id},
        headers=AUTH[vendor] if headers is None else headers,
        timeout=TIMEOUT,
    )


def status_word(vendor: str, data: dict[str, Any]) -> str:
    return str(data["output"]["task_status"] if vendor == "modelverse" else data["status"])


def wait_final(server: EmulatorServer, vendor: str, task_id: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        data = query(server, vendor, task_id).json()
        if status_word(vendor, data) in FINAL[vendor]:
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"task {task_id} did not finish: {data}")
        time.sleep(0.05)


def retrieve(server: EmulatorServer, vendor: str, file_id: str, **params: str) -> requests.Response:
    return requests.get(
        server.base_url(vendor) + "/v1/files/retrieve",
        params={"file_id": file_id, **params},
        headers=AUTH[vendor],
        timeout=TIMEOUT,
    )


def generate(server: EmulatorServer, vendor: str = "minimax", **fields: Any) -> dict[str, Any]:
    """Submit, wait for the end; return {"task_id", "final", "url", "backup_url", "file_id"}."""
    fields.setdefault("prompt", "a cat walks on the beach")
    task_id = task_id_of(vendor, submit(server, vendor, **fields))
    final = wait_final(server, vendor, task_id)
    result: dict[str, Any] = {"task_id": task_id, "final": final, "url": None, "backup_url": None, "file_id": None}
    if vendor == "modelverse":
        urls = final["output"].get("urls") or []
        result["url"] = urls[0] if urls else None
    elif final["status"] == "Success":
        result["file_id"] = final["file_id"]
        info = retrieve(server, vendor, final["file_id"]).json()["file"]
        result["url"] = info["download_url"]
        result["backup_url"] = info.get("backup_download_url")
    return result
