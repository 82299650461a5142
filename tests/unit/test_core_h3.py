"""H3Request: defaults, modes, media checks on real files, upload planning, option cross-checks, costs."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hailuo.core import media
from airflow_provider_hailuo.core.cost import (
    cost_from_usage,
    estimate_h3_cost,
    estimate_regeneration_cost,
    estimate_v1_cost,
)
from airflow_provider_hailuo.core.h3 import (
    H3Request,
    api_for_model,
    check_model_for_vendor,
    check_options_for_model,
    is_h3_model,
)
from airflow_provider_hailuo.core.media import MediaItem, MediaUpload, plan_transfer
from airflow_provider_hailuo.core.models import Mode
from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError
from tests.unit.v2_media import make_heif, make_image, make_mp3, make_sparse, make_video, make_wav

H3, MAX = "MiniMax-H3", "MiniMax-H3-Max"
URL = "https://cdn.example.com/ref.png"
VIDEO_URL = "https://cdn.example.com/ref.mp4"
AUDIO_URL = "https://cdn.example.com/ref.mp3"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every medium the tables below need, made once for the module."""
    d = tmp_path_factory.mktemp("h3-media")
    made = {
        "png": make_image(d / "frame.png"),
        "jpg": make_image(d / "last.jpg", (1080, 1920), "JPEG"),
        "webp": make_image(d / "ref.webp", (800, 800), "WEBP"),
        "heic": make_heif(d / "photo.heic", (4032, 3024)),
        "small": make_image(d / "small.png", (200, 200)),
        "tall": make_image(d / "tall.png", (300, 1000)),
        "wide_5800": make_image(d / "wide.png", (5800, 2400)),
        "gif": make_image(d / "anim.gif", (800, 600), "GIF"),
        "big_image": make_sparse(d / "big.png", 30 * 1024 * 1024 + 1, b"\x89PNG\r\n\x1a\n"),
        "mp4": make_video(d / "ref.mp4", seconds=3),
        "mov": make_video(d / "ref.mov", seconds=2.5, audio=False, container="mov"),
        "mp4_6s": make_video(d / "six.mp4", seconds=6, size=(64, 64)),
        "mp4_short": make_video(d / "short.mp4", seconds=1, size=(64, 64)),
        "mp4_long": make_video(d / "long.mp4", seconds=16, fps=24, size=(64, 64), audio=False),
        "mp4v": make_video(d / "mpeg4.mp4", seconds=2.5, codec="mpeg4", size=(64, 64), audio=False),
        "mp4_12fps": make_video(d / "slow.mp4", seconds=3, fps=12, size=(64, 64), audio=False),
        "big_video": make_sparse(d / "big.mp4", 50 * 1024 * 1024 + 1),
        "wav": make_wav(d / "voice.wav", seconds=3),
        "wav_8s": make_wav(d / "eight.wav", seconds=8),
        "wav_short": make_wav(d / "short.wav", seconds=1),
        "mp3": make_mp3(d / "music.mp3", seconds=3),
        "big_audio": make_sparse(d / "big.wav", 15 * 1024 * 1024 + 1, b"RIFF"),
        "text": d / "notes.txt",
    }
    made["text"].write_text("not a video")
    truncated = d / "truncated.mp4"
    data = made["mp4"].read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    made["truncated"] = truncated
    return {name: str(path) for name, path in made.items()}


