"""Submit validation: what each vendor refuses (2013 with HTTP 200, Modelverse HTTP 400)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_hailuo.emulator import EmulatorServer

from .helpers import AUTH, SUBMIT_PATH, TIMEOUT, data_url, submit, task_id_of

pytestmark = pytest.mark.integration

URL = "https://example.com/frame.jpg"
CHARACTER = [{"type": "character", "image": [URL]}]


def assert_invalid(response: requests.Response, vendor: str, field: str | None = None) -> str:
    data = response.json()
    if vendor == "modelverse":
        assert response.status_code == 400, data
        assert data["error"]["code"] == "invalid_parameter"
        message = data["error"]["message"]
    else:
        assert response.status_code == 200, data
        assert data["base_resp"]["status_code"] == 2013, data
        assert data["task_id"] == ""
        message = data["base_resp"]["status_msg"]
    if field:
        assert field in message
    return str(message)


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("unknown model", {"model": "Hailuo-9000", "prompt": "x"}, "model"),
    ("no model", {"model": None, "prompt": "x"}, "model"),
    ("text mode needs a prompt", {"model": "MiniMax-Hailuo-2.3"}, "prompt"),
    ("blank prompt", {"model": "MiniMax-Hailuo-2.3", "prompt": "   "}, "prompt"),
    ("prompt over 2000 chars", {"model": "MiniMax-Hailuo-2.3", "prompt": "猫" * 2001}, "prompt"),
    ("ftp image", {"model": "MiniMax-Hailuo-2.3", "first_frame_image": "ftp://x/y.png"}, "first_frame_image"),
    (
        "gif data url",
        {"model": "MiniMax-Hailuo-2.3", "first_frame_image": "data:image/gif;base64,R0lG"},
        "first_frame_image",
    ),
    (
        "bad base64",
        {"model": "MiniMax-Hailuo-2.3", "first_frame_image": "data:image/png;base64,@@@"},
        "first_frame_image",
    ),
    (
        "not an image",
        {"model": "MiniMax-Hailuo-2.3", "first_frame_image": "data:image/png;base64,aGVsbG8gd29ybGQ="},
        "first_frame_image",
    ),
    ("short side 300", {"model": "MiniMax-Hailuo-2.3", "first_frame_image": data_url((640, 300))}, "300"),
    ("aspect over 5:2", {"model": "MiniMax-Hailuo-2.3", "first_frame_image": data_url((1600, 320))}, "aspect"),
    ("duration on 01-series", {"model": "T2V-01", "prompt": "x", "duration": 6}, "duration"),
    ("resolution on 01-series", {"model": "I2V-01", "first_frame_image": URL, "resolution": "720P"}, "resolution"),
    ("2.3-Fast is image-only", {"model": "MiniMax-Hailuo-2.3-Fast", "prompt": "x"}, "first_frame_image"),
    ("T2V-01 takes no image", {"model": "T2V-01", "prompt": "x", "first_frame_image": URL}, "first_frame_image"),
    ("I2V-01 needs an image", {"model": "I2V-01", "prompt": "x"}, "first_frame_image"),
    ("512P text on 02", {"model": "MiniMax-Hailuo-02", "prompt": "x", "resolution": "512P"}, "512P"),
    (
        "512P first+last",
        {"model": "MiniMax-Hailuo-02", "first_frame_image": URL, "last_frame_image": URL, "resolution": "512P"},
        "512P",
    ),
    (
        "last frame on 2.3",
        {"model": "MiniMax-Hailuo-2.3", "first_frame_image": URL, "last_frame_image": URL},
        "last_frame",
    ),
    ("10 s at 1080P", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "duration": 10, "resolution": "1080P"}, "10"),
    ("duration 7", {"model": "MiniMax-Hailuo-02", "prompt": "x", "duration": 7}, "duration"),
    ("duration as string", {"model": "MiniMax-Hailuo-02", "prompt": "x", "duration": "6"}, "duration"),
    ("720P on Hailuo-2.3", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "resolution": "720P"}, "720P"),
    ("boolean option", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "prompt_optimizer": "yes"}, "prompt_optimizer"),
]

SUBJECT_INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("subject on 2.3", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "subject_reference": CHARACTER}, "subject"),
    ("S2V without subject", {"model": "S2V-01", "prompt": "x"}, "subject_reference"),
    ("two subjects", {"model": "S2V-01", "subject_reference": CHARACTER * 2}, "subject_reference"),
    ("wrong type", {"model": "S2V-01", "subject_reference": [{"type": "object", "image": [URL]}]}, "character"),
    ("image not a list", {"model": "S2V-01", "subject_reference": [{"type": "character", "image": URL}]}, "image"),
    ("S2V duration", {"model": "S2V-01", "subject_reference": CHARACTER, "duration": 6}, "duration"),
    ("minimax last frame alone", {"model": "MiniMax-Hailuo-02", "last_frame_image": URL}, "first_frame_image"),
]


# Modelverse serves the Hailuo family only, so the 01-series cases do not apply to it.
INVALID_CASES = [
    pytest.param(vendor, *case, id=f"{vendor}-{case[0]}")
    for vendor in ("minimax", "modelverse")
    for case in INVALID
    if vendor == "minimax" or case[1].get("model") not in ("T2V-01", "I2V-01")
]


@pytest.mark.parametrize(("vendor", "case", "fields", "needle"), INVALID_CASES)
def test_invalid_submits(emulator: EmulatorServer, vendor: str, case: str, fields: dict[str, Any], needle: str) -> None:
    fields = dict(fields)
    if vendor == "modelverse" and "prompt" not in fields and case != "text mode needs a prompt":
        fields["prompt"] = "x"  # Modelverse always requires input.prompt
    assert_invalid(submit(emulator, vendor, **fields), vendor, needle)
    assert emulator.tasks() == []


@pytest.mark.parametrize(("case", "fields", "needle"), SUBJECT_INVALID, ids=[c[0] for c in SUBJECT_INVALID])
def test_invalid_subject_and_frames(emulator: EmulatorServer, case: str, fields: dict[str, Any], needle: str) -> None:
    assert_invalid(submit(emulator, "minimax", **fields), "minimax", needle)


VALID: list[tuple[str, dict[str, Any]]] = [
    ("text 2.3 default", {"model": "MiniMax-Hailuo-2.3", "prompt": "x"}),
    ("text 2.3 1080P", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "duration": 6, "resolution": "1080P"}),
    ("text 2.3 10 s", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "duration": 10, "resolution": "768P"}),
    ("image 2.3-Fast", {"model": "MiniMax-Hailuo-2.3-Fast", "first_frame_image": URL}),
    (
        "image 02 512P 10 s",
        {"model": "MiniMax-Hailuo-02", "first_frame_image": URL, "resolution": "512P", "duration": 10},
    ),
    ("first+last 02", {"model": "MiniMax-Hailuo-02", "first_frame_image": URL, "last_frame_image": URL}),
    ("T2V-01", {"model": "T2V-01", "prompt": "x"}),
    ("T2V-01-Director", {"model": "T2V-01-Director", "prompt": "[Pan left] x"}),
    ("I2V-01-live", {"model": "I2V-01-live", "first_frame_image": data_url((720, 1280), "JPEG", "jpeg")}),
    ("S2V-01", {"model": "S2V-01", "prompt": "x", "subject_reference": CHARACTER}),
    ("prompt of 2000", {"model": "MiniMax-Hailuo-02", "prompt": "a" * 2000}),
    (
        "options",
        {
            "model": "MiniMax-Hailuo-02",
            "prompt": "x",
            "prompt_optimizer": False,
            "fast_pretreatment": True,
            "aigc_watermark": False,
            "callback_url": "https://example.com/hook",
        },
    ),
]


@pytest.mark.parametrize(("case", "fields"), VALID, ids=[c[0] for c in VALID])
def test_valid_submits(emulator: EmulatorServer, case: str, fields: dict[str, Any]) -> None:
    task_id_of("minimax", submit(emulator, "minimax", **fields))


def test_vendor_specific_rules(emulator: EmulatorServer) -> None:
    # DMXAPI's first/last-frame document accepts a last frame alone; MiniMax does not.
    task_id_of("dmxapi", submit(emulator, "dmxapi", last_frame_image=URL, prompt="grow up"))
    # Modelverse: no subject reference, prompt always required, Hailuo family only
    body = {"model": "MiniMax-Hailuo-02", "input": {"prompt": "x", "subject_reference": CHARACTER}}
    response = requests.post(
        emulator.base_url("modelverse") + SUBMIT_PATH["modelverse"],
        json=body,
        headers=AUTH["modelverse"],
        timeout=TIMEOUT,
    )
    assert_invalid(response, "modelverse", "subject_reference")
    assert_invalid(
        submit(emulator, "modelverse", model="MiniMax-Hailuo-02", first_frame_image=URL), "modelverse", "prompt"
    )
    assert_invalid(submit(emulator, "modelverse", model="T2V-01", prompt="x"), "modelverse", "model")
    no_input = requests.post(
        emulator.base_url("modelverse") + SUBMIT_PATH["modelverse"],
        json={"model": "MiniMax-Hailuo-02", "prompt": "flat"},
        headers=AUTH["modelverse"],
        timeout=TIMEOUT,
    )
    assert_invalid(no_input, "modelverse", "input")


@pytest.mark.parametrize("vendor", ["minimax", "modelverse"])
def test_body_must_be_a_json_object(emulator: EmulatorServer, vendor: str) -> None:
    url = emulator.base_url(vendor) + SUBMIT_PATH[vendor]
    for payload in (b"{not json", b"[1, 2]", b""):
        response = requests.post(url, data=payload, headers=AUTH[vendor], timeout=TIMEOUT)
        assert_invalid(response, vendor)
