"""Bad input never reaches the vendor: it fails fast, with the documented error naming the parameter.

Every case runs the real operator, sensor or transfer (``execute`` with a minimal context) with
connections pointing at the emulator, and checks four things:

* the exact ``HailuoError`` subclass the contract documents (``HailuoInvalidRequestError``, or
  its ``HailuoConfigurationError`` for connections);
* ``exc.parameter`` is the parameter at fault, and the message names it (and the value given);
* nothing reached the emulator: zero submits, and no request at all (not even a status query);
* the key is not in the message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_hailuo.exceptions import (
    HailuoBudgetExceededError,
    HailuoConfigurationError,
    HailuoError,
    HailuoInvalidRequestError,
)
from tests.conftest import EMULATOR_API_KEY, conn_env
from tests.reliability.helpers import files_under, make_image, run_generate, run_transfer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

REMOTE_PLAIN_HTTP = "http://203.0.113.10:8089/minimax"  # TEST-NET-3: never routed
VIDEO = {"vendor": "minimax", "model": "MiniMax-Hailuo-2.3", "video_task_id": "123456789012345",
         "status": "succeeded", "file_id": "987654321"}


@dataclass(frozen=True)
class Case:
    target: str  # generate | sensor | transfer
    kwargs: Callable[[Any], dict[str, Any]]
    parameter: str
    mentions: tuple[str, ...]
    error: type[HailuoError] = HailuoInvalidRequestError


def gen(parameter: str, mentions: tuple[str, ...], error: type[HailuoError] = HailuoInvalidRequestError,
        **fixed: Any) -> Callable[[Callable[[Any], dict[str, Any]] | None], Case]:
    """A generate case: ``fixed`` kwargs, or a function of the environment returning them."""

    def build(dynamic: Callable[[Any], dict[str, Any]] | None = None) -> Case:
        return Case("generate", lambda env: {**fixed, **(dynamic(env) if dynamic else {})}, parameter, mentions,
                    error)

    return build


CONF = HailuoConfigurationError
#: A reseller connection's price table (extra ``prices``, README "Spend"), and a broken one.
PRICED = {"prices": {"unit": "CNY", "per_video": {"MiniMax-Hailuo-02": {"768P": {"6": 1.5, "10": 3}}}}}
BAD_PRICES = {"prices": {"unit": "CNY", "per_video": {"MiniMax-Hailuo-02": {"768P": {"6": "1,5"}}}}}
BAD_PRICE_KEY = "prices.per_video.MiniMax-Hailuo-02.768P.6"

GENERATE: dict[str, Case] = {
    # -- model / mode / duration / resolution -------------------------------------------------
    "unknown_model": gen("model", ("model", "'Hailuo-3-Ultra'", "Allowed"), model="Hailuo-3-Ultra")(),
    "model_wrong_case": gen("model", ("model", "Did you mean 'MiniMax-Hailuo-2.3'"), model="minimax-hailuo-2.3")(),
    "model_not_a_string": gen("model", ("model", "23"), model=23)(),
    "text_on_image_only_model": gen("model", ("model", "MiniMax-Hailuo-2.3-Fast", "text-to-video"),
                                    model="MiniMax-Hailuo-2.3-Fast")(),
    "first_last_on_hailuo_23": gen("model", ("model", "first+last-frame", "MiniMax-Hailuo-02"))(
        lambda env: {"first_frame_image": env.images.good, "last_frame_image": env.images.good}),
    "subject_on_hailuo_02": gen("model", ("model", "subject-reference", "S2V-01"), model="MiniMax-Hailuo-02")(
        lambda env: {"subject_reference": env.images.portrait}),
    "image_on_text_only_model": gen("model", ("model", "T2V-01", "image-to-video"), model="T2V-01")(
        lambda env: {"first_frame_image": env.images.good}),
    "duration_8": gen("duration", ("duration", "8", "Allowed: 6, 10"), duration=8)(),
    "duration_word": gen("duration", ("duration", "'six'"), duration="six")(),
    "duration_fraction": gen("duration", ("duration", "6.5"), duration=6.5)(),
    "duration_10_at_1080p": gen("resolution", ("resolution", "'1080P'", "10 s"), duration=10, resolution="1080P")(),
    "512p_text_to_video": gen("resolution", ("resolution", "'512P'", "image-to-video"), model="MiniMax-Hailuo-02",
                              resolution="512P")(),
    "512p_first_last_frame": gen("resolution", ("resolution", "'512P'", "first+last-frame"),
                                 model="MiniMax-Hailuo-02", resolution="512P")(
        lambda env: {"first_frame_image": env.images.good, "last_frame_image": env.images.good}),
    "resolution_4k": gen("resolution", ("resolution", "'4K'", "Allowed"), resolution="4K")(),
    "resolution_bool": gen("resolution", ("resolution", "True"), resolution=True)(),
    "duration_on_fixed_model": gen("duration", ("duration", "T2V-01", "Leave duration unset"), model="T2V-01",
                                   duration=10)(),
    "resolution_on_fixed_model": gen("resolution", ("resolution", "T2V-01", "720P"), model="T2V-01",
                                     resolution="1080P")(),
    "fast_pretreatment_on_01": gen("fast_pretreatment", ("fast_pretreatment", "T2V-01"), model="T2V-01",
                                   fast_pretreatment=True)(),
    "prompt_optimizer_string": gen("prompt_optimizer", ("prompt_optimizer", "'yes'"), prompt_optimizer="yes")(),
    "aigc_watermark_int": gen("aigc_watermark", ("aigc_watermark", "1"), aigc_watermark=1)(),
    # -- prompt -------------------------------------------------------------------------------
    "prompt_too_long": gen("prompt", ("prompt", "2001 characters", "at most 2000"), prompt="x" * 2001)(),
    "prompt_missing_text_mode": gen("prompt", ("prompt is required", "None"), prompt=None)(),
    "prompt_blank": gen("prompt", ("prompt is required", "'   '"), prompt="   ")(),
    "prompt_invisible_character": gen("prompt", ("prompt", "U+200B", "position 5"), prompt="A cat\u200b on a boat")(),
    "prompt_not_a_string": gen("prompt", ("prompt must be a string", "int"), prompt=42)(),
    "last_frame_without_first": gen("last_frame_image", ("last_frame_image", "first_frame_image"),
                                    model="MiniMax-Hailuo-02")(lambda env: {"last_frame_image": env.images.good}),
    "subject_with_first_frame": gen("subject_reference", ("subject_reference", "first_frame_image"),
                                    model="S2V-01")(
        lambda env: {"subject_reference": env.images.portrait, "first_frame_image": env.images.good}),
    # -- images ---------------------------------------------------------------------------------
    "image_gif": gen("first_frame_image", ("first_frame_image", "GIF", "JPG/JPEG, PNG, WebP"))(
        lambda env: {"first_frame_image": env.images.gif}),
    "image_bmp": gen("first_frame_image", ("first_frame_image", "BMP"))(
        lambda env: {"first_frame_image": env.images.bmp}),
    "image_not_an_image": gen("first_frame_image", ("first_frame_image", "not a readable image"))(
        lambda env: {"first_frame_image": env.images.text}),
    "image_short_side_300": gen("first_frame_image", ("first_frame_image", "300x300", "more than 300 px"))(
        lambda env: {"first_frame_image": env.images.tiny}),
    "image_too_wide": gen("first_frame_image", ("first_frame_image", "1600x500", "aspect"))(
        lambda env: {"first_frame_image": env.images.wide}),
    "image_too_tall": gen("first_frame_image", ("first_frame_image", "400x1200", "aspect"))(
        lambda env: {"first_frame_image": env.images.tall}),
    "image_over_20_mb": gen("first_frame_image", ("first_frame_image", "20 MB"))(
        lambda env: {"first_frame_image": env.images.huge}),
    "image_missing_path": gen("first_frame_image", ("first_frame_image", "/nonexistent/frame.png",
                                                    "no local file exists"),
                              first_frame_image="/nonexistent/frame.png")(),
    "image_missing_file_uri": gen("first_frame_image", ("first_frame_image", "file:///nonexistent.png"),
                                  first_frame_image="file:///nonexistent.png")(),
    "image_ftp_scheme": gen("first_frame_image", ("first_frame_image", "unsupported scheme 'ftp'"),
                            first_frame_image="ftp://example.com/frame.png")(),
    "image_plain_http_url": gen("first_frame_image", ("first_frame_image", "http://example.com/frame.png",
                                                      "must be https://"),
                                first_frame_image="http://example.com/frame.png")(),
    "image_plain_http_loopback_url": gen("first_frame_image", ("first_frame_image", "http://127.0.0.1",
                                                               "must be https://"),
                                         first_frame_image="http://127.0.0.1:9/frame.png")(),
    "last_frame_plain_http_url": gen("last_frame_image", ("last_frame_image", "http://example.com/last.png",
                                                          "must be https://"), model="MiniMax-Hailuo-02")(
        lambda env: {"first_frame_image": env.images.good, "last_frame_image": "http://example.com/last.png"}),
    "subject_plain_http_url": gen("subject_reference.image[0]", ("subject_reference", "http://example.com/face.png",
                                                                 "must be https://"), model="S2V-01",
                                  subject_reference="http://example.com/face.png")(),
    "image_url_without_host": gen("first_frame_image", ("first_frame_image", "no host"),
                                  first_frame_image="https:///frame.png")(),
    "image_data_url_bad_base64": gen("first_frame_image", ("first_frame_image", "base64"),
                                     first_frame_image="data:image/png;base64,!!not*base64!!")(),
    "image_data_url_not_an_image": gen("first_frame_image", ("first_frame_image", "data:image"),
                                       first_frame_image="data:text/plain;base64,aGVsbG8=")(),
    "image_empty_string": gen("first_frame_image", ("first_frame_image", "''"), first_frame_image="")(),
    "image_not_a_string": gen("first_frame_image", ("first_frame_image", "123"), first_frame_image=123)(),
    "image_s3_no_such_bucket": gen("first_frame_image", ("first_frame_image", "s3://nobucket-hailuo-reliability/x.png",
                                                         "cannot read image"))(
        lambda env: {"first_frame_image": "s3://nobucket-hailuo-reliability/x.png", "image_conn_id": env.moto}),
    "image_s3_no_such_key": gen("first_frame_image", ("first_frame_image", "missing.png", "cannot read image"))(
        lambda env: {"first_frame_image": f"s3://{env.bucket}/missing.png", "image_conn_id": env.moto}),
    "image_s3_not_an_image": gen("first_frame_image", ("first_frame_image", "notes.png", "not a readable image"))(
        lambda env: {"first_frame_image": f"s3://{env.bucket}/notes.png", "image_conn_id": env.moto}),
    "last_frame_too_small": gen("last_frame_image", ("last_frame_image", "300x300"), model="MiniMax-Hailuo-02")(
        lambda env: {"first_frame_image": env.images.good, "last_frame_image": env.images.tiny}),
    # -- subject_reference --------------------------------------------------------------------
    "subject_two_subjects": gen("subject_reference", ("subject_reference", "2 subjects", "exactly one"),
                                model="S2V-01")(
        lambda env: {"subject_reference": [{"type": "character", "image": [env.images.portrait]}] * 2}),
    "subject_type_object": gen("subject_reference.type", ("subject_reference type 'object'", "'character'"),
                               model="S2V-01")(
        lambda env: {"subject_reference": [{"type": "object", "image": [env.images.portrait]}]}),
    "subject_empty_image_list": gen("subject_reference.image", ("subject_reference image", "non-empty"),
                                    model="S2V-01", subject_reference=[{"type": "character", "image": []}])(),
    "subject_unknown_key": gen("subject_reference", ("subject_reference", "unknown keys", "'face'"), model="S2V-01")(
        lambda env: {"subject_reference": [{"type": "character", "image": [env.images.portrait], "face": 1}]}),
    "subject_image_too_small": gen("subject_reference.image[0]", ("subject_reference.image[0]", "300x300"),
                                   model="S2V-01")(lambda env: {"subject_reference": env.images.tiny}),
    "subject_image_missing": gen("subject_reference.image[0]", ("subject_reference.image[0]", "/nonexistent/face.png"),
                                 model="S2V-01", subject_reference=["/nonexistent/face.png"])(),
    "subject_not_an_image": gen("subject_reference", ("subject_reference", "5"), model="S2V-01",
                                subject_reference=5)(),
    # -- what one vendor does not sell ----------------------------------------------------------
    "modelverse_subject_reference": gen("hailuo_conn_id", ("Modelverse", "subject-reference"), model="S2V-01")(
        lambda env: {"hailuo_conn_id": env.conns["modelverse"], "subject_reference": env.images.portrait}),
    "modelverse_01_model": gen("model", ("model 'T2V-01'", "Modelverse"), model="T2V-01")(
        lambda env: {"hailuo_conn_id": env.conns["modelverse"]}),
    "modelverse_image_without_prompt": gen("prompt", ("prompt is required by Modelverse",), prompt=None)(
        lambda env: {"hailuo_conn_id": env.conns["modelverse"], "first_frame_image": env.images.good}),
    # -- connections ----------------------------------------------------------------------------
    "unknown_conn_id": gen("hailuo_conn_id", ("connection 'hailuo_missing_conn'", "not defined"), CONF,
                           hailuo_conn_id="hailuo_missing_conn")(),
    "conn_of_type_http": gen("hailuo_conn_id", ("connection 'hailuo_http_conn'", "conn_type 'http'"), CONF,
                             hailuo_conn_id="hailuo_http_conn")(),
    "conn_without_key": gen("hailuo_conn_id", ("connection 'hailuo_no_key'", "no API key", "password"), CONF,
                            hailuo_conn_id="hailuo_no_key")(),
    "conn_plain_http_remote": gen("host", ("connection 'hailuo_plain_remote'", "plain http", "203.0.113.10",
                                           "allow_insecure_http"), CONF, hailuo_conn_id="hailuo_plain_remote")(),
    "conn_unknown_region": gen("region", ("region 'mars'", "'global'"), CONF, hailuo_conn_id="hailuo_bad_region")(),
    "conn_ftp_host": gen("host", ("connection 'hailuo_ftp_host'", "host 'ftp://"), CONF,
                         hailuo_conn_id="hailuo_ftp_host")(),
    "poll_interval_word": gen("poll_interval", ("poll_interval", "'soon'"), poll_interval="soon")(),
    # -- spend (CONTRACT "Spend"): over max_cost, or a limit that cannot be checked ------------------------
    "max_cost_under_the_credits": gen("max_cost", ("estimated cost 1 credits", "max_cost 0.5 credits",
                                                   "nothing was sent"), HailuoBudgetExceededError, max_cost=0.5)(),
    "max_cost_under_h3_cny": gen("max_cost", ("estimated cost 5 CNY", "max_cost 4.99 CNY"), HailuoBudgetExceededError,
                                 model="MiniMax-H3", duration=10, max_cost=4.99)(),
    "max_cost_under_a_resellers_table": gen("max_cost", ("estimated cost 3 CNY", "max_cost 2.5 CNY", "via dmxapi"),
                                            HailuoBudgetExceededError, model="MiniMax-Hailuo-02", duration=10,
                                            max_cost=2.5, hailuo_conn_id="hailuo_dmx_priced")(),
    "max_cost_without_a_price": gen("max_cost", ("max_cost=10", "price", "unknown", "extra prices"),
                                    max_cost=10)(lambda env: {"hailuo_conn_id": env.conns["dmxapi"]}),
    "max_cost_negative": gen("max_cost", ("max_cost", "-1", ">= 0"), max_cost=-1)(),
    "max_cost_word": gen("max_cost", ("max_cost", "'cheap'"), max_cost="cheap")(),
    "max_cost_bool": gen("max_cost", ("max_cost", "True"), max_cost=True)(),
    "reseller_price_not_a_number": gen(BAD_PRICE_KEY, ("connection 'hailuo_dmx_bad_prices'", BAD_PRICE_KEY, "'1,5'",
                                                       "a number >= 0"), CONF, hailuo_conn_id="hailuo_dmx_bad_prices",
                                       model="MiniMax-Hailuo-02")(),
    "timeout_negative": gen("timeout", ("timeout", "-5"), timeout=-5)(),
}


def sensor(parameter: str, mentions: tuple[str, ...], error: type[HailuoError] = CONF, **fixed: Any) -> Case:
    return Case("sensor", lambda env: dict(fixed), parameter, mentions, error)


SENSOR: dict[str, Case] = {
    "sensor_unknown_conn_id": sensor("hailuo_conn_id", ("connection 'hailuo_missing_conn'", "not defined"),
                                     hailuo_conn_id="hailuo_missing_conn"),
    "sensor_conn_of_type_http": sensor("hailuo_conn_id", ("conn_type 'http'",), hailuo_conn_id="hailuo_http_conn"),
    "sensor_conn_without_key": sensor("hailuo_conn_id", ("no API key",), hailuo_conn_id="hailuo_no_key"),
    "sensor_conn_plain_http_remote": sensor("host", ("plain http", "203.0.113.10"),
                                            hailuo_conn_id="hailuo_plain_remote"),
    "sensor_poke_mode_unknown_conn_id": sensor("hailuo_conn_id", ("connection 'hailuo_missing_conn'",),
                                               hailuo_conn_id="hailuo_missing_conn", deferrable=False),
    "sensor_empty_video_task_id": sensor("video_task_id", ("video_task_id", "''"), HailuoInvalidRequestError,
                                         video_task_id=""),
    "sensor_blank_video_task_id_poke_mode": sensor("video_task_id", ("video_task_id", "'  '"),
                                                   HailuoInvalidRequestError, video_task_id="  ", deferrable=False),
}


def transfer(parameter: str, mentions: tuple[str, ...], error: type[HailuoError] = HailuoInvalidRequestError,
             **fixed: Any) -> Case:
    return Case("transfer", lambda env: dict(fixed), parameter, mentions, error)


TRANSFER: dict[str, Case] = {
    "dest_ftp_scheme": transfer("dest", ("dest 'ftp://example.com/clip.mp4'", "scheme 'ftp'", "Allowed"),
                                dest="ftp://example.com/clip.mp4"),
    "dest_https_scheme": transfer("dest", ("dest", "scheme 'https'"), dest="https://example.com/clip.mp4"),
    "dest_empty": transfer("dest", ("dest ''", "empty"), dest=""),
    "dest_blank": transfer("dest", ("dest '   '", "empty"), dest="   "),
    "dest_names_a_directory": transfer("dest", ("dest 's3://media/videos/'", "directory"), dest="s3://media/videos/"),
    "dest_without_bucket": transfer("dest", ("dest 's3:///clip.mp4'", "no bucket"), dest="s3:///clip.mp4"),
    "dest_unrendered_template": transfer("dest", ("dest", "Jinja"), dest="s3://media/{{ ds }}/clip.mp4"),
    "dest_file_uri_with_host": transfer("dest", ("dest", "file URI has no host"), dest="file://server/clip.mp4"),
    "dest_dot_dot": transfer("dest", ("dest", "'..'"), dest="file:///tmp/hailuo/../clip.mp4"),
    "dest_query_string": transfer("dest", ("dest", "query"), dest="s3://media/clip.mp4?versionId=3"),
    "dest_relative_path": transfer("dest", ("dest 'clip.mp4'", "no scheme"), dest="clip.mp4"),
    "dest_not_a_string": transfer("dest", ("dest must be a URI string", "int"), dest=42),
    "video_without_task_id": transfer("video", ("video has no video_task_id", "file_id"),
                                      video={"file_id": "1", "vendor": "minimax"}),
    "video_failed_status": transfer("video", ("video 1", "'failed'", "succeeded"),
                                    video={"video_task_id": "1", "status": "failed"}),
    "video_garbage_string": transfer("video", ("video is a string",), video="not a video result"),
    "video_a_list": transfer("video", ("video must be a video result dict", "list"), video=[1, 2]),
    "video_and_other_task_id": transfer("video_task_id", ("video_task_id='999'", "123456789012345"), video=VIDEO,
                                        video_task_id="999"),
    "neither_video_nor_task_id": transfer("video", ("give video",), video=None),
    "video_task_id_a_list": transfer("video_task_id", ("video_task_id must hold a string id", "list"), video=None,
                                     video_task_id=["1"]),
    "file_id_a_dict": transfer("file_id", ("file_id must hold a string id", "dict"), video=None, video_task_id="1",
                               file_id={"id": 1}),
    "video_of_another_vendor": transfer("hailuo_conn_id", ("generated through 'modelverse'", "'minimax' connection"),
                                        video={**VIDEO, "vendor": "modelverse"}),
    "transfer_unknown_conn_id": transfer("hailuo_conn_id", ("connection 'hailuo_missing_conn'", "not defined"), CONF,
                                         hailuo_conn_id="hailuo_missing_conn"),
    "transfer_conn_of_type_http": transfer("hailuo_conn_id", ("conn_type 'http'",), CONF,
                                           hailuo_conn_id="hailuo_http_conn"),
    "transfer_conn_without_key": transfer("hailuo_conn_id", ("no API key",), CONF, hailuo_conn_id="hailuo_no_key"),
    "transfer_conn_plain_http_remote": transfer("host", ("plain http", "203.0.113.10"), CONF,
                                                hailuo_conn_id="hailuo_plain_remote"),
}

CASES = {**GENERATE, **SENSOR, **TRANSFER}


# -- environment -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("bad-images")
    huge = root / "huge.png"
    with huge.open("wb") as handle:  # sparse: the size check comes before any read
        handle.truncate(21 * 1024 * 1024)
    text = root / "notes.png"
    text.write_text("a shopping list, not a picture")
    return SimpleNamespace(
        good=make_image(root / "good.png", 1280, 720),
        portrait=make_image(root / "portrait.png", 720, 1280),
        tiny=make_image(root / "tiny.png", 300, 300),
        wide=make_image(root / "wide.png", 1600, 500),
        tall=make_image(root / "tall.png", 400, 1200),
        gif=make_image(root / "frame.gif", 1280, 720, "GIF"),
        bmp=make_image(root / "frame.bmp", 1280, 720, "BMP"),
        text=str(text),
        huge=str(huge),
    )


@pytest.fixture(scope="module")
def image_bucket(moto_s3: Any) -> str:
    bucket = moto_s3.new_bucket()
    moto_s3.client().put_object(Bucket=bucket, Key="notes.png", Body=b"a shopping list, not a picture")
    return bucket


@pytest.fixture
def env(emulator: Any, vendor_conns: dict[str, str], images: SimpleNamespace, moto_s3: Any, image_bucket: str,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SimpleNamespace]:
    special = {
        "hailuo_http_conn": ("http", emulator.base_url("minimax"), EMULATOR_API_KEY, None),
        "hailuo_no_key": ("hailuo_minimax", emulator.base_url("minimax"), "", None),
        "hailuo_plain_remote": ("hailuo_minimax", REMOTE_PLAIN_HTTP, EMULATOR_API_KEY, None),
        "hailuo_bad_region": ("hailuo_minimax", "", EMULATOR_API_KEY, {"region": "mars"}),
        "hailuo_ftp_host": ("hailuo_minimax", "ftp://127.0.0.1/minimax", EMULATOR_API_KEY, None),
        "hailuo_dmx_priced": ("hailuo_dmxapi", emulator.base_url("dmxapi"), EMULATOR_API_KEY, PRICED),
        "hailuo_dmx_bad_prices": ("hailuo_dmxapi", emulator.base_url("dmxapi"), EMULATOR_API_KEY, BAD_PRICES),
    }
    for conn_id, (conn_type, host, password, extra) in special.items():
        name, value = conn_env(conn_id, conn_type, host, password=password, extra=extra)
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AIRFLOW_CONN_HAILUO_MISSING_CONN", raising=False)
    yield SimpleNamespace(conns=vendor_conns, images=images, moto=moto_s3.conn_id, bucket=image_bucket,
                          out=tmp_path / "out")


def run_case(case: Case, env: SimpleNamespace) -> Any:
    kwargs = case.kwargs(env)
    if case.target == "generate":
        conn_id = kwargs.pop("hailuo_conn_id", env.conns["minimax"])
        return run_generate(conn_id, **kwargs)
    if case.target == "sensor":
        from airflow_provider_hailuo.sensors.video import HailuoVideoSensor

        params = {"hailuo_conn_id": env.conns["minimax"], "video_task_id": "123456789012345",
                  "poke_interval": 0.05, "timeout": 5, **kwargs}
        return HailuoVideoSensor(task_id="wait", **params).execute({})  # type: ignore[arg-type]
    params = {"hailuo_conn_id": env.conns["minimax"], "dest": f"file://{env.out}/clip.mp4", "video": VIDEO, **kwargs}
    return run_transfer(params.pop("hailuo_conn_id"), params.pop("dest"), params.pop("video"), **params)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_fails_before_any_request(name: str, env: SimpleNamespace, emulator: Any) -> None:
    case = CASES[name]
    with pytest.raises(HailuoError) as caught:
        run_case(case, env)
    error = caught.value
    message = str(error)
    assert type(error) is case.error, f"{type(error).__name__}: {message}"
    assert isinstance(error, HailuoInvalidRequestError)
    assert error.parameter == case.parameter, message
    for mention in case.mentions:
        assert mention in message, f"{mention!r} not in {message!r}"
    assert EMULATOR_API_KEY not in message
    assert emulator.count("submit") == 0
    assert emulator.requests() == [], json.dumps(emulator.requests(), default=str)[:500]
    if env.out.exists():  # a refused transfer leaves nothing behind, not even a staging file
        assert files_under(env.out) == []