def data_url(path: str, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(Path(path).read_bytes()).decode()


# --- valid requests -----------------------------------------------------------------------------

def test_text_only_defaults() -> None:
    request = H3Request.build(model=H3, prompt="A lighthouse at dusk")
    assert (request.mode, request.duration, request.resolution, request.ratio) == (Mode.TEXT, 5, "768P", "16:9")
    assert request.media == () and request.pending_uploads == []
    assert request.estimated_cost("global") == {"amount": 0.4, "unit": "USD"}
    assert request.estimated_cost("china") == {"amount": 2.5, "unit": "CNY"}


def test_spellings_are_normalised() -> None:
    request = H3Request.build(model=" MiniMax-H3 ", prompt="x", resolution="2k", ratio=" 9:16 ", duration="10")
    assert (request.resolution, request.ratio, request.duration) == ("2K", "9:16", 10)
    maxed = H3Request.build(model=MAX, prompt="x", resolution=480, prompt_expansion_mode="Balanced")
    assert (maxed.resolution, maxed.prompt_expansion_mode) == ("480P", "balanced")


def test_first_frame_from_local_png_is_inlined(files: dict[str, str]) -> None:
    request = H3Request.build(model=H3, prompt="The wave rolls", first_frame_image=files["png"])
    assert request.mode is Mode.IMAGE and request.ratio == "adaptive"
    (item,) = request.media
    assert (item.role, item.kind, item.width, item.height) == ("first_frame", "image", 1280, 720)
    assert item.url is not None and item.url.startswith("data:image/png;base64,")
    assert base64.b64decode(item.url.split(",", 1)[1]) == Path(files["png"]).read_bytes()


def test_first_and_last_frame(files: dict[str, str]) -> None:
    request = H3Request.build(model=H3, prompt="Day to night", first_frame_image=files["png"],
                              last_frame_image=files["jpg"], ratio="adaptive")
    assert request.mode is Mode.FIRST_LAST_FRAME
    assert [(m.role, m.url[:16]) for m in request.media if m.url] == [("first_frame", "data:image/png;b"),
                                                                       ("last_frame", "data:image/jpeg;")]


def test_references_of_every_kind(files: dict[str, str]) -> None:
    request = H3Request.build(
        model=H3, prompt="Put the voice to the dancer", ratio="1:1",
        reference_images=[files["heic"], files["webp"], URL],
        reference_videos=[files["mp4"], files["mov"]],
        reference_audios=[files["wav"], data_url(files["mp3"], "audio/MPEG")],
    )
    assert request.mode is Mode.REFERENCE and request.ratio == "1:1"
    roles = [item.role for item in request.media]
    assert roles == ["reference_image"] * 3 + ["reference_video"] * 2 + ["reference_audio"] * 2
    heic, _, url, mp4, mov, wav, mp3 = request.media
    assert heic.url is not None and heic.url.startswith("data:image/heic;base64,")
    assert (heic.width, heic.height) == (4032, 3024)
    assert url.url == URL and url.size is None
    assert mp4.url is not None and mp4.url.startswith("data:video/mp4;base64,")
    assert mov.url is not None and mov.url.startswith("data:video/quicktime;base64,")
    assert mp4.duration == pytest.approx(3, abs=0.05) and mov.duration == pytest.approx(2.5, abs=0.05)
    assert wav.url is not None and wav.url.startswith("data:audio/wav;base64,")
    assert mp3.url is not None and mp3.url.startswith("data:audio/mp3;base64,")  # audio/MPEG rewritten
    assert request.reference_video_seconds == pytest.approx(5.5, abs=0.1)
    # 3 images (free), 5 s output + 5.5 s of reference video at the 768P rate
    cost = request.estimated_cost("global")
    assert cost is not None and cost["amount"] == pytest.approx((5 + 5.5) * 0.08, abs=0.01)


def test_reference_default_ratio_is_adaptive(files: dict[str, str]) -> None:
    request = H3Request.build(model=H3, prompt="x", reference_images=URL)  # a lone string is one item
    assert (request.mode, request.ratio, len(request.media)) == (Mode.REFERENCE, "adaptive", 1)


def test_url_and_mm_file_are_sent_as_is() -> None:
    request = H3Request.build(model=H3, prompt="x", reference_videos=[VIDEO_URL, "mm_file://3141"],
                              reference_images=[URL])
    assert [item.url for item in request.media] == [URL, VIDEO_URL, "mm_file://3141"]
    # a URL video's length cannot be known here: the estimate takes the 15 s maximum
    assert request.reference_video_seconds is None
    assert request.estimated_cost("global") == {"amount": pytest.approx((5 + 15) * 0.08), "unit": "USD"}


def test_large_local_media_wait_for_upload(files: dict[str, str]) -> None:
    request = H3Request.build(model=H3, prompt="x", reference_videos=[files["mp4"]], reference_images=[files["png"]],
                              inline_max_bytes=1024)
    pending = request.pending_uploads
    assert [(index, item.role) for index, item in pending] == [(0, "reference_image"), (1, "reference_video")]
    upload = pending[1][1].upload
    assert upload is not None
    assert (upload.filename, upload.mime, upload.purpose) == ("ref.mp4", "video/mp4", "video_generation_input")
    assert upload.data == Path(files["mp4"]).read_bytes()
    done = request.with_uploaded(0, "111").with_uploaded(1, "222")
    assert done.pending_uploads == []
    assert [item.url for item in done.media] == ["mm_file://111", "mm_file://222"]


def test_body_over_64_mb_moves_the_largest_local_media_to_upload() -> None:
    def local(size: int, name: str) -> MediaItem:
        return MediaItem("video", "reference_video", "reference_videos", repr(name),
                         upload=MediaUpload(name, "video/mp4", b"\0" * size), size=size)

    items = [local(30 * 1024 * 1024, "a.mp4"), local(20 * 1024 * 1024, "b.mp4"), local(2 * 1024 * 1024, "c.mp4")]
    planned = plan_transfer("x", items, inline_max_bytes=64 * 1024 * 1024)
    # inlined, a, b and c make ~69 MB of base64; moving the largest (a) suffices
    assert [item.needs_upload for item in planned] == [True, False, False]
    assert media.body_size("x", planned) <= media.MAX_BODY_BYTES


def test_body_over_64_mb_of_given_data_urls_is_refused() -> None:
    huge = MediaItem("video", "reference_video", "reference_videos", "'data:video/mp4;...'",
                     url="data:video/mp4;base64," + "A" * (65 * 1024 * 1024))
    with pytest.raises(HailuoInvalidRequestError, match="64 MB") as caught:
        plan_transfer("x", [huge])
    assert caught.value.parameter == "reference_videos"


# --- bad v2 inputs: each raises naming the parameter --------------------------------------------

def _sparse_big_mp4(files: dict[str, str]) -> dict[str, Any]:
    return {"reference_videos": [files["big_video"]], "reference_images": [URL]}


BAD_INPUTS: list[tuple[str, Any, str]] = [
    ("unknown model", {"model": "MiniMax-H4"}, "model"),
    ("model wrong case", {"model": "minimax-h3"}, "model"),
    ("model not a string", {"model": 3}, "model"),
    ("no prompt", {"prompt": None}, "prompt"),
    ("blank prompt", {"prompt": "  \n "}, "prompt"),
    ("prompt over 7000 characters", {"prompt": "x" * 7001}, "prompt"),
    ("prompt not a string", {"prompt": 42}, "prompt"),
    ("H3 duration below 4", {"duration": 3}, "duration"),
    ("H3-Max duration below 5", {"model": MAX, "duration": 4}, "duration"),
    ("duration above 15", {"duration": 16}, "duration"),
    ("fractional duration", {"duration": 5.5}, "duration"),
    ("duration word", {"duration": "ten"}, "duration"),
    ("duration bool", {"duration": True}, "duration"),
    ("H3 at 1080P", {"resolution": "1080P"}, "resolution"),
    ("H3 at 480P", {"resolution": "480P"}, "resolution"),
    ("H3-Max at 2K", {"model": MAX, "resolution": "2K"}, "resolution"),
    ("unknown ratio", {"ratio": "2:1"}, "ratio"),
    ("ratio not a string", {"ratio": 1.78}, "ratio"),
    ("adaptive without media", {"ratio": "adaptive"}, "ratio"),
    ("ratio with a first frame", {"ratio": "9:16", "first_frame_image": "png"}, "ratio"),
    ("prompt expansion on H3", {"prompt_expansion_mode": "balanced"}, "prompt_expansion_mode"),
    ("unknown prompt expansion", {"model": MAX, "prompt_expansion_mode": "max"}, "prompt_expansion_mode"),
    ("watermark not a bool", {"aigc_watermark": "yes"}, "aigc_watermark"),
    ("lone last frame", {"last_frame_image": "png"}, "last_frame_image"),
    ("frame mixed with references", {"first_frame_image": "png", "reference_images": [URL]}, "reference_images"),
    ("last frame mixed with a video", {"first_frame_image": "png", "last_frame_image": "jpg",
                                       "reference_videos": [VIDEO_URL]}, "reference_videos"),
    ("ten reference images", {"reference_images": [URL] * 10}, "reference_images"),
    ("four reference videos", {"reference_videos": [VIDEO_URL] * 4}, "reference_videos"),
    ("four reference audios", {"reference_audios": [AUDIO_URL] * 4, "reference_images": [URL]}, "reference_audios"),
    ("thirteen files in all", {"reference_images": [URL] * 9, "reference_videos": [VIDEO_URL] * 3,
                               "reference_audios": [AUDIO_URL]}, "reference_audios"),
    ("audio without image or video", {"reference_audios": [AUDIO_URL]}, "reference_audios"),
    ("references not a list", {"reference_images": {"url": URL}}, "reference_images"),
    ("empty item in a list", {"reference_videos": [""]}, "reference_videos"),
    ("image side under 256", {"reference_images": ["small"]}, "reference_images"),
    ("image aspect under 0.4", {"first_frame_image": "tall"}, "first_frame_image"),
    ("image side over 5760", {"reference_images": ["wide_5800"]}, "reference_images"),
    ("GIF image", {"first_frame_image": "gif"}, "first_frame_image"),
    ("image over 30 MB", {"first_frame_image": "big_image"}, "first_frame_image"),
    ("missing local file", {"first_frame_image": "/nonexistent/frame.png"}, "first_frame_image"),
    ("unsupported scheme", {"reference_images": ["ftp://example.com/a.png"]}, "reference_images"),
    ("URL without host", {"first_frame_image": "https:///a.png"}, "first_frame_image"),
    ("mm_file without id", {"reference_images": ["mm_file://"]}, "reference_images"),
    ("object storage outside Airflow", {"reference_images": ["s3://bucket/a.png"]}, "reference_images"),
    ("image data URL as a video", {"reference_videos": ["data-url:png:image/png"], "reference_images": [URL]},
     "reference_videos"),
    ("data URL with bad base64", {"reference_images": ["data:image/png;base64,@@@@"]}, "reference_images"),
    ("data URL mislabelled", {"first_frame_image": "data-url:jpg:image/png"}, "first_frame_image"),
    ("video under 2 s", {"reference_videos": ["mp4_short"]}, "reference_videos"),
    ("video over 15 s", {"reference_videos": ["mp4_long"]}, "reference_videos"),
    ("MPEG-4 part 2 video", {"reference_videos": ["mp4v"]}, "reference_videos"),
    ("video at 12 fps", {"reference_videos": ["mp4_12fps"]}, "reference_videos"),
    ("text file as a video", {"reference_videos": ["text"]}, "reference_videos"),
    ("truncated video", {"reference_videos": ["truncated"]}, "reference_videos"),
    ("video over 50 MB", {"reference_videos": ["big_video"]}, "reference_videos"),
    ("videos over 15 s together", {"reference_videos": ["mp4_6s", "mp4_6s", "mp4_6s"]}, "reference_videos"),
    ("audio under 2 s", {"reference_audios": ["wav_short"], "reference_images": [URL]}, "reference_audios"),
    ("audio over 15 MB", {"reference_audios": ["big_audio"], "reference_images": [URL]}, "reference_audios"),
    ("audios over 15 s together", {"reference_audios": ["wav_8s", "wav_8s"], "reference_images": [URL]},
     "reference_audios"),
    ("image as audio", {"reference_audios": ["png"], "reference_images": [URL]}, "reference_audios"),
]


def _resolve(value: Any, files: dict[str, str]) -> Any:
    """Table values name files of the ``files`` fixture; ``data-url:<file>:<mime>`` inlines one."""
    if isinstance(value, list):
        return [_resolve(v, files) for v in value]
    if isinstance(value, str) and value.startswith("data-url:"):
        _, name, mime = value.split(":", 2)
        return data_url(files[name], mime)
    if isinstance(value, str) and value in files:
        return files[value]
    return value


@pytest.mark.parametrize(("params", "parameter"), [(p, n) for _, p, n in BAD_INPUTS],
                         ids=[case for case, _, _ in BAD_INPUTS])
def test_bad_v2_input_names_the_parameter(files: dict[str, str], params: dict[str, Any], parameter: str) -> None:
    kwargs: dict[str, Any] = {"model": H3, "prompt": "A lighthouse at dusk"}
    kwargs.update({key: _resolve(value, files) for key, value in params.items()})
    with pytest.raises(HailuoInvalidRequestError) as caught:
        H3Request.build(**kwargs)
    assert caught.value.parameter == parameter, str(caught.value)
    assert parameter in str(caught.value)


def test_the_table_is_big_enough() -> None:
    assert len({case for case, _, _ in BAD_INPUTS}) >= 30


def test_errors_say_what_is_allowed(files: dict[str, str]) -> None:
    with pytest.raises(HailuoInvalidRequestError, match=r"duration 3 .*from 4 to 15"):
        H3Request.build(model=H3, prompt="x", duration=3)
    with pytest.raises(HailuoInvalidRequestError, match=r"lasts 1\.\d\d s.*2-15 s"):
        H3Request.build(model=H3, prompt="x", reference_videos=[files["mp4_short"]])
    with pytest.raises(HailuoInvalidRequestError, match=r"'mp4v'.*H\.264"):
        H3Request.build(model=H3, prompt="x", reference_videos=[files["mp4v"]])
    with pytest.raises(HailuoInvalidRequestError, match=r"Did you mean 'MiniMax-H3-Max'"):
        H3Request.build(model="minimax-h3-max", prompt="x")


def test_object_storage_is_read_through_the_injected_reader(files: dict[str, str]) -> None:
    calls: list[tuple[str, int]] = []

    def read_object(uri: str, max_bytes: int) -> bytes:
        calls.append((uri, max_bytes))
        return Path(files["wav"]).read_bytes()

    request = H3Request.build(model=H3, prompt="x", reference_images=[URL],
                              reference_audios=["s3://bucket/voice.wav"], read_object=read_object)
    assert calls == [("s3://bucket/voice.wav", 15 * 1024 * 1024)]
    assert request.media[1].url is not None and request.media[1].url.startswith("data:audio/wav;base64,")


# --- options of the other API -----------------------------------------------------------------

@pytest.mark.parametrize("option", ["subject_reference", "prompt_optimizer", "fast_pretreatment"])
def test_v1_only_options_refused_with_h3(option: str) -> None:
    with pytest.raises(HailuoInvalidRequestError) as caught:
        check_options_for_model(MAX, {option: False if option != "subject_reference" else URL})
    assert caught.value.parameter == option


@pytest.mark.parametrize("option", ["ratio", "reference_images", "reference_videos", "reference_audios",
                                    "prompt_expansion_mode"])
def test_v2_only_options_refused_with_v1(option: str) -> None:
    with pytest.raises(HailuoInvalidRequestError, match="MiniMax-H3") as caught:
        check_options_for_model("MiniMax-Hailuo-2.3", {option: [URL] if option.startswith("reference") else "16:9"})
    assert caught.value.parameter == option


def test_unset_options_pass_both_ways() -> None:
    check_options_for_model(H3, {"subject_reference": None, "prompt_optimizer": None, "ratio": "16:9"})
    check_options_for_model("MiniMax-Hailuo-02", {"ratio": None, "reference_images": [], "prompt_optimizer": True})


@pytest.mark.parametrize("vendor", ["dmxapi", "modelverse"])
def test_resellers_refuse_h3(vendor: str) -> None:
    with pytest.raises(HailuoInvalidRequestError) as caught:
        check_model_for_vendor(vendor, "MiniMax-H3")
    assert caught.value.parameter == "model"
    check_model_for_vendor("minimax", "MiniMax-H3")
    check_model_for_vendor(vendor, "MiniMax-Hailuo-2.3")


def test_api_routing_by_model() -> None:
    assert [api_for_model(m) for m in (H3, MAX, "minimax-h3", "MiniMax-Hailuo-2.3", None)] == \
        ["v2", "v2", "v2", "v1", "v1"]
    assert not is_h3_model("MiniMax-H3-Ultra")


# --- prices -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "kwargs", "expected"), [
    ((H3, "768P", 5), {"region": "global"}, {"amount": 0.4, "unit": "USD"}),
    ((H3, "2K", 10), {"region": "global"}, {"amount": 1.3, "unit": "USD"}),
    ((H3, "768P", 5), {"region": "global", "image_count": 7}, {"amount": 0.48, "unit": "USD"}),
    ((H3, "768P", 5), {"region": "global", "reference_video_seconds": 3}, {"amount": 0.64, "unit": "USD"}),
    ((MAX, "480P", 5), {"region": "global", "image_count": 3}, {"amount": 0.324, "unit": "USD"}),
    ((H3, "2K", 5), {"region": "china"}, {"amount": 4.0, "unit": "CNY"}),
    ((H3, "768P", 5), {"region": None}, {"amount": 2.5, "unit": "CNY"}),
    ((MAX, "768P", 5), {"region": "china"}, None),  # no published CNY price for H3-Max
    ((H3, "768P", 5), {"region": "china", "image_count": 6}, None),  # nor for paid images in CNY
])
def test_h3_price_table(args: tuple[Any, ...], kwargs: dict[str, Any], expected: Any) -> None:
    assert estimate_h3_cost(*args, **kwargs) == expected


def test_cost_from_reported_usage_and_other_prices() -> None:
    usage = {"total_seconds": 8, "input_seconds": 3, "output_seconds": 5, "input_image_count": 6}
    assert cost_from_usage(H3, "768P", usage, "global") == {"amount": pytest.approx(0.68), "unit": "USD"}
    assert cost_from_usage(H3, "768P", None, "global") is None
    assert estimate_regeneration_cost(10, "global") == {"amount": 0.5, "unit": "USD"}
    assert estimate_regeneration_cost(10, "china") is None
    assert estimate_v1_cost("MiniMax-Hailuo-2.3", "768P", 6) == {"amount": 1.0, "unit": "credits"}
    assert estimate_v1_cost("MiniMax-Hailuo-2.3", "768P", 7) is None
