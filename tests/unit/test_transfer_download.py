"""The download loop against a scripted fake hook: resume, restart, refresh, fallbacks. No network."""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import urllib3
from requests.structures import CaseInsensitiveDict

from airflow_provider_hailuo.core.models import DownloadLocation
from airflow_provider_hailuo.exceptions import (
    HailuoDownloadError,
    HailuoStorageError,
    HailuoTransientError,
    HailuoVendorError,
)
from airflow_provider_hailuo.transfers.download import BACKUP, CONTENT, MAIN, VideoFetcher
from airflow_provider_hailuo.vendors.minimax import MiniMaxDialect

VIDEO = (32).to_bytes(4, "big") + b"ftypisom" + bytes(range(256)) * 40  # 10,252 bytes
SHA = hashlib.sha256(VIDEO).hexdigest()


class Raw:
    """urllib3's response body: ``read1`` gives what has arrived (up to ``amount``), then the break."""

    def __init__(self, body: bytes, break_after: int | None = None,
                 error: type[BaseException] = urllib3.exceptions.ProtocolError) -> None:
        self.body = io.BytesIO(body)
        self.break_after = break_after
        self.error = error

    def read(self, amount: int, decode_content: bool = False) -> bytes:
        return self.body.read(amount)

    def read1(self, amount: int, decode_content: bool = False) -> bytes:
        sent = self.body.tell()
        if self.break_after is not None and sent >= self.break_after and sent < len(self.body.getbuffer()):
            raise self.error("Connection broken: IncompleteRead")
        if self.break_after is not None:
            amount = min(amount, self.break_after - sent)
        return self.body.read(amount)


class Reply:
    """One scripted response: a status, headers and a body that may break after some bytes."""

    def __init__(self, status: int = 200, body: bytes = VIDEO, *, start: int = 0, break_after: int | None = None,
                 headers: dict[str, str] | None = None, ranges: bool = True, length: bool = True,
                 error: type[BaseException] = urllib3.exceptions.ProtocolError) -> None:
        self.status = status
        self.body = body
        self.start = start
        self.break_after = break_after
        self.extra_headers = headers or {}
        self.ranges = ranges
        self.length = length
        self.error = error

    def response(self, start: int) -> FakeResponse:
        return FakeResponse(self, start)


class FakeResponse:
    def __init__(self, reply: Reply, start: int) -> None:
        self.reply = reply
        self.status_code = reply.status
        headers: dict[str, str] = {"Content-Type": "video/mp4", "ETag": '"v1"'}
        body = reply.body
        if reply.status == 206:
            body = reply.body[start:]
            headers["Content-Range"] = f"bytes {start}-{len(reply.body) - 1}/{len(reply.body)}"
        if reply.ranges:
            headers["Accept-Ranges"] = "bytes"
        if reply.length:
            headers["Content-Length"] = str(len(body))
        headers.update(reply.extra_headers)
        self.headers = CaseInsensitiveDict(headers)
        self.body = body
        self.raw = Raw(body, reply.break_after, reply.error)


@dataclass
class FakeHook:
    """Scripted per source: a list of Reply (or exceptions raised when opening)."""

    vendor: str = "minimax"
    script: dict[str, list[Any]] = field(default_factory=dict)
    dialect: Any = field(default_factory=MiniMaxDialect)
    backup: bool = True
    content: bool = True
    lookup_errors: list[BaseException] = field(default_factory=list)
    lookups: int = 0
    opened: list[tuple[str, int, str | None]] = field(default_factory=list)

    def get_download_location(self, task_id: str | None, file_id: str | None) -> DownloadLocation:
        self.lookups += 1
        if self.lookup_errors:
            raise self.lookup_errors.pop(0)
        n = self.lookups
        return DownloadLocation(
            url=f"https://cdn.example/v.mp4?Expires=1&OSSAccessKeyId=AK&Signature=main-secret-{n}",
            backup_url=f"https://backup.example/v.mp4?Expires=1&Signature=backup-secret-{n}" if self.backup else None,
        )

    def get_content_location(self, task_id: str | None, file_id: str | None) -> DownloadLocation | None:
        if not self.content:
            return None
        return DownloadLocation(content_path="/v1/files/retrieve_content", content_params={"file_id": "1"})

    @contextmanager
    def open_download(self, location: DownloadLocation, *, use_backup: bool = False,
                      start: int = 0) -> Iterator[FakeResponse]:
        source = CONTENT if location.content_path else (BACKUP if use_backup else MAIN)
        url = None if location.content_path else (location.backup_url if use_backup else location.url)
        self.opened.append((source, start, url))
        replies = self.script.get(source) or [Reply()]
        step = replies.pop(0) if len(replies) > 1 else replies[0]
        if isinstance(step, BaseException):
            raise step
        yield step.response(start)


