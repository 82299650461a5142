"""The MiniMax v2 dialect with plain values: every endpoint built, every status, error shape and code."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_hailuo.core.h3 import H3Request
from airflow_provider_hailuo.core.h3_results import enhanced_prompt_result, v2_video_result
from airflow_provider_hailuo.core.media import MediaItem, MediaUpload
from airflow_provider_hailuo.core.models import TaskState, TaskStatus, VideoResult
from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.exceptions import (
    HailuoAuthenticationError,
    HailuoInsufficientBalanceError,
    HailuoInvalidRequestError,
    HailuoModerationError,
    HailuoProtocolError,
    HailuoRateLimitError,
    HailuoTransientError,
    HailuoVendorError,
    HailuoVendorInvalidRequestError,
)
from airflow_provider_hailuo.vendors.base import HttpResponse
from airflow_provider_hailuo.vendors.minimax_v2 import (
    MiniMaxV2Dialect,
    build_context_ir,
    build_create,
    build_delete,
    build_list,
    build_query,
    build_regeneration_from_task,
    build_regeneration_from_video,
    build_upload,
    parse_create,
    parse_delete,
    parse_list,
    parse_query,
    parse_upload,
)
from airflow_provider_hailuo.vendors.minimax_v2_errors import code_from_message

URL = "https://cdn.example.com/ref.png"
VIDEO = "https://video-product.cdn.minimax.io/inference_output/x/output.mp4"


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status, headers or {"Content-Type": "application/json"}, raw)


def task(status: Any = "succeeded", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "424010985738629", "model": "MiniMax-H3", "status": status,
                            "created_at": 1785125529, "updated_at": 1785125946, "resolution": "2K",
                            "duration": 5, "ratio": "16:9", "task_type": "generation", "modality": "video"}
    if str(status).lower() == "succeeded":
        base["content"] = {"url": VIDEO}
        base["usage"] = {"total_seconds": 5, "input_seconds": 0, "output_seconds": 5, "input_image_count": 0}
    base.update(fields)
    return base


def v2_error_body(kind: str, message: str, http_code: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message, "http_code": http_code},
            "request_id": "021785229015510a2c883cf675b9804d"}


# --- building -----------------------------------------------------------------------------------

def test_create_body_for_references() -> None:
    request = H3Request.build(model="MiniMax-H3-Max", prompt="A dancer", duration=10, ratio="9:16",
                              reference_images=[URL], reference_videos=["mm_file://77"],
                              reference_audios=["https://cdn.example.com/a.mp3"], prompt_expansion_mode="quality",
                              aigc_watermark=True)
    http = build_create(request, callback_url="https://hooks.example.com/h3")
    assert (http.method, http.path, http.endpoint, http.idempotent) == ("POST", "/v2/video_generation", "submit", False)
    assert http.json == {
        "model": "MiniMax-H3-Max",
        "content": [
            {"type": "text", "text": "A dancer"},
            {"type": "image_url", "image_url": {"url": URL}, "role": "reference_image"},
            {"type": "video_url", "video_url": {"url": "mm_file://77"}, "role": "reference_video"},
            {"type": "audio_url", "audio_url": {"url": "https://cdn.example.com/a.mp3"}, "role": "reference_audio"},
        ],
        "resolution": "768P", "duration": 10, "ratio": "9:16", "aigc_watermark": True,
        "extra": {"prompt_expansion_mode": "quality"}, "callback_url": "https://hooks.example.com/h3",
    }


def test_create_body_for_text_leaves_unset_options_out() -> None:
    http = build_create(H3Request.build(model="MiniMax-H3", prompt="A fox", resolution="2K"))
    assert http.json == {"model": "MiniMax-H3", "content": [{"type": "text", "text": "A fox"}],
                         "resolution": "2K", "duration": 5, "ratio": "16:9"}
    with pytest.raises(HailuoInvalidRequestError) as caught:
        build_create(H3Request.build(model="MiniMax-H3", prompt="A fox"), callback_url="ftp://x")
    assert caught.value.parameter == "callback_url"


def test_create_refuses_media_not_yet_uploaded() -> None:
    pending = MediaItem("video", "reference_video", "reference_videos", "'big.mp4'",
                        upload=MediaUpload("big.mp4", "video/mp4", b"\0" * 10))
    request = H3Request("MiniMax-H3", H3Request.build(model="MiniMax-H3", prompt="x", reference_images=[URL]).mode,
                        "x", 5, "768P", "adaptive", (pending,))
    with pytest.raises(HailuoInvalidRequestError, match="files/upload") as caught:
        build_create(request)
    assert caught.value.parameter == "reference_videos"
    assert build_create(request.with_uploaded(0, "9")).json["content"][1]["video_url"] == {"url": "mm_file://9"}


def test_create_refuses_a_body_over_64_mb() -> None:
    huge = MediaItem("image", "reference_image", "reference_images", "'data:...'",
                     url="data:image/png;base64," + "A" * (64 * 1024 * 1024))
    request = H3Request("MiniMax-H3", H3Request.build(model="MiniMax-H3", prompt="x", reference_images=[URL]).mode,
                        "x", 5, "768P", "adaptive", (huge,))
    with pytest.raises(HailuoInvalidRequestError, match="64 MB") as caught:
        build_create(request)
    assert caught.value.parameter == "reference_images"


def test_query_delete_and_list_requests() -> None:
    query = build_query("424010985738629")
    assert (query.method, query.path, query.idempotent) == ("GET", "/v2/query/video_generation/424010985738629", True)
    assert build_query("../v1/x").path == "/v2/query/video_generation/..%2Fv1%2Fx"  # no path escape
    delete = build_delete(424010985738629)
    assert (delete.method, delete.path) == ("DELETE", "/v2/video_generation/424010985738629")
    listing = build_list(2, 50, status="QUEUED", task_ids=["1", "2"], model="MiniMax-H3", task_type="generation")
    assert (listing.method, listing.path) == ("GET", "/v2/query/video_generation")
    assert listing.params == {"page_num": "2", "page_size": "50", "filter.status": "queued",
                              "filter.task_ids": "1,2", "filter.model": "MiniMax-H3", "filter.task_type": "generation"}
    assert build_list().params == {"page_num": "1", "page_size": "20"}


@pytest.mark.parametrize(("call", "parameter"), [
    (lambda: build_query(""), "video_task_id"),
    (lambda: build_delete(None), "video_task_id"),
    (lambda: build_list(0), "page_num"),
    (lambda: build_list(1, -5), "page_size"),
    (lambda: build_list(status="done"), "status"),
    (lambda: build_regeneration_from_task("MiniMax-H3-Max", "1"), "model"),
    (lambda: build_regeneration_from_task("MiniMax-H3", " "), "source_task_id"),
])
def test_bad_builder_arguments(call: Any, parameter: str) -> None:
    with pytest.raises(HailuoInvalidRequestError) as caught:
        call()
    assert caught.value.parameter == parameter


def test_context_ir_and_regeneration_requests() -> None:
    request = H3Request.build(model="MiniMax-H3", prompt="A short story", duration=8, ratio="21:9")
    ir = build_context_ir(request)
    assert (ir.method, ir.path, ir.idempotent) == ("POST", "/v2/h3_context_ir", False)
    assert ir.json == {"model": "MiniMax-H3", "content": [{"type": "text", "text": "A short story"}],
                       "duration": 8, "ratio": "21:9"}
    by_task = build_regeneration_from_task("MiniMax-H3", "424010985738629")
    assert (by_task.path, by_task.json) == ("/v2/video_regeneration", {
        "model": "MiniMax-H3", "source_task_id": "424010985738629", "resolution": "2K"})
    by_video = build_regeneration_from_video(request, "mm_file://55")
    assert by_video.json == {"model": "MiniMax-H3", "resolution": "2K", "content": [
        {"type": "text", "text": "A short story"},
        {"type": "video_url", "video_url": {"url": "mm_file://55"}, "role": "base_video"}]}
    with pytest.raises(HailuoInvalidRequestError) as caught:
        build_regeneration_from_video(request, "/tmp/local.mp4")
    assert caught.value.parameter == "base_video"


def test_upload_description_and_answer() -> None:
    upload = build_upload(MediaUpload("ref.mp4", "video/mp4", b"\x00\x01"))
    assert (upload.method, upload.path, upload.fields, upload.file_field) == (
        "POST", "/v1/files/upload", {"purpose": "video_generation_input"}, "file")
    assert upload.file.data == b"\x00\x01" and "\\x00" not in repr(upload)  # bytes stay out of logs
    ok = {"file": {"file_id": 358920, "bytes": 2, "created_at": 1, "filename": "ref.mp4",
                   "purpose": "video_generation_input"}, "base_resp": {"status_code": 0, "status_msg": "success"}}
    assert parse_upload(answer(ok)) == "358920"
    with pytest.raises(HailuoAuthenticationError):
        parse_upload(answer({"base_resp": {"status_code": 1004, "status_msg": "login fail"}}))
    with pytest.raises(HailuoProtocolError):
        parse_upload(answer({"file": "358920"}))


# --- answers ------------------------------------------------------------------------------------

def test_create_answer() -> None:
    assert parse_create(answer({"task_id": "424010985738629"})) == "424010985738629"
    assert parse_create(answer({"task_id": 424010985738629})) == "424010985738629"
    with pytest.raises(HailuoProtocolError):
        parse_create(answer({"id": "1"}))


STATUS_CASES = [
    ("queued", TaskState.QUEUED), ("running", TaskState.RUNNING), ("succeeded", TaskState.SUCCEEDED),
    ("failed", TaskState.FAILED), ("cancelled", TaskState.FAILED), ("expired", TaskState.FAILED),
]


@pytest.mark.parametrize("casing", [str.lower, str.upper, str.title], ids=["lower", "upper", "title"])
@pytest.mark.parametrize(("word", "state"), STATUS_CASES, ids=[w for w, _ in STATUS_CASES])
def test_every_status_in_three_casings(word: str, state: TaskState, casing: Any) -> None:
    parsed = parse_query(answer({"task": task(casing(word))}), "424010985738629")
    assert parsed.state is state and parsed.raw_status == word
    assert parsed.state.is_terminal is (word not in ("queued", "running"))
    assert parsed.is_queued is (word == "queued")
    status = parsed.to_task_status()
    assert (status.api, status.state, status.raw_status) == ("v2", state, word)
    if word == "succeeded":
        assert parsed.video_url == VIDEO and status.video_url == VIDEO
        assert status.usage == {"total_seconds": 5, "input_seconds": 0, "output_seconds": 5, "input_image_count": 0}
        assert (status.resolution, status.ratio, status.duration, status.task_type) == ("2K", "16:9", 5, "generation")
    elif state is TaskState.FAILED:
        assert parsed.error_message  # cancelled and expired say why, so the log is never blank


def test_cancelled_says_it_was_not_charged_and_expired_says_it_expired() -> None:
    assert "not charged" in (parse_query(answer({"task": task("Cancelled")}), "1").error_message or "")
    # nothing published says whether an expired task is charged, so its reason makes no claim
    assert parse_query(answer({"task": task("EXPIRED")}), "1").error_message == \
        "the task expired at the vendor before it finished"


@pytest.mark.parametrize("code", ["1026", 1026])
def test_failed_task_error_code_string_or_number(code: Any) -> None:
    parsed = parse_query(answer({"task": task("failed", error={
        "code": code, "message": "video description contains sensitive content"})}), "1")
    assert (parsed.error_code, parsed.error_message) == ("1026", "video description contains sensitive content")


def test_context_ir_result() -> None:
    ir = task("succeeded", task_type="h3_context_ir", modality="text", content={"prompt": "Shot 1: ..."},
              usage={"input_tokens": 1200, "output_tokens": 800})
    status = parse_query(answer({"task": ir}), "1").to_task_status()
    assert status.video_url is None and status.expanded_prompt == "Shot 1: ..."
    assert enhanced_prompt_result(status) == {"prompt": "Shot 1: ...", "video_task_id": "424010985738629",
                                              "usage": {"input_tokens": 1200, "output_tokens": 800}}


def test_list_answer() -> None:
    page = parse_list(answer({"items": [task("queued"), task("succeeded", id="2")], "total": 476}))
    assert page.total == 476 and [t.task_id for t in page.items] == ["424010985738629", "2"]
    assert parse_list(answer({"items": []})).total == 0
    with pytest.raises(HailuoProtocolError):
        parse_list(answer({"items": {"a": 1}}))
    with pytest.raises(HailuoProtocolError):
        parse_list(answer({"items": ["not a task"], "total": 1}))


@pytest.mark.parametrize(("action", "charged"), [("cancelled", False), ("deleted", True)])
def test_delete_answer(action: str, charged: bool) -> None:
    outcome = parse_delete(answer({"task_id": "1", "action": action, "status": action}), "1")
    assert (outcome.action, outcome.charged) == (action, charged)


def test_delete_of_a_running_task_is_an_error() -> None:
    body = v2_error_body("bad_request_error", "invalid params, task is running and cannot be cancelled (2013)", "400")
    with pytest.raises(HailuoVendorInvalidRequestError, match="running"):
        parse_delete(answer(body, 400), "1")
    with pytest.raises(HailuoProtocolError):
        parse_delete(answer({"task_id": "1", "action": "paused"}), "1")


# --- errors -------------------------------------------------------------------------------------

ERROR_TABLE = [
    (400, "bad_request_error", "invalid params, content must include a non-empty text item (2013)", 2013,
     HailuoVendorInvalidRequestError),
    (401, "authorized_error", "login fail: Please carry the API secret key (1004)", 1004, HailuoAuthenticationError),
    (402, "insufficient_balance_error", "insufficient balance (1008)", 1008, HailuoInsufficientBalanceError),
    (422, "unprocessable_entity_error", "input new_sensitive (1026)", 1026, HailuoModerationError),
    (429, "rate_limit_error", "rate limit exceeded(RPM) (1002)", 1002, HailuoRateLimitError),
    (500, "server_error", "unknown error (1000)", 1000, HailuoTransientError),
    (529, "overloaded_error", "the server is overloaded", None, HailuoTransientError),
]


@pytest.mark.parametrize(("http", "kind", "message", "code", "cls"), ERROR_TABLE,
                         ids=[str(row[0]) for row in ERROR_TABLE])
def test_error_table(http: int, kind: str, message: str, code: int | None, cls: type[HailuoVendorError]) -> None:
    with pytest.raises(cls) as caught:
        parse_query(answer(v2_error_body(kind, message, str(http)), http), "42")
    error = caught.value
    assert type(error) is cls
    assert (error.code, error.http_status, error.vendor, error.task_id) == (code, http, "minimax", "42")
    assert error.trace_id == "021785229015510a2c883cf675b9804d"
    assert error.meaning and error.meaning in str(error) and "Trace-Id 0217" in str(error)
    assert error.retryable is (cls in (HailuoRateLimitError, HailuoTransientError))


def test_status_decides_when_the_body_has_no_code_or_type() -> None:
    cases = [(400, HailuoVendorInvalidRequestError), (401, HailuoAuthenticationError), (403, HailuoAuthenticationError),
             (402, HailuoInsufficientBalanceError), (404, HailuoVendorInvalidRequestError),
             (422, HailuoModerationError), (429, HailuoRateLimitError), (503, HailuoTransientError),
             (529, HailuoTransientError), (418, HailuoVendorError)]
    for http, cls in cases:
        with pytest.raises(cls) as caught:
            parse_create(answer({"error": {"message": "nope"}}, http))
        assert type(caught.value) is cls and caught.value.http_status == http


@pytest.mark.parametrize("message", [
    "invalid params, token plan does not support model MiniMax-H3 (2013)",
    "invalid params, your Video Package key cannot use MiniMax-H3 (video API v2); MiniMax-H3 needs a "
    "pay-as-you-go API key (2013)",
])
def test_key_type_that_cannot_use_h3_says_which_key_is_needed(message: str) -> None:
    body = v2_error_body("bad_request_error", message, "400")
    with pytest.raises(HailuoAuthenticationError, match=r"pay-as-you-go key \(sk-api-\.\.\.\)") as caught:
        parse_create(answer(body, 400))
    assert caught.value.code == 2013 and not caught.value.retryable


@pytest.mark.parametrize(("message", "code"), [
    ("invalid params (2013)", 2013), ("invalid params (2013) ", 2013), ("invalid params (2013).", 2013),
    ("rate limit exceeded(RPM) (1002)", 1002), ("prompt (with parentheses) is bad (2013)", 2013),
    ("(2013) at the start only", None), ("no code here", None), ("code (abc)", None), (None, None),
])
def test_code_is_read_from_the_end_of_the_message(message: str | None, code: int | None) -> None:
    assert code_from_message(message) == code


def test_code_field_is_a_fallback() -> None:
    with pytest.raises(HailuoModerationError) as caught:
        parse_create(answer({"error": {"type": "x", "message": "flagged", "code": "1026"}}, 400))
    assert caught.value.code == 1026


def test_error_body_on_http_200_is_still_an_error() -> None:
    with pytest.raises(HailuoRateLimitError):
        parse_create(answer(v2_error_body("rate_limit_error", "rate limit (1002)", "429"), 200))


@pytest.mark.parametrize(("status", "body", "cls"), [
    (200, b"<html>proxy</html>", HailuoProtocolError),
    (200, b"", HailuoProtocolError),
    (200, b"[1, 2]", HailuoProtocolError),
    (200, b"[" * 100_000, HailuoProtocolError),
    (200, b"{" + b" " * (1024 * 1024 + 1) + b"}", HailuoProtocolError),
    (502, b"<html>Bad Gateway</html>", HailuoTransientError),
    (500, b"\xff\xfe not utf-8", HailuoTransientError),
    (401, b"Unauthorized", HailuoAuthenticationError),
])
def test_hostile_or_broken_bodies(status: int, body: bytes, cls: type[Exception]) -> None:
    with pytest.raises(cls):
        parse_query(answer(body, status), "1")


@pytest.mark.parametrize("body", [
    {"task": None}, {"task": []}, {"task": "succeeded"}, {},
    {"task": task(status=5)}, {"task": task(status="done")}, {"task": task(status=None)},
    {"task": task(content=["x"])}, {"task": task(content={"url": 12})},
    {"task": task(content={"url": "file:///etc/passwd"})}, {"task": task(content={})},
    {"task": task(id=["1"])}, {"task": task(id=True)},
    {"task": task(task_type="h3_context_ir", modality="text", content={"prompt": ""})},
])
def test_wrong_types_in_the_task_are_protocol_errors(body: dict[str, Any]) -> None:
    with pytest.raises(HailuoProtocolError):
        parse_query(answer(body), "424010985738629")


def test_odd_optional_fields_are_dropped_not_trusted() -> None:
    parsed = parse_query(answer({"task": task(duration="five", ratio=16, resolution=None,
                                              usage={"output_seconds": 5, "nested": {"a": 1}, "flag": True},
                                              error="not an object")}), "1")
    assert (parsed.duration, parsed.ratio, parsed.resolution) == (None, None, None)
    assert parsed.usage == {"output_seconds": 5}
    missing_id = dict(task())
    del missing_id["id"]
    assert parse_query(answer({"task": missing_id}), "777").task_id == "777"


# --- the dialect class and the result fields ----------------------------------------------------

def test_dialect_speaks_the_poller_interface() -> None:
    dialect = MiniMaxV2Dialect()
    request = H3Request.build(model="MiniMax-H3", prompt="A fox")
    assert dialect.build_submit(request).path == "/v2/video_generation"
    assert dialect.parse_submit(answer({"task_id": "9"})) == "9"
    assert dialect.build_status("9").path == "/v2/query/video_generation/9"
    assert dialect.parse_status(answer({"task": task()}), "9").api == "v2"
    assert dialect.base_url({"region": "global"}) == "https://api.minimax.io"
    lookup = dialect.build_file_lookup("9", None)
    assert lookup.path == "/v2/query/video_generation/9"  # a fresh query, so a fresh URL
    location = dialect.parse_file_lookup(answer({"task": task()}), "9", None)
    assert location.url == VIDEO
    with pytest.raises(HailuoProtocolError):
        dialect.parse_file_lookup(answer({"task": task("running")}), "9", None)
    with pytest.raises(HailuoInvalidRequestError) as caught:
        dialect.build_submit(VideoRequest.build(model="MiniMax-Hailuo-2.3", prompt="A fox"))
    assert caught.value.parameter == "model"


def test_v2_video_result_dict() -> None:
    request = H3Request.build(model="MiniMax-H3", prompt="A fox", resolution="2K", ratio="9:16")
    status = parse_query(answer({"task": task()}), "1").to_task_status()
    result = v2_video_result(status, request, "global").to_dict()
    assert result == {
        "vendor": "minimax", "model": "MiniMax-H3", "video_task_id": "424010985738629", "status": "succeeded",
        "file_id": None, "video_url": VIDEO, "video_width": None, "video_height": None, "duration": 5,
        "resolution": "2K", "prompt": "A fox", "api": "v2", "mode": "text", "ratio": "16:9",
        "usage": {"total_seconds": 5, "input_seconds": 0, "output_seconds": 5, "input_image_count": 0},
        "estimated_cost": {"amount": 0.65, "unit": "USD"},  # 5 billed seconds at 2K
    }
    bare = parse_query(answer({"task": task(usage=None, ratio=None)}), "1").to_task_status()
    from_request = v2_video_result(bare, request, "china").to_dict()
    assert (from_request["ratio"], from_request["usage"]) == ("9:16", None)
    assert from_request["estimated_cost"] == {"amount": 4.0, "unit": "CNY"}  # the request's 5 s at 2K
    sensor = v2_video_result(status).to_dict()  # a sensor knows only the task id
    assert (sensor["mode"], sensor["prompt"], sensor["api"]) == (None, None, "v2")
    assert sensor["estimated_cost"] == {"amount": 4.0, "unit": "CNY"}


def test_v1_results_are_unchanged_by_the_v2_status_fields() -> None:
    status = TaskStatus(vendor="minimax", task_id="1", state=TaskState.SUCCEEDED, raw_status="Success",
                        file_id="f")
    result = VideoResult.from_status(status, model="MiniMax-Hailuo-2.3", ratio=None).to_dict()
    assert (result["api"], result["ratio"], result["usage"]) == ("v1", None, None)
    assert TaskStatus.from_dict({k: v for k, v in status.to_dict().items()
                                 if k not in ("api", "ratio", "usage", "model")}) == status  # old events inflate


def test_dialect_estimate_by_region() -> None:
    assert MiniMaxV2Dialect().estimated_cost("MiniMax-H3", "768P", 10) == {"amount": 5.0, "unit": "CNY"}
    assert MiniMaxV2Dialect("global").estimated_cost("MiniMax-H3", "2K", 10) == {"amount": 1.3, "unit": "USD"}
    assert MiniMaxV2Dialect("global").estimated_cost("MiniMax-H3", None, 10) is None
