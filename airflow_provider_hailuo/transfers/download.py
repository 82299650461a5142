"""Fetch a finished video over HTTP into a sink, chunk by chunk, until it is whole.

* The location is asked for at run time (signed URLs expire; MiniMax's after about 9 hours), and
  asked for again when a URL answers 403/410 (expired).
* Sources are tried in the order the vendor's dialect plans (``VendorDialect.download_plan``):
  the signed URL, its backup, then the vendor API's own content endpoint where it has one. A
  source that fails moves on to the next, after a pause from the transport's ``RetryPolicy``
  (exponential, full jitter).
* A body cut short (truncated, connection reset) resumes with ``Range: bytes=N-`` when the server
  takes ranges (206 / ``Accept-Ranges: bytes``) and the object is the same (size, ETag);
  otherwise the sink is rewound and the download starts again.
* Logs and errors show signed URLs only through ``redact_url``; their secrets are registered with
  Airflow's masker by ``transport.urls.mask_signed_url``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import urllib3

from airflow_provider_hailuo.core.models import DownloadLocation
from airflow_provider_hailuo.exceptions import (
    HailuoAuthenticationError,
    HailuoDownloadError,
    HailuoError,
    HailuoInvalidRequestError,
    HailuoStorageError,
)
from airflow_provider_hailuo.transfers.error_hints import json_error_message, xml_error_code
from airflow_provider_hailuo.transfers.progress import DownloadProgress
from airflow_provider_hailuo.transfers.verify import (
    StreamDigest,
    check_complete,
    check_signature,
    parse_content_length,
    parse_content_range,
)
from airflow_provider_hailuo.transport.policy import RetryPolicy
from airflow_provider_hailuo.transport.urls import mask_signed_url, redact_url
from airflow_provider_hailuo.vendors.base import DownloadSource

log = logging.getLogger(__name__)

MAIN, BACKUP, CONTENT = DownloadSource.SIGNED_URL, DownloadSource.BACKUP_URL, DownloadSource.CONTENT
EXPIRED_STATUSES = frozenset({403, 410})
_ERROR_BODY_LIMIT = 2048


class ChunkSink(Protocol):
    """Where the bytes go (a staged write)."""

    def write(self, data: bytes) -> None: ...

    def restart(self) -> None: ...


@dataclass(frozen=True)
class FetchResult:
    size: int
    sha256: str
    source: DownloadSource
    attempts: int
    url_refreshes: int


class _Expired(Exception):
    """The signed URL was refused as expired (HTTP 403/410): ask the vendor for a fresh one."""


class _SourceFailed(Exception):
    """This source gave nothing usable this time (HTTP error, no connection, wrong body)."""


class VideoTooLargeError(HailuoDownloadError):
    """The download is larger than any video can be: a hostile or broken answer, not worth retrying."""

    retryable = False


class _Interrupted(Exception):
    """The body stopped early after some bytes arrived: resume (or restart) on the same source."""


class VideoFetcher:
    """Downloads one vendor task's video into a sink; see the module docstring for the rules."""

    def __init__(
        self,
        hook: Any,
        *,
        video_task_id: str | None,
        file_id: str | None,
        chunk_size: int = 1024 * 1024,
        max_attempts: int = 6,
        max_url_refreshes: int = 3,
        max_resumes: int = 20,
        retry_backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_bytes: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        logger: logging.Logger | Any = None,
    ) -> None:
        self.hook = hook
        self.log = logger or log
        self.video_task_id = video_task_id
        self.file_id = file_id
        self.chunk_size = chunk_size
        self.max_attempts = max_attempts
        self.max_url_refreshes = max_url_refreshes
        self.max_resumes = max_resumes
        #: Pauses between failed attempts: the transport's policy, so they are jittered like every retry.
        self.retry_policy = RetryPolicy(max_attempts=max_attempts, initial_backoff=retry_backoff,
                                        max_backoff=max_backoff)
        self.max_bytes = max_bytes
        self.sleep = sleep
        self.dialect = hook.dialect
        self.video_label = f"{getattr(hook, 'vendor', 'vendor')} video_task_id {video_task_id}"
        self.digest = StreamDigest()
        self._identity: tuple[int | None, str | None] | None = None  # (total size, ETag) being assembled
        self._resumable = False
        self._content_location: DownloadLocation | None = None
        self._masked: set[str] = set()
        self.progress = DownloadProgress(self.log, f"downloading {self.video_label}")

    # -- locations ---------------------------------------------------------------------------
    def resolve(self) -> DownloadLocation:
        """A fresh location; the vendor's content endpoint (where it has one) when the lookup fails."""
        self._content_location = self.hook.get_content_location(self.video_task_id, self.file_id)
        try:
            location = self.hook.get_download_location(self.video_task_id, self.file_id)
        except (HailuoInvalidRequestError, HailuoAuthenticationError):
            raise
        except HailuoError as exc:
            if self._content_location is None:
                raise
            self.log.warning("%s: the download lookup failed (%s); fetching through %s instead", self.video_label,
                             exc, CONTENT.value)
            return self._content_location
        return location

    def sources(self, location: DownloadLocation) -> list[DownloadSource]:
        found = self.dialect.download_plan(location, self._content_location)
        if not found:
            raise HailuoDownloadError(f"{self.video_label}: the vendor gave no download URL")
        return found

    def _describe(self, location: DownloadLocation, source: DownloadSource) -> str:
        if source is CONTENT:
            return CONTENT.value
        url = location.backup_url if source is BACKUP else location.url
        return f"{source.value} {redact_url(url or '?')}"

    # -- the loop ----------------------------------------------------------------------------
    def fetch(self, sink: ChunkSink) -> FetchResult:
        location = self.resolve()
        sources = self.sources(location)
        index = failures = refreshes = resumes = attempts = 0
        last_problem = "no attempt made"
        while True:
            source = sources[index]
            attempts += 1
            try:
                total = self._attempt(location, source, sink)
            except _Expired as exc:
                last_problem = str(exc)
                if source != CONTENT and refreshes < self.max_url_refreshes:
                    refreshes += 1
                    self.log.warning("%s: %s; asking the vendor for a fresh URL (%d/%d)", self.video_label, exc,
                                     refreshes, self.max_url_refreshes)
                    location = self.resolve()
                    previous = source
                    sources = self.sources(location)
                    index = sources.index(previous) if previous in sources else 0
                    continue
                failures += 1
            except _Interrupted as exc:
                last_problem = str(exc)
                resumes += 1
                if resumes > self.max_resumes:
                    raise HailuoDownloadError(
                        f"{self.video_label}: gave up after {resumes} interrupted transfers; last: {exc}"
                    ) from None
                how = f"resuming at byte {self.digest.count:,}" if self._resumable else "restarting"
                self.log.warning("%s: %s; %s", self.video_label, exc, how)
                continue
            except _SourceFailed as exc:
                last_problem = str(exc)
                failures += 1
            else:
                return self._finish(location, source, total, attempts, refreshes)
            if failures >= self.max_attempts:
                raise HailuoDownloadError(
                    f"{self.video_label}: download failed after {attempts} attempts; last: {last_problem}"
                )
            next_index = (index + 1) % len(sources)
            delay = self.retry_policy.backoff(None, failures)
            if next_index != index:
                self.log.warning("%s: %s; trying %s in %.1f s", self.video_label, last_problem,
                                 sources[next_index].value, delay)
            else:
                self.log.warning("%s: %s; retrying in %.1f s", self.video_label, last_problem, delay)
            index = next_index
            self.sleep(delay)

    def _finish(self, location: DownloadLocation, source: DownloadSource, total: int | None, attempts: int,
                refreshes: int) -> FetchResult:
        check_complete(received=self.digest.count, announced=total, vendor_bytes=location.expected_bytes,
                       head=self.digest.head, what=self.video_label)
        return FetchResult(self.digest.count, self.digest.sha256, source, attempts, refreshes)

    def _rewind(self, sink: ChunkSink) -> None:
        if self.digest.count:
            sink.restart()
        self.digest.restart()
        self._identity = None

    def _open(self, location: DownloadLocation, source: DownloadSource, start: int) -> Any:
        if source == CONTENT:
            content = location if location.content_path else self._content_location
            return self.hook.open_download(content, start=start)
        # Just before the URL is used: urllib3 quotes it in full in its DEBUG request line.
        url = location.backup_url if source == BACKUP else location.url
        if url and url not in self._masked:
            mask_signed_url(url)
            self._masked.add(url)
        return self.hook.open_download(location, use_backup=source == BACKUP, start=start)

    def _attempt(self, location: DownloadLocation, source: DownloadSource, sink: ChunkSink) -> int | None:
        """One request; returns the announced total size (None if unknown) once the body ended."""
        if self.digest.count and not self._resumable:
            self._rewind(sink)
        start = self.digest.count
        where = self._describe(location, source)
        try:
            with self._open(location, source, start) as response:
                total = self._check_response(response, source, where, start, sink)
                self._stream(response, sink, where, total)
                return total
        except (_Expired, _SourceFailed, _Interrupted, HailuoStorageError, HailuoInvalidRequestError,
                VideoTooLargeError):
            raise  # storage, configuration and size errors: another download cannot help
        except HailuoDownloadError as exc:  # not an MP4 and the like: rewind, try elsewhere
            self._rewind(sink)
            raise _SourceFailed(str(exc)) from None
        except HailuoError as exc:  # no connection, a vendor error from its content endpoint
            raise _SourceFailed(f"{where}: {exc}") from None

    def _check_response(self, response: Any, source: DownloadSource, where: str, start: int,
                        sink: ChunkSink) -> int | None:
        status = response.status_code
        if status in EXPIRED_STATUSES and source != CONTENT:
            raise _Expired(f"{where} answered HTTP {status} (expired or refused signed URL)")
        if status == 416 and start:
            self._rewind(sink)
            raise _SourceFailed(f"{where} refused the range from byte {start:,} (HTTP 416); starting again")
        if status >= 300:
            raise _SourceFailed(f"{where} answered HTTP {status}{self._error_hint(response)}")
        headers = response.headers
        etag = headers.get("ETag")
        if status == 206:
            content_range = parse_content_range(headers.get("Content-Range"))
            if content_range is None or content_range.start != start:
                self._rewind(sink)
                raise _SourceFailed(f"{where} answered a range other than bytes={start}-; starting again")
            total = content_range.total
            if self._identity is not None and (total, etag) != self._identity and start:
                # another object (or version) than the bytes we hold: they cannot be joined
                self._rewind(sink)
                raise _SourceFailed(f"{where} serves a different object than before (size or ETag); starting again")
            self._resumable = True
        else:
            if start:
                self.log.warning("%s: %s ignored the range request; downloading from byte 0 again", self.video_label,
                                 where)
                self._rewind(sink)
            length = None if headers.get("Content-Encoding") else parse_content_length(headers.get("Content-Length"))
            total = length
            self._resumable = headers.get("Accept-Ranges", "").strip().lower() == "bytes"
            content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
            if content_type in ("application/json", "text/html", "application/xml", "text/xml") and (
                length is None or length <= _ERROR_BODY_LIMIT
            ):
                raise _SourceFailed(f"{where} answered {content_type} instead of a video{self._error_hint(response)}")
        if total is not None and self.max_bytes is not None and total > self.max_bytes:
            raise VideoTooLargeError(
                f"{self.video_label}: {where} announces {total:,} bytes, more than the {self.max_bytes:,} a video "
                "may be"
            )
        self._identity = (total, etag)
        return total

    def _error_hint(self, response: Any) -> str:
        """A short, secret-free hint from an error body: an XML ``<Code>`` or the JSON error's reason."""
        try:
            body = response.raw.read(_ERROR_BODY_LIMIT, decode_content=True) if response.raw is not None else b""
        except Exception:
            return ""
        text = body.decode("utf-8", errors="replace").strip() if isinstance(body, bytes) else ""
        hint = xml_error_code(text) if text.startswith("<") else json_error_message(text, self.dialect)
        return f" ({hint})" if hint else ""

    def _stream(self, response: Any, sink: ChunkSink, where: str, total: int | None) -> None:
        """Hash and write each chunk as it arrives. (Reading ahead in a thread was measured: with
        sha256 at well over network speed it only added overhead.)"""
        chunks = _arriving_chunks(response, self.chunk_size)
        received = 0
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                break
            except (urllib3.exceptions.HTTPError, OSError) as exc:  # what urllib3's read1 raises
                problem = f"{where}: the connection broke after {self.digest.count:,} bytes ({exc.__class__.__name__})"
                if received:
                    raise _Interrupted(problem) from None
                raise _SourceFailed(problem) from None
            if not chunk:
                continue
            if self.digest.count < 8:
                check_signature(self.digest.head + chunk[:12], what=f"{self.video_label} from {where}")
            if self.max_bytes is not None and self.digest.count + len(chunk) > self.max_bytes:
                self._rewind(sink)
                raise VideoTooLargeError(
                    f"{self.video_label}: {where} sent more than {self.max_bytes:,} bytes, more than a video may be; "
                    "refusing the rest"
                )
            self.digest.update(chunk)
            sink.write(chunk)  # storage errors propagate as they are: retrying the download cannot help
            received += len(chunk)
            self.progress.update(self.digest.count, total)
            if total is not None and self.digest.count > total:
                self._rewind(sink)
                raise _SourceFailed(f"{where} sent more bytes than the {total:,} it announced")
        if total is not None and self.digest.count < total:
            problem = f"{where}: the body ended at byte {self.digest.count:,} of {total:,} (truncated)"
            if received:
                raise _Interrupted(problem)
            raise _SourceFailed(problem)


def _arriving_chunks(response: Any, chunk_size: int) -> Iterator[bytes]:
    """The body as it arrives, in pieces of at most ``chunk_size`` bytes.

    ``read1`` returns what one read from the connection gives (large pieces on a fast link), so
    when the connection breaks, every byte received before is kept and the download resumes right
    after it. ``iter_content(chunk_size)`` waits for a full chunk instead and drops a partial one
    with the error: with 1 MiB chunks, a link that breaks every few hundred KB never progressed.
    """
    read1 = response.raw.read1
    while True:
        piece = read1(chunk_size, decode_content=True)
        if not piece:
            return
        yield piece
