"""``POST /v2/video_generation``: the create rules and media checks of API_V2_NOTES, the error shapes."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_hailuo.emulator import EmulatorServer

from .helpers import API_KEY, TIMEOUT
from .v2_helpers import (
    assert_error,
    audio_item,
    body,
    create,
    data_url,
    heic,
    image_item,
    mp4,
    png,
    task_id,
    text_item,
    video_item,
    wav,
)

pytest.importorskip("av")

pytestmark = pytest.mark.integration

URL_IMAGE = "https://example.com/frame.png"
URL_VIDEO = "https://example.com/ref.mp4"
URL_AUDIO = "https://example.com/ref.wav"


@pytest.fixture(scope="module")
def media() -> dict[str, str]:
    """data: URLs made once per module."""
    return {
        "png": data_url(png((1280, 720)), "image/png"),
        "video3": data_url(mp4(3), "video/mp4"),
        "video8": data_url(mp4(8), "video/mp4"),
        "video1": data_url(mp4(1), "video/mp4"),
        "video10fps": data_url(mp4(3, fps=10), "video/mp4"),
        "wav3": data_url(wav(3), "audio/wav"),
        "wav8": data_url(wav(8), "audio/wav"),
        "wav1": data_url(wav(1), "audio/wav"),
    }


def refused(server: EmulatorServer, payload: dict[str, Any], *words: str) -> str:
    message = assert_error(create(server, payload), 400, "bad_request_error", 2013)
    for word in words:
        assert word in message, message
    return message


def test_text_create_answers_only_a_task_id(emulator: EmulatorServer) -> None:
    response = create(emulator, body())
    task_id(response)  # {"task_id": "<digits>"} and nothing else: no base_resp
    assert emulator.requests(endpoint="v2_submit")[0]["status"] == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": API_KEY}, {"Authorization": "Bearer wrong"}],
    ids=["missing", "raw-key", "wrong-key"],
)
def test_auth_errors(emulator: EmulatorServer, headers: dict[str, str]) -> None:
    assert_error(create(emulator, body(), headers=headers), 401, "authorized_error", 1004)
    assert emulator.tasks() == []


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"model": "MiniMax-Hailuo-02"}, ["model"]),
        ({"model": None}, ["model"]),
        ({"content": []}, ["content"]),
        ({"content": [image_item(URL_IMAGE)]}, ["non-empty text"]),
        ({"content": [text_item("a"), text_item("b")]}, ["exactly one"]),
        ({"content": [text_item("   ")]}, ["non-empty text"]),
        ({"content": [text_item("x" * 7001)]}, ["7001", "7000"]),
        ({"resolution": None}, ["resolution is required"]),
        ({"resolution": "480P"}, ["480P"]),
        ({"resolution": "1080P"}, ["1080P"]),
        ({"model": "MiniMax-H3-Max", "resolution": "2K"}, ["2K", "MiniMax-H3-Max"]),
        ({"duration": None}, ["duration is required"]),
        ({"duration": 3}, ["4-15"]),
        ({"duration": 16}, ["4-15"]),
        ({"duration": "5"}, ["integer"]),
        ({"duration": 5.0}, ["integer"]),
        ({"duration": True}, ["integer"]),
        ({"model": "MiniMax-H3-Max", "resolution": "768P", "duration": 4}, ["5-15"]),
        ({"ratio": None}, ["text-only", "ratio"]),
        ({"ratio": "adaptive"}, ["text-only", "ratio"]),
        ({"ratio": "2:1"}, ["ratio"]),
        ({"content": [{"type": "file_url", "file_url": {"url": URL_IMAGE}}, text_item()]}, ["type"]),
        ({"content": [{"type": "image_url", "url": URL_IMAGE}, text_item()]}, ["image_url must be an object"]),
        ({"content": [image_item(URL_IMAGE, role="reference_video"), text_item()]}, ["role"]),
        ({"content": [video_item(URL_VIDEO, role="first_frame"), text_item()]}, ["role"]),
        ({"content": [image_item("ftp://example.com/a.png"), text_item()]}, ["http(s)"]),
        ({"extra": {"prompt_expansion_mode": "balanced"}}, ["MiniMax-H3-Max only"]),
        ({"model": "MiniMax-H3-Max", "extra": {"prompt_expansion_mode": "max"}}, ["prompt_expansion_mode"]),
        ({"model": "MiniMax-H3-Max", "extra": {"mode": "quality"}}, ["extra"]),
        ({"seed": 42}, ["unknown field seed"]),
        ({"prompt_optimizer": True}, ["unknown field prompt_optimizer"]),
        ({"callback_url": "ftp://example.com/hook"}, ["callback_url"]),
        ({"aigc_watermark": "yes"}, ["aigc_watermark"]),
    ],
)
def test_rules_refused(emulator: EmulatorServer, fields: dict[str, Any], words: list[str]) -> None:
    payload = body(**fields)
    if fields.get("model", "") is None:
        payload.pop("model", None)
    refused(emulator, payload, *words)
    assert emulator.tasks() == []


@pytest.mark.parametrize(
    "fields",
    [
        {"content": [text_item("x" * 7000)]},
        {"duration": 4},
        {"duration": 15, "resolution": "2K"},
        {"model": "MiniMax-H3-Max", "resolution": "480P", "duration": 5},
        {"model": "MiniMax-H3-Max", "resolution": "768P", "extra": {"prompt_expansion_mode": "quality"}},
        {"ratio": "21:9"},
        {"ratio": "9:16", "callback_url": "https://example.com/hook", "aigc_watermark": True},
        {"resolution": "2k"},
    ],
)
def test_rules_accepted(emulator: EmulatorServer, fields: dict[str, Any]) -> None:
    task_id(create(emulator, body(**fields)))


def test_text_only_needs_a_ratio_but_frames_do_not(emulator: EmulatorServer) -> None:
    refused(emulator, body(ratio=None), "ratio")
    tid = task_id(create(emulator, body(ratio=None, content=[image_item(URL_IMAGE), text_item()])))
    assert emulator.tasks()[0]["task_id"] == tid and emulator.tasks()[0]["ratio"] == "adaptive"
    # with frames another ratio is ignored: the ratio is always adaptive
    task_id(create(emulator, body(ratio="1:1", content=[image_item(URL_IMAGE), text_item()])))
    assert emulator.tasks()[1]["ratio"] == "adaptive"


def test_image_without_role_is_a_first_frame(emulator: EmulatorServer) -> None:
    task_id(create(emulator, body(content=[image_item(URL_IMAGE, role=None), text_item()])))
    refused(
        emulator,
        body(content=[image_item(URL_IMAGE, role=None), image_item(URL_IMAGE, role=None), text_item()]),
        "first_frame",
    )


def test_frame_and_reference_roles_do_not_mix(emulator: EmulatorServer) -> None:
    content = [image_item(URL_IMAGE), image_item(URL_IMAGE, role="reference_image"), text_item()]
    refused(emulator, body(content=content), "cannot be mixed")
    refused(emulator, body(content=[image_item(URL_IMAGE), video_item(URL_VIDEO), text_item()]), "cannot be mixed")


def test_first_and_last_frame_pair_but_a_last_frame_alone_is_refused(emulator: EmulatorServer) -> None:
    task_id(create(emulator, body(content=[image_item(URL_IMAGE), image_item(URL_IMAGE, "last_frame"), text_item()])))
    refused(
        emulator, body(content=[image_item(URL_IMAGE, "last_frame"), text_item()]), "last_frame needs a first_frame"
    )
    refused(
        emulator,
        body(
            content=[
                image_item(URL_IMAGE),
                image_item(URL_IMAGE, "last_frame"),
                image_item(URL_IMAGE, "last_frame"),
                text_item(),
            ]
        ),
        "at most 1 last_frame",
    )


@pytest.mark.parametrize(
    ("items", "accepted", "words"),
    [
        ([image_item(URL_IMAGE, "reference_image")] * 9, True, []),
        ([image_item(URL_IMAGE, "reference_image")] * 10, False, ["at most 9 reference_image"]),
        ([video_item(URL_VIDEO)] * 3, True, []),
        ([video_item(URL_VIDEO)] * 4, False, ["at most 3 reference_video"]),
        ([video_item(URL_VIDEO)] + [audio_item(URL_AUDIO)] * 3, True, []),
        ([video_item(URL_VIDEO)] + [audio_item(URL_AUDIO)] * 4, False, ["at most 3 reference_audio"]),
        (
            [image_item(URL_IMAGE, "reference_image")] * 6 + [video_item(URL_VIDEO)] * 3 + [audio_item(URL_AUDIO)] * 3,
            True,
            [],
        ),
        (
            [image_item(URL_IMAGE, "reference_image")] * 7 + [video_item(URL_VIDEO)] * 3 + [audio_item(URL_AUDIO)] * 3,
            False,
            ["at most 12 media items"],
        ),
    ],
    ids=["9-images", "10-images", "3-videos", "4-videos", "3-audios", "4-audios", "12-files", "13-files"],
)
def test_counts(emulator: EmulatorServer, items: list[dict[str, Any]], accepted: bool, words: list[str]) -> None:
    payload = body(content=[*items, text_item()])
    if accepted:
        task_id(create(emulator, payload))
    else:
        refused(emulator, payload, *words)


def test_reference_audio_needs_an_image_or_a_video(emulator: EmulatorServer) -> None:
    refused(emulator, body(content=[audio_item(URL_AUDIO), text_item()]), "reference_audio needs")
    task_id(
        create(emulator, body(content=[image_item(URL_IMAGE, "reference_image"), audio_item(URL_AUDIO), text_item()]))
    )
    task_id(create(emulator, body(content=[video_item(URL_VIDEO), audio_item(URL_AUDIO), text_item()])))


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (data_url(png((200, 400)), "image/png"), ["200x400", "256-5760"]),
        (data_url(png((5800, 2400)), "image/png"), ["5800x2400", "256-5760"]),
        (data_url(png((900, 300)), "image/png"), ["900x300", "0.4-2.5"]),
        (data_url(png((300, 800)), "image/png"), ["300x800", "0.4-2.5"]),
        (data_url(png(), "image/PNG"), ["lower-case"]),
        (data_url(png(), "image/gif"), ["image/gif"]),
        ("data:image/png;base64,@@not-base64@@", ["base64"]),
        (data_url(b"not an image at all" * 10, "image/png"), ["cannot be decoded"]),
        (data_url(b"\x89PNG" + bytes(31 * 1024 * 1024), "image/png"), ["larger than 30 MB"]),
        (data_url(heic((128, 128)), "image/heic"), ["128x128"]),
    ],
    ids=[
        "short-side",
        "long-side",
        "too-wide",
        "too-tall",
        "upper-case-mime",
        "gif",
        "bad-base64",
        "garbage",
        "31MB",
        "heic-small",
    ],
)
def test_image_media_rules(emulator: EmulatorServer, url: str, words: list[str]) -> None:
    refused(emulator, body(content=[image_item(url), text_item()]), *words)


@pytest.mark.parametrize(
    "url",
    [
        data_url(png((256, 640)), "image/png"),  # aspect 0.4, short side 256
        data_url(png((1000, 400)), "image/jpeg"),  # aspect 2.5 (the MIME type names the family)
        data_url(heic((1920, 1080)), "image/heic"),
        data_url(heic((1080, 1920)), "image/heif"),
    ],
    ids=["0.4", "2.5", "heic", "heif"],
)
def test_image_media_accepted(emulator: EmulatorServer, url: str) -> None:
    task_id(create(emulator, body(content=[image_item(url), text_item()])))


def test_video_and_audio_media_rules(emulator: EmulatorServer, media: dict[str, str]) -> None:
    task_id(create(emulator, body(content=[video_item(media["video3"]), audio_item(media["wav3"]), text_item()])))
    refused(emulator, body(content=[video_item(media["video1"]), text_item()]), "2-15 s")
    refused(emulator, body(content=[video_item(media["video10fps"]), text_item()]), "10.0 fps")
    refused(emulator, body(content=[video_item(media["video8"])] * 2 + [text_item()]), "15 s in all")
    refused(emulator, body(content=[video_item(media["video3"]), audio_item(media["wav1"]), text_item()]), "2-15 s")
    refused(
        emulator,
        body(content=[video_item(media["video3"]), audio_item(media["wav8"]), audio_item(media["wav8"]), text_item()]),
        "audio inputs last",
    )
    webm = media["video3"].replace("data:video/mp4;", "data:video/webm;", 1)
    refused(emulator, body(content=[video_item(webm), text_item()]), "video/webm")
    mpeg = media["wav3"].replace("data:audio/wav;", "data:audio/mpeg;", 1)
    refused(emulator, body(content=[video_item(media["video3"]), audio_item(mpeg), text_item()]), "audio/mp3")
    as_audio = media["video3"].replace("data:video/mp4;", "data:audio/wav;", 1)
    refused(emulator, body(content=[video_item(media["video3"]), audio_item(as_audio), text_item()]), "WAV or MP3")


def test_unknown_mm_file_is_refused(emulator: EmulatorServer) -> None:
    refused(
        emulator, body(content=[image_item("mm_file://123456789"), text_item()]), "mm_file://123456789", "not found"
    )


def test_body_must_be_a_json_object(emulator: EmulatorServer) -> None:
    url = emulator.base_url("minimax") + "/v2/video_generation"
    headers = {"Authorization": f"Bearer {API_KEY}"}
    not_json = requests.post(url, data=b"{nope", headers=headers, timeout=TIMEOUT)
    assert "not valid JSON" in assert_error(not_json, 400, "bad_request_error", 2013)
    array = requests.post(url, json=[body()], headers=headers, timeout=TIMEOUT)
    assert "JSON object" in assert_error(array, 400, "bad_request_error", 2013)


def test_body_over_the_limit_is_413(emulator: EmulatorServer) -> None:
    assert emulator.config["max_body_bytes"] == 64 * 1024 * 1024
    emulator.configure(max_body_bytes=4096)
    big = body(content=[image_item(data_url(png((1280, 720)) + bytes(8192), "image/png")), text_item()])
    assert_error(create(emulator, big), 413, "request_too_large_error", 2013)
    assert emulator.tasks() == []


def test_balance_and_moderation_errors(emulator: EmulatorServer) -> None:
    emulator.configure(insufficient_balance=True)
    assert_error(create(emulator, body()), 402, "insufficient_balance_error", 1008)
    emulator.configure(insufficient_balance=False, moderation="input")
    assert_error(create(emulator, body()), 422, "unprocessable_entity_error", 1026)
    assert emulator.tasks() == []
