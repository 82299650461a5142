"""H3-Context-IR, 2K regeneration and ``/v1/files/upload`` with ``mm_file://`` inputs."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_hailuo.emulator import EmulatorServer

from .helpers import API_KEY, TIMEOUT
from .v2_helpers import (
    OTHER_KEY,
    PLAN_KEY,
    assert_error,
    body,
    create,
    data_url,
    image_item,
    mp4,
    png,
    task,
    task_id,
    text_item,
    upload,
    video_item,
    wav,
)

pytest.importorskip("av")

pytestmark = pytest.mark.integration

CONTEXT_IR = "/v2/h3_context_ir"
REGENERATION = "/v2/video_regeneration"


def context_body(**fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"model": "MiniMax-H3", "content": [text_item("a lighthouse at dusk")], "duration": 10}
    result.update(fields)
    return {key: value for key, value in result.items() if value is not None}


@pytest.fixture
def instant(emulator: EmulatorServer) -> EmulatorServer:
    emulator.configure(generation_seconds=0, synthetic_video_bytes=2048)
    return emulator


def test_context_ir_expands_the_prompt(instant: EmulatorServer) -> None:
    tid = task_id(create(instant, context_body(ratio="9:16"), path=CONTEXT_IR))
    result = task(instant, tid)
    assert (result["status"], result["task_type"], result["modality"]) == ("succeeded", "h3_context_ir", "text")
    prompt = result["content"]["prompt"]
    assert "url" not in result["content"]
    assert "a lighthouse at dusk" in prompt and "Shot 1 (0-3 s)" in prompt and "Shot 4 (9-10 s)" in prompt
    assert "9:16" in prompt and len(prompt) > 3 * len("a lighthouse at dusk")
    usage = result["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    # deterministic: the same input gives the same expansion; another input another one
    again = task(instant, task_id(create(instant, context_body(ratio="9:16"), path=CONTEXT_IR)))
    assert again["content"]["prompt"] == prompt
    other = task(instant, task_id(create(instant, context_body(content=[text_item("a fox")]), path=CONTEXT_IR)))
    assert other["content"]["prompt"] != prompt
    assert instant.requests(endpoint="v2_context_ir")[0]["task_id"] == tid


def test_context_ir_with_references_and_rules(instant: EmulatorServer) -> None:
    content = [image_item("https://example.com/a.png", "reference_image"), text_item("a lighthouse")]
    result = task(instant, task_id(create(instant, context_body(content=content), path=CONTEXT_IR)))
    assert "reference image" in result["content"]["prompt"]
    for fields, word in (
        ({"model": "MiniMax-H3-Max"}, "model"),
        ({"duration": 3}, "4-15"),
        ({"content": [text_item(" ")]}, "non-empty text"),
        ({"resolution": "2K"}, "unknown field resolution"),
    ):
        message = assert_error(create(instant, context_body(**fields), path=CONTEXT_IR), 400, "bad_request_error", 2013)
        assert word in message


def test_context_ir_refuses_plan_keys(instant: EmulatorServer) -> None:
    instant.configure(v2_keys={PLAN_KEY: "token_plan"})
    response = create(instant, context_body(), headers={"Authorization": f"Bearer {PLAN_KEY}"}, path=CONTEXT_IR)
    assert "Token Plan" in assert_error(response, 400, "bad_request_error", 2013)


def test_regeneration_from_source_needs_access_by_default(instant: EmulatorServer) -> None:
    assert instant.config["v2_regeneration_access"] is False
    source = task_id(create(instant, body()))
    response = create(instant, {"model": "MiniMax-H3", "source_task_id": source, "resolution": "2K"}, path=REGENERATION)
    message = assert_error(response, 400, "bad_request_error", 2013)
    assert "access" in message and "base_video" in message


def test_regeneration_from_source(instant: EmulatorServer) -> None:
    instant.configure(v2_regeneration_access=True)
    source = task_id(create(instant, body(ratio="9:16", duration=6)))
    tid = task_id(
        create(instant, {"model": "MiniMax-H3", "source_task_id": source, "resolution": "2K"}, path=REGENERATION)
    )
    result = task(instant, tid)
    assert (result["task_type"], result["resolution"], result["source_task_id"]) == ("regeneration", "2K", source)
    assert (result["duration"], result["ratio"], result["modality"]) == (6, "9:16", "video")
    assert result["usage"]["output_seconds"] == 6 and "url" in result["content"]
    entry = next(item for item in instant.tasks() if item["task_id"] == tid)
    assert (entry["video_width"], entry["video_height"]) == (1440, 2560)


def test_regeneration_source_rules(instant: EmulatorServer) -> None:
    instant.configure(v2_regeneration_access=True, v2_keys={OTHER_KEY: "pay_as_you_go"})
    at_2k = task_id(create(instant, body(resolution="2K")))
    theirs = task_id(create(instant, body(), headers={"Authorization": f"Bearer {OTHER_KEY}"}))
    instant.configure(generation_seconds=600)
    running = task_id(create(instant, body()))
    instant.configure(generation_seconds=0)
    context = task_id(create(instant, context_body(), path=CONTEXT_IR))
    for source, word in (
        (at_2k, "768P"),
        (theirs, "invalid source_task_id"),
        (running, "succeeded"),
        (context, "generation"),
        ("999999999999999", "invalid source_task_id"),
    ):
        payload = {"model": "MiniMax-H3", "source_task_id": source, "resolution": "2K"}
        assert word in assert_error(create(instant, payload, path=REGENERATION), 400, "bad_request_error", 2013)
    instant.configure(v2_query_window=0)  # a source older than the window is refused too
    old = {"model": "MiniMax-H3", "source_task_id": at_2k, "resolution": "2K"}
    assert_error(create(instant, old, path=REGENERATION), 400, "bad_request_error", 2013)


def test_regeneration_from_content(instant: EmulatorServer) -> None:
    base = video_item(data_url(mp4(4, size=(512, 288)), "video/mp4"), role="base_video")
    payload = {"model": "MiniMax-H3", "content": [text_item("the final prompt"), base], "resolution": "2K"}
    tid = task_id(create(instant, payload, path=REGENERATION))
    result = task(instant, tid)
    assert (result["task_type"], result["resolution"], result["duration"]) == ("regeneration", "2K", 4)
    entry = next(item for item in instant.tasks() if item["task_id"] == tid)
    assert (entry["video_width"], entry["video_height"]) == (2560, 1440)  # the base video's 16:9


@pytest.mark.parametrize(
    ("payload", "word"),
    [
        ({"model": "MiniMax-H3", "resolution": "2K"}, "either source_task_id or content"),
        (
            {"model": "MiniMax-H3", "resolution": "2K", "source_task_id": "1", "content": [text_item()]},
            "either source_task_id or content",
        ),
        ({"model": "MiniMax-H3", "resolution": "768P", "source_task_id": "1"}, "2K"),
        ({"model": "MiniMax-H3-Max", "resolution": "2K", "source_task_id": "1"}, "model"),
        (
            {"model": "MiniMax-H3", "resolution": "2K", "content": [text_item()]},
            "exactly one video_url with role base_video",
        ),
        (
            {
                "model": "MiniMax-H3",
                "resolution": "2K",
                "content": [
                    text_item(),
                    video_item("https://e.com/a.mp4", "base_video"),
                    video_item("https://e.com/b.mp4", "base_video"),
                ],
            },
            "got 2",
        ),
    ],
    ids=["neither", "both", "768P", "h3-max", "no-base-video", "two-base-videos"],
)
def test_regeneration_shape_errors(instant: EmulatorServer, payload: dict[str, Any], word: str) -> None:
    assert word in assert_error(create(instant, payload, path=REGENERATION), 400, "bad_request_error", 2013)


def test_upload_and_use_as_mm_file(instant: EmulatorServer) -> None:
    response = upload(instant, png((720, 1280)), "portrait.png")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["base_resp"] == {"status_code": 0, "status_msg": "success"}
    info = data["file"]
    assert isinstance(info["file_id"], int) and info["purpose"] == "video_generation_input"
    assert info["filename"] == "portrait.png" and info["bytes"] > 0 and info["created_at"] > 0
    tid = task_id(create(instant, body(content=[image_item(f"mm_file://{info['file_id']}"), text_item()])))
    entry = next(item for item in instant.tasks() if item["task_id"] == tid)
    assert (entry["video_width"], entry["video_height"]) == (768, 1366)  # the uploaded frame's 9:16
    assert task(instant, tid)["usage"]["input_image_count"] == 1
    assert instant.requests(endpoint="v2_upload")[0]["body"] == {
        "purpose": "video_generation_input",
        "filename": "portrait.png",
    }


def test_mm_file_kind_and_account(instant: EmulatorServer) -> None:
    video_id = upload(instant, mp4(3), "clip.mp4").json()["file"]["file_id"]
    audio_id = upload(instant, wav(3), "voice.wav").json()["file"]["file_id"]
    as_image = body(content=[image_item(f"mm_file://{video_id}"), text_item()])
    assert "holds video" in assert_error(create(instant, as_image), 400, "bad_request_error", 2013)
    used = body(
        content=[
            video_item(f"mm_file://{video_id}"),
            {"type": "audio_url", "audio_url": {"url": f"mm_file://{audio_id}"}, "role": "reference_audio"},
            text_item(),
        ]
    )
    tid = task_id(create(instant, used))
    usage = task(instant, tid)["usage"]
    assert usage["input_seconds"] == 3 and usage["input_audio_seconds"] == 3 and usage["total_seconds"] == 8
    instant.configure(v2_keys={OTHER_KEY: "pay_as_you_go"})
    foreign = create(instant, used, headers={"Authorization": f"Bearer {OTHER_KEY}"})
    assert "not found" in assert_error(foreign, 400, "bad_request_error", 2013)


@pytest.mark.parametrize(
    ("raw", "filename", "purpose", "word"),
    [
        (png((100, 100)), "tiny.png", "video_generation_input", "256-5760"),
        (b"plain text, not media", "notes.txt", "video_generation_input", "not a JPG"),
        (mp4(1), "short.mp4", "video_generation_input", "2-15 s"),
        (png(), "frame.png", "fine-tune", "purpose"),
    ],
    ids=["small-image", "not-media", "short-video", "purpose"],
)
def test_upload_is_checked(instant: EmulatorServer, raw: bytes, filename: str, purpose: str, word: str) -> None:
    response = upload(instant, raw, filename, purpose=purpose)
    assert response.status_code == 400
    data = response.json()
    assert data["file"] is None and data["base_resp"]["status_code"] == 2013 and word in data["base_resp"]["status_msg"]


def test_upload_needs_a_file_and_a_key(instant: EmulatorServer) -> None:
    url = instant.base_url("minimax") + "/v1/files/upload"
    headers = {"Authorization": f"Bearer {API_KEY}"}
    no_file = requests.post(url, files={"purpose": (None, "video_generation_input")}, headers=headers, timeout=TIMEOUT)
    assert no_file.status_code == 400 and "file is required" in no_file.json()["base_resp"]["status_msg"]
    not_multipart = requests.post(url, json={"purpose": "video_generation_input"}, headers=headers, timeout=TIMEOUT)
    assert not_multipart.status_code == 400 and "multipart" in not_multipart.json()["base_resp"]["status_msg"]
    anonymous = upload(instant, png(), "a.png", headers={})
    assert anonymous.status_code == 401 and anonymous.json()["base_resp"]["status_code"] == 1004
