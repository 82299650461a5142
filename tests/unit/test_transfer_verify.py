"""Verification (sizes, MP4 signature, sha256) and the sidecar, with plain values."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import pytest

from airflow_provider_hailuo.exceptions import HailuoDownloadError
from airflow_provider_hailuo.transfers.sidecar import SIDECAR_FIELDS, build_sidecar, resolution_of, sidecar_bytes
from airflow_provider_hailuo.transfers.verify import (
    ContentRange,
    StreamDigest,
    check_complete,
    check_signature,
    looks_like_mp4,
    parse_content_length,
    parse_content_range,
)

MP4_HEAD = (32).to_bytes(4, "big") + b"ftypisom" + b"\x00\x00\x02\x00"


def test_looks_like_mp4() -> None:
    assert looks_like_mp4(MP4_HEAD)
    assert looks_like_mp4(b"\x00\x00\x00\x18ftyp")
    assert not looks_like_mp4(b"<?xml version")
    assert not looks_like_mp4(b'{"base_resp"')
    assert not looks_like_mp4(b"\x00\x00\x00\x18moov")
    assert not looks_like_mp4(b"\x00\x00")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes 100-199/1000", ContentRange(100, 199, 1000)),
        ("bytes 0-0/1", ContentRange(0, 0, 1)),
        ("BYTES 5-9/*", ContentRange(5, 9, None)),
        (" bytes 5-9/10 ", ContentRange(5, 9, 10)),
        ("bytes */1000", None),
        ("bytes 9-5/10", None),
        ("bytes 5-10/10", None),
        ("items 0-1/2", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_content_range(header: str | None, expected: ContentRange | None) -> None:
    assert parse_content_range(header) == expected


@pytest.mark.parametrize(("header", "expected"), [("10", 10), (" 0 ", 0), ("-1", None), ("x", None), (None, None)])
def test_parse_content_length(header: str | None, expected: int | None) -> None:
    assert parse_content_length(header) == expected


def test_stream_digest_matches_hashlib_and_keeps_the_head() -> None:
    data = MP4_HEAD + bytes(range(256)) * 100
    digest = StreamDigest()
    for start in range(0, len(data), 7):  # odd chunk sizes, first chunks smaller than the head
        digest.update(data[start:start + 7])
    assert digest.count == len(data)
    assert digest.sha256 == hashlib.sha256(data).hexdigest()
    assert digest.head == data[:12]
    digest.restart()
    assert (digest.count, digest.head, digest.sha256) == (0, b"", hashlib.sha256(b"").hexdigest())


def test_check_complete_accepts_a_whole_mp4() -> None:
    check_complete(received=100, announced=100, vendor_bytes=100, head=MP4_HEAD, what="t")
    check_complete(received=100, announced=None, vendor_bytes=None, head=MP4_HEAD, what="t")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"received": 50, "announced": 100, "vendor_bytes": None}, "truncated"),
        ({"received": 150, "announced": 100, "vendor_bytes": None}, "too long"),
        ({"received": 100, "announced": 100, "vendor_bytes": 120}, "the vendor says the file has 120"),
        ({"received": 100, "announced": None, "vendor_bytes": 99}, "vendor says"),
        ({"received": 4, "announced": 4, "vendor_bytes": None}, "too few"),
    ],
)
def test_check_complete_refuses(kwargs: dict[str, int | None], message: str) -> None:
    with pytest.raises(HailuoDownloadError, match=message):
        check_complete(head=MP4_HEAD, what="minimax video_task_id 1", **kwargs)  # type: ignore[arg-type]


def test_check_complete_refuses_an_error_page() -> None:
    with pytest.raises(HailuoDownloadError, match="not an MP4"):
        check_complete(received=300, announced=300, vendor_bytes=None, head=b"<?xml version=", what="t")


def test_check_signature_waits_for_enough_bytes() -> None:
    check_signature(b"\x00\x00", what="t")  # undecided: no error yet
    check_signature(MP4_HEAD, what="t")
    with pytest.raises(HailuoDownloadError, match="not an MP4"):
        check_signature(b"<html><body>", what="t")


def test_sidecar_from_a_video_result() -> None:
    video = {
        "vendor": "minimax", "model": "MiniMax-Hailuo-2.3", "video_task_id": "106916112212032", "status": "succeeded",
        "file_id": "205258526306433", "video_url": "https://cdn/x.mp4?Signature=SECRET", "video_width": 1366,
        "video_height": 768, "duration": 6, "resolution": "768p", "prompt": "A lighthouse [推进]",
        "api_key": "sk-should-never-appear",
    }
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    sidecar = build_sidecar(video, vendor="minimax", video_task_id="106916112212032", uri="s3://m/v.mp4",
                            size=1234, sha256="ab" * 32, created=created)
    assert tuple(sidecar) == SIDECAR_FIELDS
    assert sidecar == {
        "vendor": "minimax", "model": "MiniMax-Hailuo-2.3", "video_task_id": "106916112212032",
        "file_id": "205258526306433", "prompt": "A lighthouse [推进]", "mode": None, "duration": 6,
        "resolution": "768P", "width": 1366, "height": 768, "size": 1234, "sha256": "ab" * 32,
        "content_type": "video/mp4", "uri": "s3://m/v.mp4", "created": "2026-01-02T03:04:05+00:00",
        "api": None, "ratio": None, "usage": None, "estimated_cost": None, "billed_cost": None,
    }
    text = sidecar_bytes(sidecar).decode()
    assert json.loads(text) == sidecar
    assert "SECRET" not in text and "sk-should-never-appear" not in text and "video_url" not in text
    assert "推进" in text  # kept readable


def test_sidecar_carries_mode_api_ratio_usage_and_cost_from_the_video_result() -> None:
    video = {"vendor": "minimax", "video_task_id": "7", "mode": "first_last_frame", "api": "v1", "ratio": None,
             "usage": {"output_seconds": 6, "note": {"nested": "dropped"}},
             "estimated_cost": {"amount": 1.0, "unit": "credits"}}
    sidecar = build_sidecar(video, vendor="minimax", video_task_id="7", uri="file:///v.mp4", size=10, sha256="0" * 64)
    assert (sidecar["mode"], sidecar["api"], sidecar["ratio"]) == ("first_last_frame", "v1", None)
    assert sidecar["usage"] == {"output_seconds": 6}
    assert sidecar["estimated_cost"] == {"amount": 1.0, "unit": "credits"}
    assert sidecar["billed_cost"] is None  # v1 reports no usage: nothing billed is known


def test_sidecar_puts_the_billed_cost_from_v2_usage_beside_the_estimate() -> None:
    video = {"vendor": "minimax", "video_task_id": "8", "api": "v2", "model": "MiniMax-H3", "resolution": "2K",
             "duration": 10, "usage": {"total_seconds": 6, "input_seconds": 0, "output_seconds": 6},
             "estimated_cost": {"amount": 1.3, "unit": "USD"}}  # 10 s asked, 6 s billed
    sidecar = build_sidecar(video, vendor="minimax", video_task_id="8", uri="file:///v.mp4", size=10, sha256="0" * 64)
    assert sidecar["estimated_cost"] == {"amount": 1.3, "unit": "USD"}
    assert sidecar["billed_cost"] == {"amount": 0.78, "unit": "USD"}
    china = build_sidecar({**video, "estimated_cost": {"amount": 8.0, "unit": "CNY"}}, vendor="minimax",
                          video_task_id="8", uri="file:///v.mp4", size=10, sha256="0" * 64)
    assert china["billed_cost"] == {"amount": 4.8, "unit": "CNY"}  # the estimate's currency


def test_sidecar_minimal_and_mode() -> None:
    sidecar = build_sidecar({"video_task_id": "1", "mode": "image", "duration": "10"}, vendor="modelverse",
                            video_task_id="1", uri="file:///v.mp4", size=10, sha256="0" * 64)
    assert sidecar["mode"] == "image" and sidecar["duration"] == 10 and sidecar["model"] is None
    assert datetime.fromisoformat(sidecar["created"]).tzinfo is not None


@pytest.mark.parametrize(
    ("resolution", "width", "height", "expected"),
    [("1080P", None, None, "1080P"), (None, 1366, 768, "768P"), (None, 768, 1366, "768P"), (None, None, 720, None),
     ("", 1920, 1080, "1080P")],
)
def test_resolution_of(resolution: str | None, width: int | None, height: int | None, expected: str | None) -> None:
    assert resolution_of(resolution, width, height) == expected
