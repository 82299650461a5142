"""Helpers for the emulator's MiniMax v2 (H3) tests: plain ``requests`` plus media made with PyAV."""

from __future__ import annotations

import base64
import io
import math
import struct
import time
import wave
from typing import Any

import requests

from airflow_provider_hailuo.emulator import EmulatorServer

from .helpers import API_KEY, TIMEOUT

BEARER = {"Authorization": f"Bearer {API_KEY}"}
PLAN_KEY = "sk-emu-token-plan-key"
PACKAGE_KEY = "sk-emu-video-package-key"
OTHER_KEY = "sk-emu-other-payg-account"
FINAL = ("succeeded", "failed", "cancelled", "expired")


def text_item(text: str = "a red fox runs through snow") -> dict[str, Any]:
    return {"type": "text", "text": text}


def image_item(url: str, role: str | None = "first_frame") -> dict[str, Any]:
    item: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
    if role is not None:
        item["role"] = role
    return item


def video_item(url: str, role: str = "reference_video") -> dict[str, Any]:
    return {"type": "video_url", "video_url": {"url": url}, "role": role}


def audio_item(url: str, role: str = "reference_audio") -> dict[str, Any]:
    return {"type": "audio_url", "audio_url": {"url": url}, "role": role}


def body(**fields: Any) -> dict[str, Any]:
    """A valid text-only H3 create body, with ``fields`` replacing or adding keys."""
    result: dict[str, Any] = {
        "model": "MiniMax-H3",
        "content": [text_item()],
        "resolution": "768P",
        "duration": 5,
        "ratio": "16:9",
    }
    result.update(fields)
    return {key: value for key, value in result.items() if value is not None}


def create(
    server: EmulatorServer,
    payload: dict[str, Any],
    headers: dict[str, str] | None = None,
    path: str = "/v2/video_generation",
) -> requests.Response:
    return requests.post(
        server.base_url("minimax") + path, json=payload, headers=BEARER if headers is None else headers, timeout=TIMEOUT
    )


def task_id(response: requests.Response) -> str:
    assert response.status_code == 200, response.text
    data = response.json()
    assert set(data) == {"task_id"} and data["task_id"].isdigit(), data
    return str(data["task_id"])


def query(server: EmulatorServer, tid: str, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.get(
        server.base_url("minimax") + f"/v2/query/video_generation/{tid}",
        headers=BEARER if headers is None else headers,
        timeout=TIMEOUT,
    )


def task(server: EmulatorServer, tid: str) -> dict[str, Any]:
    response = query(server, tid)
    assert response.status_code == 200, response.text
    return dict(response.json()["task"])


def delete(server: EmulatorServer, tid: str, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.delete(
        server.base_url("minimax") + f"/v2/video_generation/{tid}",
        headers=BEARER if headers is None else headers,
        timeout=TIMEOUT,
    )


def listing(server: EmulatorServer, headers: dict[str, str] | None = None, **params: Any) -> requests.Response:
    return requests.get(
        server.base_url("minimax") + "/v2/query/video_generation",
        params=params,
        headers=BEARER if headers is None else headers,
        timeout=TIMEOUT,
    )


def wait_final(server: EmulatorServer, tid: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        current = task(server, tid)
        if current["status"] in FINAL:
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"task {tid} did not finish: {current}")
        time.sleep(0.05)


def assert_error(response: requests.Response, status: int, error_type: str, code: int | None) -> str:
    """Check the v2 error shape; return the message."""
    assert response.status_code == status, response.text
    data = response.json()
    assert set(data) == {"type", "error", "request_id"} and data["type"] == "error", data
    error = data["error"]
    assert error["type"] == error_type and error["http_code"] == str(status), data
    assert data["request_id"] == response.headers["Trace-Id"]
    message = str(error["message"])
    if code is not None:
        assert message.endswith(f"({code})"), message
    else:
        assert not message.endswith(")"), message
    return message


def data_url(raw: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(raw).decode()


def png(size: tuple[int, int] = (1280, 720)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def heic(size: tuple[int, int]) -> bytes:
    """The smallest HEIF the emulator can size: an ``ftyp heic`` box and an ``ispe`` property."""
    ftyp = struct.pack(">I", 24) + b"ftypheic" + struct.pack(">I", 0) + b"mif1heic"
    ispe = struct.pack(">I", 20) + b"ispe" + struct.pack(">I", 0) + struct.pack(">II", *size)
    return ftyp + ispe


def mp4(seconds: float, fps: int = 24, size: tuple[int, int] = (320, 256), audio: bool = True) -> bytes:
    """A small H.264 (+ AAC) MP4 made here with PyAV, independent of the emulator's renderer."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "ultrafast"}
        sound = container.add_stream("aac", rate=48_000, layout="stereo") if audio else None
        for index in range(int(seconds * fps)):
            frame = av.VideoFrame(size[0], size[1], "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([index % 200 + 20]) * plane.buffer_size)
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if sound is not None:
            for start in range(0, int(seconds * 48_000), 1024):
                chunk = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
                for plane in chunk.planes:
                    plane.update(bytes(plane.buffer_size))
                chunk.sample_rate, chunk.pts = 48_000, start
                for packet in sound.encode(chunk):
                    container.mux(packet)
            for packet in sound.encode(None):
                container.mux(packet)
    return buffer.getvalue()


def wav(seconds: float, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        samples = int(seconds * rate)
        handle.writeframes(
            b"".join(struct.pack("<h", int(8000 * math.sin(i / 10))) for i in range(min(samples, rate)))
            * (samples // rate)
            + bytes(2 * (samples % rate))
        )
    return buffer.getvalue()


def upload(
    server: EmulatorServer,
    raw: bytes,
    filename: str,
    purpose: str = "video_generation_input",
    headers: dict[str, str] | None = None,
) -> requests.Response:
    return requests.post(
        server.base_url("minimax") + "/v1/files/upload",
        data={"purpose": purpose},
        files={"file": (filename, raw)},
        headers=BEARER if headers is None else headers,
        timeout=TIMEOUT,
    )