class Sink:
    def __init__(self, fail_after: int | None = None) -> None:
        self.buffer = bytearray()
        self.restarts = 0
        self.fail_after = fail_after

    def write(self, data: bytes) -> None:
        if self.fail_after is not None and len(self.buffer) + len(data) > self.fail_after:
            raise HailuoStorageError("could not upload s3://m/v.mp4: disk full")
        self.buffer += data

    def restart(self) -> None:
        self.restarts += 1
        self.buffer.clear()


def fetcher(hook: FakeHook, **kwargs: Any) -> VideoFetcher:
    sleeps: list[float] = []
    fetch = VideoFetcher(hook, video_task_id="42", file_id="7", chunk_size=1000, sleep=sleeps.append, **kwargs)
    fetch.sleeps = sleeps  # type: ignore[attr-defined]
    return fetch


def test_plain_download() -> None:
    hook, sink = FakeHook(), Sink()
    result = fetcher(hook).fetch(sink)
    assert bytes(sink.buffer) == VIDEO
    assert (result.size, result.sha256, result.source, result.attempts) == (len(VIDEO), SHA, MAIN, 1)
    assert hook.opened == [(MAIN, 0, hook.opened[0][2])]


def test_truncated_body_resumes_with_range() -> None:
    hook = FakeHook(script={MAIN: [Reply(break_after=3500), Reply(206, break_after=2000), Reply(206)]})
    sink = Sink()
    result = fetcher(hook).fetch(sink)
    assert bytes(sink.buffer) == VIDEO and result.sha256 == SHA
    assert [start for _, start, _ in hook.opened] == [0, 3500, 5500]
    assert sink.restarts == 0


def test_a_break_inside_a_chunk_keeps_every_byte_received() -> None:
    """1 MiB chunks, bodies breaking after a few KB: each attempt resumes exactly where the last stopped."""
    hook = FakeHook(script={MAIN: [Reply(break_after=3500), Reply(206, break_after=2000), Reply(206)]})
    sink = Sink()
    fetch = VideoFetcher(hook, video_task_id="42", file_id="7", chunk_size=1024 * 1024, sleep=lambda _: None)
    result = fetch.fetch(sink)
    assert bytes(sink.buffer) == VIDEO and result.sha256 == SHA
    assert [start for _, start, _ in hook.opened] == [0, 3500, 5500]


def test_server_without_ranges_restarts_from_zero() -> None:
    hook = FakeHook(script={MAIN: [Reply(break_after=3500, ranges=False), Reply(ranges=False)]})
    sink = Sink()
    result = fetcher(hook).fetch(sink)
    assert bytes(sink.buffer) == VIDEO and result.sha256 == SHA
    assert [start for _, start, _ in hook.opened] == [0, 0]
    assert sink.restarts == 1


def test_range_ignored_by_server_restarts() -> None:
    hook = FakeHook(script={MAIN: [Reply(break_after=3000), Reply(200)]})  # 200 to a Range request
    sink = Sink()
    result = fetcher(hook).fetch(sink)
    assert bytes(sink.buffer) == VIDEO and result.sha256 == SHA
    assert [start for _, start, _ in hook.opened] == [0, 3000]
    assert sink.restarts == 1


def test_changed_object_is_not_stitched() -> None:
    other = Reply(206, headers={"ETag": '"v2"'})
    hook = FakeHook(script={MAIN: [Reply(break_after=3000), other, Reply()]}, backup=False, content=False)
    sink = Sink()
    result = fetcher(hook).fetch(sink)
    assert bytes(sink.buffer) == VIDEO and result.sha256 == SHA
    assert [start for _, start, _ in hook.opened] == [0, 3000, 0]


def test_expired_url_is_refreshed() -> None:
    hook = FakeHook(script={MAIN: [Reply(403, body=b"<Error><Code>AccessDenied</Code></Error>"), Reply()]})
    result = fetcher(hook).fetch(Sink())
    assert result.url_refreshes == 1 and hook.lookups == 2
    assert hook.opened[1][2] is not None and hook.opened[1][2].endswith("main-secret-2")


def test_expired_mid_download_resumes_with_the_fresh_url() -> None:
    hook = FakeHook(script={MAIN: [Reply(break_after=4000), Reply(410), Reply(206)]})
    sink = Sink()
    result = fetcher(hook).fetch(sink)
    assert bytes(sink.buffer) == VIDEO and result.url_refreshes == 1
    assert [(start, (url or "")[-1]) for _, start, url in hook.opened] == [(0, "1"), (4000, "1"), (4000, "2")]


def test_refreshes_are_bounded_then_backup() -> None:
    hook = FakeHook(script={MAIN: [Reply(403)]})
    result = fetcher(hook, max_url_refreshes=2).fetch(Sink())
    assert result.source == BACKUP and hook.lookups == 3


