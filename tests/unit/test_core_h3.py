"""H3Request: defaults, modes, media checks on real files, upload planning, option cross-checks, costs."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hailuo.core import media
from airflow_provider_hailuo.core.cost import cost_from_usage, estimate_h3_cost, estimate_regeneration_cost
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
from tests.unit.v2_bad_inputs import BAD_INPUTS, H3, MAX, URL, VIDEO_URL, build_media_files, data_url, resolve


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return build_media_files(tmp_path_factory.mktemp("h3-media"))


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


# --- bad v2 inputs (tests/unit/v2_bad_inputs.py): each raises naming the parameter -------------

@pytest.mark.parametrize(("params", "parameter"), [(p, n) for _, p, n in BAD_INPUTS],
                         ids=[case for case, _, _ in BAD_INPUTS])
def test_bad_v2_input_names_the_parameter(files: dict[str, str], params: dict[str, Any], parameter: str) -> None:
    kwargs: dict[str, Any] = {"model": H3, "prompt": "A lighthouse at dusk"}
    kwargs.update({key: resolve(value, files) for key, value in params.items()})
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


def test_the_v1_path_knows_h3_names_and_points_to_v2() -> None:
    from airflow_provider_hailuo.core.capabilities import V2_MODELS
    from airflow_provider_hailuo.core.h3 import H3_MODELS
    from airflow_provider_hailuo.core.request import VideoRequest

    assert tuple(H3_MODELS) == V2_MODELS
    with pytest.raises(HailuoInvalidRequestError, match="video API v2") as caught:
        VideoRequest.build(model="MiniMax-H3", prompt="A fox")
    assert caught.value.parameter == "model"
