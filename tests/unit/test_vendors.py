"""Vendor dialects, tested with plain values (they do no I/O)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_hailuo.core.models import Mode, TaskState
from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.exceptions import (
    HailuoAuthenticationError,
    HailuoConfigurationError,
    HailuoInsufficientBalanceError,
    HailuoInvalidRequestError,
    HailuoModerationError,
    HailuoProtocolError,
    HailuoRateLimitError,
    HailuoTransientError,
    HailuoVendorError,
    HailuoVendorInvalidRequestError,
)
from airflow_provider_hailuo.vendors.base import STATUS_WORDS, HttpResponse
from airflow_provider_hailuo.vendors.dmxapi import DMXAPIDialect
from airflow_provider_hailuo.vendors.minimax import MiniMaxDialect
from airflow_provider_hailuo.vendors.modelverse import ModelverseDialect

IMG = "https://example.com/frame.jpg"
IMG2 = "https://example.com/last.jpg"

REQUESTS = {
    Mode.TEXT: VideoRequest.build(model="MiniMax-Hailuo-2.3", prompt="A cat [推进]", duration=6,
                                  resolution="1080P", prompt_optimizer=False, aigc_watermark=True),
    Mode.IMAGE: VideoRequest.build(model="MiniMax-Hailuo-2.3", prompt="runs", first_frame_image=IMG,
                                   fast_pretreatment=True),
    Mode.FIRST_LAST_FRAME: VideoRequest.build(model="MiniMax-Hailuo-02", prompt="grows", first_frame_image=IMG,
                                              last_frame_image=IMG2, duration=10),
    Mode.SUBJECT_REFERENCE: VideoRequest.build(model="S2V-01", prompt="smiles", subject_reference=IMG),
}


def answer(body: object, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status, {"Trace-Id": "trace-123", **(headers or {})}, raw)


# --- request building ------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", [MiniMaxDialect(), DMXAPIDialect()], ids=["minimax", "dmxapi"])
def test_flat_dialects_build_all_four_modes(dialect: MiniMaxDialect) -> None:
    text = dialect.build_submit(REQUESTS[Mode.TEXT])
    assert (text.method, text.path, text.idempotent) == ("POST", "/v1/video_generation", False)
    assert text.json == {"model": "MiniMax-Hailuo-2.3", "prompt": "A cat [推进]", "duration": 6,
                         "resolution": "1080P", "prompt_optimizer": False, "aigc_watermark": True}
    image = dialect.build_submit(REQUESTS[Mode.IMAGE]).json
    assert image == {"model": "MiniMax-Hailuo-2.3", "prompt": "runs", "first_frame_image": IMG,
                     "fast_pretreatment": True}
    fl2v = dialect.build_submit(REQUESTS[Mode.FIRST_LAST_FRAME]).json
    assert fl2v == {"model": "MiniMax-Hailuo-02", "prompt": "grows", "duration": 10, "first_frame_image": IMG,
                    "last_frame_image": IMG2}
    s2v = dialect.build_submit(REQUESTS[Mode.SUBJECT_REFERENCE]).json
    assert s2v == {"model": "S2V-01", "prompt": "smiles",
                   "subject_reference": [{"type": "character", "image": [IMG]}]}


def test_modelverse_nests_input_and_parameters() -> None:
    dialect = ModelverseDialect()
    text = dialect.build_submit(REQUESTS[Mode.TEXT])
    assert (text.method, text.path) == ("POST", "/v1/tasks/submit")
    assert text.json == {"model": "MiniMax-Hailuo-2.3", "input": {"prompt": "A cat [推进]"},
                         "parameters": {"duration": 6, "resolution": "1080P", "prompt_optimizer": False,
                                        "aigc_watermark": True}}
    image = dialect.build_submit(REQUESTS[Mode.IMAGE]).json
    assert image == {"model": "MiniMax-Hailuo-2.3", "input": {"prompt": "runs", "first_frame_image": IMG},
                     "parameters": {"fast_pretreatment": True}}
    fl2v = dialect.build_submit(REQUESTS[Mode.FIRST_LAST_FRAME]).json
    assert fl2v == {"model": "MiniMax-Hailuo-02",
                    "input": {"prompt": "grows", "first_frame_image": IMG, "last_frame_image": IMG2},
                    "parameters": {"duration": 10}}


def test_modelverse_refuses_subject_reference_before_sending() -> None:
    with pytest.raises(HailuoInvalidRequestError, match="subject-reference"):
        ModelverseDialect().build_submit(REQUESTS[Mode.SUBJECT_REFERENCE])


def test_modelverse_requires_prompt_and_hailuo_models() -> None:
    image_only = VideoRequest.build(model="MiniMax-Hailuo-02", first_frame_image=IMG)
    with pytest.raises(HailuoInvalidRequestError) as info:
        ModelverseDialect().build_submit(image_only)
    assert info.value.parameter == "prompt"
    MiniMaxDialect().build_submit(image_only)  # MiniMax takes an image without a prompt
    with pytest.raises(HailuoInvalidRequestError) as info:
        ModelverseDialect().build_submit(VideoRequest.build(model="T2V-01", prompt="x"))
    assert info.value.parameter == "model"


def test_status_and_file_requests() -> None:
    assert MiniMaxDialect().build_status("42").params == {"task_id": "42"}
    assert MiniMaxDialect().build_status("42").path == "/v1/query/video_generation"
    assert MiniMaxDialect().build_file_lookup("42", "99").params == {"file_id": "99"}
    assert DMXAPIDialect().build_file_lookup("42", "99").params == {"file_id": "99", "task_id": "42"}
    assert ModelverseDialect().build_file_lookup("42", None).path == "/v1/tasks/status"
    content = MiniMaxDialect().content_location("42", "99")
    assert content is not None and content.content_path == "/v1/files/retrieve_content"
    assert DMXAPIDialect().content_location("42", "99") is None
    with pytest.raises(HailuoConfigurationError, match="file_id"):
        MiniMaxDialect().build_file_lookup("42", None)


def test_auth_headers_and_base_urls() -> None:
    assert MiniMaxDialect().auth_headers("k", {}) == {"Authorization": "Bearer k"}
    assert DMXAPIDialect().auth_headers("k", {}) == {"Authorization": "k"}
    assert DMXAPIDialect().auth_headers("k", {"auth_scheme": "Bearer"}) == {"Authorization": "Bearer k"}
    assert ModelverseDialect().auth_headers("k", {}) == {"Authorization": "k"}
    assert MiniMaxDialect().base_url({}) == "https://api.minimaxi.com"
    assert MiniMaxDialect().base_url({"region": "global"}) == "https://api.minimax.io"
    assert DMXAPIDialect().base_url({}) == "https://www.dmxapi.cn"
    assert ModelverseDialect().base_url({}) == "https://api.modelverse.cn"
    with pytest.raises(HailuoConfigurationError, match="auth_scheme"):
        DMXAPIDialect().auth_headers("k", {"auth_scheme": "basic"})
    with pytest.raises(HailuoConfigurationError, match="region"):
        MiniMaxDialect().base_url({"region": "mars"})


# --- submit and status parsing -----------------------------------------------------------------------

def test_parse_submit_task_ids_are_strings() -> None:
    ok = {"task_id": 335492703728059, "base_resp": {"status_code": 0, "status_msg": "success"}}
    assert MiniMaxDialect().parse_submit(answer(ok)) == "335492703728059"
    assert ModelverseDialect().parse_submit(answer({"output": {"task_id": "1069"}, "request_id": "r"})) == "1069"


@pytest.mark.parametrize("word", sorted(STATUS_WORDS))
@pytest.mark.parametrize("casing", [str.lower, str.upper, str.title])
def test_every_status_spelling_maps_case_insensitively(word: str, casing: object) -> None:
    spelled = casing(word)  # type: ignore[operator]
    expected = STATUS_WORDS[word]
    body = {"task_id": "7", "status": spelled, "base_resp": {"status_code": 0, "status_msg": "success"}}
    if expected is TaskState.SUCCEEDED:
        body.update(file_id="88", video_width=1366, video_height=768)
    assert MiniMaxDialect().parse_status(answer(body), "7").state is expected
    mv = {"output": {"task_id": "7", "task_status": spelled, "urls": ["https://cdn.example/v.mp4"]},
          "usage": {"duration": 6}}
    assert ModelverseDialect().parse_status(answer(mv), "7").state is expected


@pytest.mark.parametrize(
    ("word", "state"),
    [("Preparing", TaskState.QUEUED), ("Queueing", TaskState.QUEUED), ("Pending", TaskState.QUEUED),
     ("Processing", TaskState.RUNNING), ("Running", TaskState.RUNNING), ("Success", TaskState.SUCCEEDED),
     ("Fail", TaskState.FAILED), ("Failed", TaskState.FAILED), ("Failure", TaskState.FAILED)],
)
def test_documented_status_words(word: str, state: TaskState) -> None:
    assert STATUS_WORDS[word.lower()] is state


def test_minimax_success_answer_gives_string_file_id_and_size() -> None:
    body = {"task_id": "176843862716480", "status": "Success", "file_id": 176844028768320, "video_width": 1920,
            "video_height": 1080, "base_resp": {"status_code": 0, "status_msg": "success"}}
    status = DMXAPIDialect().parse_status(answer(body), "176843862716480")
    assert status.file_id == "176844028768320"
    assert (status.video_width, status.video_height) == (1920, 1080)
    assert status.trace_id == "trace-123"
    assert status.vendor == "dmxapi"


def test_failed_task_carries_the_reason() -> None:
    body = {"task_id": "7", "status": "Fail", "error_message": "prompt too vague",
            "base_resp": {"status_code": 0, "status_msg": "success"}}
    status = MiniMaxDialect().parse_status(answer(body), "7")
    assert status.state is TaskState.FAILED and status.error_message == "prompt too vague"
    mv = {"output": {"task_id": "7", "task_status": "Failure", "error_message": "bad input"}}
    assert ModelverseDialect().parse_status(answer(mv), "7").error_message == "bad input"


def test_modelverse_success_gives_url_and_duration() -> None:
    body = {"output": {"task_id": "9", "task_status": "Success", "urls": ["https://cdn.example/v.mp4"],
                       "submit_time": 1, "finish_time": 2}, "usage": {"duration": 6}, "request_id": "req-1"}
    status = ModelverseDialect().parse_status(answer(body, headers={"Trace-Id": ""}), "9")
    assert status.video_url == "https://cdn.example/v.mp4" and status.duration == 6 and status.file_id is None
    assert status.trace_id == "req-1"


def test_unknown_status_word_is_a_protocol_error_not_an_endless_poll() -> None:
    body = {"task_id": "7", "status": "Teleporting", "base_resp": {"status_code": 0}}
    with pytest.raises(HailuoProtocolError, match="Teleporting"):
        MiniMaxDialect().parse_status(answer(body), "7")


def test_success_without_file_id_is_retryable_protocol_error() -> None:
    body = {"task_id": "7", "status": "Success", "base_resp": {"status_code": 0}}
    with pytest.raises(HailuoProtocolError) as info:
        MiniMaxDialect().parse_status(answer(body), "7")
    assert info.value.retryable


# --- base_resp codes on every call --------------------------------------------------------------------

CODES = [
    (1000, HailuoTransientError, True), (1001, HailuoTransientError, True), (1002, HailuoRateLimitError, True),
    (1004, HailuoAuthenticationError, False), (1008, HailuoInsufficientBalanceError, False),
    (1024, HailuoTransientError, True), (1026, HailuoModerationError, False), (1027, HailuoModerationError, False),
    (1033, HailuoTransientError, True), (1039, HailuoRateLimitError, True), (1041, HailuoRateLimitError, True),
    (1042, HailuoVendorInvalidRequestError, False), (2013, HailuoVendorInvalidRequestError, False),
    (2045, HailuoRateLimitError, True), (2049, HailuoAuthenticationError, False),
    (2056, HailuoInsufficientBalanceError, False),
]


@pytest.mark.parametrize(("code", "cls", "retryable"), CODES)
@pytest.mark.parametrize("call", ["submit", "status", "retrieve"])
def test_every_base_resp_code_maps_on_every_call(code: int, cls: type, retryable: bool, call: str) -> None:
    body = {"base_resp": {"status_code": code, "status_msg": "vendor says no"}}
    dialect = MiniMaxDialect()
    with pytest.raises(cls) as info:
        if call == "submit":
            dialect.parse_submit(answer(body))
        elif call == "status":
            dialect.parse_status(answer(body), "77")
        else:
            dialect.parse_file_lookup(answer(body), "77", "88")
    error = info.value
    assert error.retryable is retryable
    assert (error.vendor, error.code, error.trace_id) == ("minimax", code, "trace-123")
    text = str(error)
    assert "minimax" in text and str(code) in text and "trace-123" in text and "vendor says no" in text
    if call != "submit":
        assert "77" in text


def test_unknown_code_is_a_vendor_error_not_retried() -> None:
    with pytest.raises(HailuoVendorError) as info:
        DMXAPIDialect().parse_submit(answer({"base_resp": {"status_code": 9999, "status_msg": "odd"}}))
    assert not info.value.retryable and info.value.code == 9999


@pytest.mark.parametrize(
    ("status", "cls"),
    [(401, HailuoAuthenticationError), (403, HailuoAuthenticationError), (402, HailuoInsufficientBalanceError),
     (429, HailuoRateLimitError), (400, HailuoVendorInvalidRequestError), (404, HailuoVendorInvalidRequestError),
     (500, HailuoTransientError), (502, HailuoTransientError), (503, HailuoTransientError)],
)
def test_http_errors_map(status: int, cls: type) -> None:
    body = {"error": {"code": "E1", "message": "nope"}, "request_id": "rq"}
    with pytest.raises(cls) as info:
        ModelverseDialect().parse_status(answer(body, status), "5")
    assert info.value.http_status == status and "nope" in str(info.value)


def test_malformed_json_is_a_retryable_protocol_error() -> None:
    with pytest.raises(HailuoProtocolError) as info:
        MiniMaxDialect().parse_status(answer(b'{"status": "Succ'), "5")
    assert info.value.retryable


def test_oversized_json_is_refused() -> None:
    with pytest.raises(HailuoProtocolError, match="more than a JSON answer"):
        MiniMaxDialect().parse_status(answer(b"{" + b" " * (2 * 1024 * 1024) + b"}"), "5")


# --- file lookup ---------------------------------------------------------------------------------------

def test_file_lookup_parses_urls_and_ignores_zero_bytes() -> None:
    body = {"file": {"file_id": 335560631603474, "bytes": 0, "created_at": 1763477381, "filename": "output_aigc.mp4",
                     "purpose": "video_generation",
                     "download_url": "https://oss.example/v.mp4?Expires=1&OSSAccessKeyId=A&Signature=S",
                     "backup_download_url": "https://backup.example/v.mp4?Signature=T"},
            "base_resp": {"status_code": 0, "status_msg": "success"}}
    location = MiniMaxDialect().parse_file_lookup(answer(body), "1", "335560631603474")
    assert location.url is not None and location.url.startswith("https://oss.example/")
    assert location.backup_url == "https://backup.example/v.mp4?Signature=T"
    assert location.expected_bytes is None and location.filename == "output_aigc.mp4"
    body["file"]["bytes"] = 1234  # type: ignore[index]
    assert MiniMaxDialect().parse_file_lookup(answer(body), "1", "3").expected_bytes == 1234


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://host/v.mp4", "javascript:alert(1)", "", None])
def test_hostile_download_urls_are_refused(url: object) -> None:
    body = {"file": {"file_id": 1, "bytes": 0, "download_url": url}, "base_resp": {"status_code": 0}}
    with pytest.raises(HailuoProtocolError):
        MiniMaxDialect().parse_file_lookup(answer(body), "1", "1")
    mv = {"output": {"task_id": "9", "task_status": "Success", "urls": [url]}}
    with pytest.raises(HailuoProtocolError):
        ModelverseDialect().parse_status(answer(mv), "9")


def test_modelverse_file_lookup_uses_status_urls() -> None:
    body = {"output": {"task_id": "9", "task_status": "Success",
                       "urls": ["https://cdn.example/a.mp4", "https://cdn2.example/a.mp4"]}}
    location = ModelverseDialect().parse_file_lookup(answer(body), "9", None)
    assert location.url == "https://cdn.example/a.mp4" and location.backup_url == "https://cdn2.example/a.mp4"
    running = {"output": {"task_id": "9", "task_status": "Running"}}
    with pytest.raises(HailuoProtocolError, match="not Success"):
        ModelverseDialect().parse_file_lookup(answer(running), "9", None)
