"""VideoRequest: mode inference, model capability table, prompt, images, subject reference."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from airflow_provider_hailuo.core.camera import canonical_command, parse_camera_commands
from airflow_provider_hailuo.core.capabilities import MODELS, estimate_credits
from airflow_provider_hailuo.core.models import Mode, TaskState
from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.exceptions import HailuoError, HailuoInvalidRequestError


def make_image(path: Path, size: tuple[int, int] = (1280, 720), fmt: str = "PNG") -> Path:
    Image.new("RGB", size, (200, 80, 40)).save(path, format=fmt)
    return path


def data_url(size: tuple[int, int] = (1280, 720), fmt: str = "PNG", mime: str = "png") -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format=fmt)
    return f"data:image/{mime};base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def image(tmp_path: Path) -> str:
    return str(make_image(tmp_path / "frame.png"))


# --- valid requests -------------------------------------------------------------------------------

def test_text_mode_defaults_are_not_sent_but_known() -> None:
    request = VideoRequest.build(model="MiniMax-Hailuo-2.3", prompt="A cat")
    assert request.mode is Mode.TEXT
    assert request.duration is None and request.resolution is None
    assert (request.effective_duration, request.effective_resolution) == (6, "768P")
    assert request.estimated_credits == 1.0
    assert request.expected_size() == (1366, 768)


def test_image_mode_from_local_file_becomes_data_url(image: str) -> None:
    request = VideoRequest.build(model="MiniMax-Hailuo-2.3-Fast", first_frame_image=image, resolution="1080p")
    assert request.mode is Mode.IMAGE
    assert request.first_frame_image is not None and request.first_frame_image.startswith("data:image/png;base64,")
    assert request.resolution == "1080P"
    assert request.expected_size() == (1920, 1080)


def test_image_mode_follows_portrait_frame(tmp_path: Path) -> None:
    frame = make_image(tmp_path / "portrait.jpg", (720, 1280), "JPEG")
    request = VideoRequest.build(model="MiniMax-Hailuo-02", first_frame_image=str(frame), resolution="512P")
    assert request.first_frame_image is not None and request.first_frame_image.startswith("data:image/jpeg")
    assert request.expected_size() == (512, 910)


def test_https_url_is_passed_through_unread() -> None:
    request = VideoRequest.build(model="I2V-01", first_frame_image="https://example.com/a.jpg")
    assert request.first_frame_image == "https://example.com/a.jpg"
    assert request.expected_size() is None


def test_first_last_frame_mode(image: str) -> None:
    request = VideoRequest.build(model="MiniMax-Hailuo-02", prompt="grow", first_frame_image=image,
                                 last_frame_image=data_url(), duration=10)
    assert request.mode is Mode.FIRST_LAST_FRAME
    assert request.duration == 10 and request.effective_resolution == "768P"
    assert request.estimated_credits == 2.0


@pytest.mark.parametrize(
    "reference",
    [
        "https://example.com/face.jpg",
        ["https://example.com/face.jpg"],
        {"type": "character", "image": "https://example.com/face.jpg"},
        [{"type": "character", "image": ["https://example.com/face.jpg"]}],
    ],
)
def test_subject_reference_forms_normalise(reference: object) -> None:
    request = VideoRequest.build(model="S2V-01", prompt="smile", subject_reference=reference)
    assert request.mode is Mode.SUBJECT_REFERENCE
    assert request.subject_reference == [{"type": "character", "image": ["https://example.com/face.jpg"]}]
    assert request.duration is None and request.resolution is None


def test_fixed_output_model_accepts_its_own_values_and_sends_nothing() -> None:
    request = VideoRequest.build(model="T2V-01-Director", prompt="[Pan left] a road", duration=6, resolution="720P")
    assert request.duration is None and request.resolution is None
    assert request.effective_resolution == "720P"
    assert request.estimated_credits is None


def test_camera_warnings_are_warnings_not_errors() -> None:
    request = VideoRequest.build(model="MiniMax-Hailuo-2.3", prompt="x [左摇,上升,推进,晃动] y [Moonwalk]")
    assert len(request.warnings) == 2
    assert any("at most 3" in w for w in request.warnings)
    assert any("Moonwalk" in w for w in request.warnings)


def test_camera_commands_both_languages() -> None:
    plan = parse_camera_commands("A [左摇, 上升] then [Zoom In]，[固定] and [static shot]")
    names = [canonical_command(word) for word in ("左摇", "上升", "Zoom In", "固定", "static shot")]
    assert names == ["Pan left", "Pedestal up", "Zoom in", "Static shot", "Static shot"]
    assert plan.warnings == ()


def test_every_model_has_a_mode_and_a_price_where_documented() -> None:
    assert set(MODELS) == {
        "MiniMax-Hailuo-2.3", "MiniMax-Hailuo-2.3-Fast", "MiniMax-Hailuo-02", "T2V-01", "T2V-01-Director",
        "I2V-01", "I2V-01-Director", "I2V-01-live", "S2V-01",
    }
    assert estimate_credits("MiniMax-Hailuo-2.3-Fast", "1080P", 6) == 1.3
    assert estimate_credits("MiniMax-Hailuo-02", "512P", 10) == 0.5


def test_task_state_terminal() -> None:
    assert TaskState.SUCCEEDED.is_terminal and TaskState.FAILED.is_terminal
    assert not TaskState.QUEUED.is_terminal and not TaskState.RUNNING.is_terminal


# --- invalid requests: each raises before any I/O, naming the parameter ----------------------------

def _png_bytes(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size).save(buffer, format="PNG")
    return buffer.getvalue()


GOOD = "https://example.com/a.png"
INVALID = [
    ("unknown model", {"model": "Hailuo-3"}, "model"),
    ("model wrong case hints", {"model": "minimax-hailuo-2.3", "prompt": "x"}, "model"),
    ("model not a string", {"model": 23, "prompt": "x"}, "model"),
    ("text mode needs a prompt", {"model": "MiniMax-Hailuo-2.3"}, "prompt"),
    ("blank prompt", {"model": "MiniMax-Hailuo-2.3", "prompt": "   "}, "prompt"),
    ("prompt too long", {"model": "MiniMax-Hailuo-2.3", "prompt": "x" * 2001}, "prompt"),
    ("prompt not a string", {"model": "MiniMax-Hailuo-2.3", "prompt": 42}, "prompt"),
    ("invisible character", {"model": "MiniMax-Hailuo-2.3", "prompt": "a\u200bb"}, "prompt"),
    ("2.3-Fast is image only", {"model": "MiniMax-Hailuo-2.3-Fast", "prompt": "x"}, "model"),
    ("T2V-01 takes no image", {"model": "T2V-01", "first_frame_image": GOOD}, "model"),
    ("FL2V only on Hailuo-02", {"model": "MiniMax-Hailuo-2.3", "first_frame_image": GOOD,
                                "last_frame_image": GOOD}, "model"),
    ("FL2V not 512P", {"model": "MiniMax-Hailuo-02", "first_frame_image": GOOD, "last_frame_image": GOOD,
                       "resolution": "512P"}, "resolution"),
    ("512P is image only", {"model": "MiniMax-Hailuo-02", "prompt": "x", "resolution": "512P"}, "resolution"),
    ("1080P not at 10 s", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "duration": 10,
                           "resolution": "1080P"}, "resolution"),
    ("duration 8", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "duration": 8}, "duration"),
    ("duration not a number", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "duration": "six"}, "duration"),
    ("duration bool", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "duration": True}, "duration"),
    ("unknown resolution", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "resolution": "4K"}, "resolution"),
    ("720P not on 2.3", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "resolution": "720P"}, "resolution"),
    ("01-series rejects duration", {"model": "T2V-01", "prompt": "x", "duration": 10}, "duration"),
    ("01-series rejects resolution", {"model": "I2V-01-live", "first_frame_image": GOOD,
                                      "resolution": "1080P"}, "resolution"),
    ("S2V needs S2V-01", {"model": "MiniMax-Hailuo-2.3", "subject_reference": GOOD}, "model"),
    ("last frame without first", {"model": "MiniMax-Hailuo-02", "last_frame_image": GOOD}, "last_frame_image"),
    ("subject with frame", {"model": "S2V-01", "subject_reference": GOOD, "first_frame_image": GOOD},
     "subject_reference"),
    ("two subjects", {"model": "S2V-01", "subject_reference": [{"type": "character", "image": [GOOD]}] * 2},
     "subject_reference"),
    ("subject wrong type", {"model": "S2V-01", "subject_reference": {"type": "object", "image": [GOOD]}},
     "subject_reference.type"),
    ("subject empty images", {"model": "S2V-01", "subject_reference": {"type": "character", "image": []}},
     "subject_reference.image"),
    ("subject unknown key", {"model": "S2V-01", "subject_reference": {"image": [GOOD], "weight": 2}},
     "subject_reference"),
    ("subject not an image", {"model": "S2V-01", "subject_reference": 7}, "subject_reference"),
    ("image missing file", {"model": "I2V-01", "first_frame_image": "/no/such/frame.png"}, "first_frame_image"),
    ("image bad scheme", {"model": "I2V-01", "first_frame_image": "ftp://host/a.png"}, "first_frame_image"),
    ("image not a string", {"model": "I2V-01", "first_frame_image": 5}, "first_frame_image"),
    ("url without host", {"model": "I2V-01", "first_frame_image": "https:///a.png"}, "first_frame_image"),
    ("data url not base64", {"model": "I2V-01", "first_frame_image": "data:image/png,abc"}, "first_frame_image"),
    ("data url not image", {"model": "I2V-01", "first_frame_image": "data:text/plain;base64,aGk="},
     "first_frame_image"),
    ("data url garbage base64", {"model": "I2V-01", "first_frame_image": "data:image/png;base64,@@@"},
     "first_frame_image"),
    ("image too small", {"model": "I2V-01", "first_frame_image": "data:image/png;base64,"
                         + base64.b64encode(_png_bytes((300, 600))).decode()}, "first_frame_image"),
    ("image too wide", {"model": "I2V-01", "first_frame_image": "data:image/png;base64,"
                        + base64.b64encode(_png_bytes((1600, 620))).decode()}, "first_frame_image"),
    ("image too tall", {"model": "I2V-01", "first_frame_image": "data:image/png;base64,"
                        + base64.b64encode(_png_bytes((400, 1100))).decode()}, "first_frame_image"),
    ("object storage without Airflow", {"model": "I2V-01", "first_frame_image": "s3://bucket/a.png"},
     "first_frame_image"),
    ("fast_pretreatment on 01", {"model": "T2V-01", "prompt": "x", "fast_pretreatment": True},
     "fast_pretreatment"),
    ("prompt_optimizer not bool", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "prompt_optimizer": "yes"},
     "prompt_optimizer"),
    ("watermark not bool", {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "aigc_watermark": 1}, "aigc_watermark"),
]


@pytest.mark.parametrize(("case", "kwargs", "parameter"), INVALID, ids=[case for case, _, _ in INVALID])
def test_invalid_input_raises_naming_the_parameter(case: str, kwargs: dict, parameter: str) -> None:
    with pytest.raises(HailuoInvalidRequestError) as info:
        VideoRequest.build(**kwargs)
    assert isinstance(info.value, HailuoError)
    assert info.value.parameter == parameter
    assert parameter.split(".")[0] in str(info.value)


def test_at_least_25_invalid_cases() -> None:
    assert len(INVALID) >= 25


def test_non_image_file_is_rejected_by_content_not_extension(tmp_path: Path) -> None:
    fake = tmp_path / "frame.png"
    fake.write_bytes(b"GIF89a" + b"\0" * 100)
    with pytest.raises(HailuoInvalidRequestError, match="first_frame_image"):
        VideoRequest.build(model="I2V-01", first_frame_image=str(fake))


def test_gif_is_not_an_allowed_format(tmp_path: Path) -> None:
    gif = make_image(tmp_path / "frame.jpg", (640, 480), "GIF")
    with pytest.raises(HailuoInvalidRequestError, match="GIF"):
        VideoRequest.build(model="I2V-01", first_frame_image=str(gif))


def test_image_over_20_mb_is_rejected_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    with open(big, "wb") as handle:
        handle.truncate(20 * 1024 * 1024)
    with pytest.raises(HailuoInvalidRequestError, match="20 MB"):
        VideoRequest.build(model="I2V-01", first_frame_image=str(big))


def test_object_storage_reader_is_used_and_checked() -> None:
    seen: list[str] = []

    def read_object(uri: str, max_bytes: int) -> bytes:
        seen.append(uri)
        return _png_bytes((800, 600))

    request = VideoRequest.build(model="I2V-01", first_frame_image="s3://media/in.png", read_object=read_object)
    assert seen == ["s3://media/in.png"]
    assert request.first_frame_image is not None and request.first_frame_image.startswith("data:image/png")


def test_object_storage_read_failure_names_parameter_and_uri() -> None:
    def read_object(uri: str, max_bytes: int) -> bytes:
        raise FileNotFoundError(uri)

    with pytest.raises(HailuoInvalidRequestError, match="last_frame_image.*s3://media/missing.png"):
        VideoRequest.build(model="MiniMax-Hailuo-02", first_frame_image=GOOD,
                           last_frame_image="s3://media/missing.png", read_object=read_object)


def test_data_url_message_does_not_dump_the_whole_image() -> None:
    value = "data:image/png;base64," + base64.b64encode(_png_bytes((200, 200))).decode()
    with pytest.raises(HailuoInvalidRequestError) as info:
        VideoRequest.build(model="I2V-01", first_frame_image=value)
    assert len(str(info.value)) < 400