def test_backup_used_when_main_fails() -> None:
    hook = FakeHook(script={MAIN: [Reply(503)]})
    fetch = fetcher(hook)
    result = fetch.fetch(Sink())
    assert result.source == BACKUP and result.sha256 == SHA
    assert [source for source, _, _ in hook.opened] == [MAIN, BACKUP]
    (pause,) = fetch.sleeps  # type: ignore[attr-defined]
    assert 0 <= pause <= 0.5  # the transport's RetryPolicy: 0.5 s at most, full jitter


def test_retrieve_content_after_both_urls_fail() -> None:
    hook = FakeHook(script={MAIN: [Reply(500)], BACKUP: [HailuoTransientError("download: could not connect",
                                                                              vendor="minimax")]})
    result = fetcher(hook).fetch(Sink())
    assert result.source == CONTENT
    assert [source for source, _, _ in hook.opened] == [MAIN, BACKUP, CONTENT]


def test_retrieve_content_when_files_retrieve_fails() -> None:
    hook = FakeHook(lookup_errors=[HailuoVendorError("retrieve failed", vendor="minimax", code=1000)])
    result = fetcher(hook).fetch(Sink())
    assert result.source == CONTENT


def test_no_content_fallback_for_other_vendors() -> None:
    hook = FakeHook(vendor="dmxapi", content=False,
                    lookup_errors=[HailuoVendorError("retrieve failed", vendor="dmxapi", code=1000)])
    with pytest.raises(HailuoVendorError):
        fetcher(hook).fetch(Sink())


def test_reset_before_any_byte_retries_the_same_source_when_alone() -> None:
    hook = FakeHook(vendor="dmxapi", backup=False, content=False,
                    script={MAIN: [Reply(break_after=0, error=ConnectionResetError), Reply()]})
    result = fetcher(hook).fetch(Sink())
    assert result.sha256 == SHA and [source for source, _, _ in hook.opened] == [MAIN, MAIN]


def test_gives_up_after_bounded_attempts() -> None:
    hook = FakeHook(backup=False, content=False, script={MAIN: [Reply(500)]})
    fetch = fetcher(hook, max_attempts=3)
    with pytest.raises(HailuoDownloadError, match="after 3 attempts; last: .*HTTP 500"):
        fetch.fetch(Sink())
    assert len(hook.opened) == 3
    first, second = fetch.sleeps  # type: ignore[attr-defined]
    assert 0 <= first <= 0.5 and 0 <= second <= 1.0  # exponential ceilings, full jitter


def test_an_error_page_with_200_is_not_taken_for_a_video() -> None:
    page = b"<html><body>Access denied by firewall</body></html>" + b" " * 200
    hook = FakeHook(script={MAIN: [Reply(200, body=page, headers={"Content-Type": "application/octet-stream"})]})
    result = fetcher(hook).fetch(Sink())
    assert result.source == BACKUP  # the main "video" was refused early, the backup one is right


def test_json_error_from_retrieve_content() -> None:
    error = b'{"base_resp": {"status_code": 1004, "status_msg": "login fail"}}'
    json_reply = Reply(200, body=error, headers={"Content-Type": "application/json"})
    hook = FakeHook(backup=False, script={MAIN: [Reply(500)], CONTENT: [json_reply]})
    with pytest.raises(HailuoDownloadError, match="application/json instead of a video.*login fail"):
        fetcher(hook, max_attempts=2).fetch(Sink())


def test_truncated_with_no_more_bytes_is_retried() -> None:
    hook = FakeHook(script={MAIN: [Reply(length=True, break_after=5000, error=ConnectionResetError),
                                   Reply(206)]})
    assert fetcher(hook).fetch(Sink()).sha256 == SHA


def test_vendor_bytes_mismatch_is_an_error() -> None:
    class SizedHook(FakeHook):
        def get_download_location(self, task_id: str | None, file_id: str | None) -> DownloadLocation:
            location = super().get_download_location(task_id, file_id)
            return DownloadLocation(url=location.url, expected_bytes=len(VIDEO) + 1)

    with pytest.raises(HailuoDownloadError, match="vendor says the file has"):
        fetcher(SizedHook(content=False)).fetch(Sink())


def test_storage_errors_are_not_retried() -> None:
    hook = FakeHook()
    with pytest.raises(HailuoStorageError, match="disk full"):
        fetcher(hook).fetch(Sink(fail_after=2500))
    assert len(hook.opened) == 1


def test_logs_never_show_a_signature(caplog: pytest.LogCaptureFixture) -> None:
    hook = FakeHook(script={MAIN: [Reply(403), Reply(break_after=100), Reply(206)]})
    with caplog.at_level(logging.DEBUG):
        fetcher(hook).fetch(Sink())
    text = caplog.text
    assert "main-secret" not in text and "backup-secret" not in text and "OSSAccessKeyId=AK" not in text
    assert "Signature=***" in text
