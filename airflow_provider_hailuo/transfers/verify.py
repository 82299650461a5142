"""Is the downloaded video complete and an MP4? Plain values in, a verdict or an error out.

The digest is fed chunk by chunk while streaming, so the whole file is never in memory; the
checks compare what arrived with what the server (``Content-Length`` / ``Content-Range``) and
the vendor (``bytes``, when it is not 0) announced.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from airflow_provider_hailuo.exceptions import HailuoDownloadError

#: An ISO base media file (MP4) starts with a box: 4-byte size, then the type ``ftyp``.
MP4_SIGNATURE = b"ftyp"
MP4_SIGNATURE_OFFSET = 4
HEAD_BYTES = 12
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


def looks_like_mp4(head: bytes) -> bool:
    """True when the first bytes carry an ``ftyp`` box at offset 4."""
    end = MP4_SIGNATURE_OFFSET + len(MP4_SIGNATURE)
    return len(head) >= end and head[MP4_SIGNATURE_OFFSET:end] == MP4_SIGNATURE


@dataclass(frozen=True)
class ContentRange:
    """A parsed ``Content-Range: bytes start-end/total`` (``end`` inclusive, ``total`` None for ``*``)."""

    start: int
    end: int
    total: int | None


def parse_content_range(header: str | None) -> ContentRange | None:
    """None when the header is missing or not a satisfied single byte range."""
    if not header:
        return None
    match = _CONTENT_RANGE.match(header)
    if not match:
        return None
    start, end = int(match.group(1)), int(match.group(2))
    total = None if match.group(3) == "*" else int(match.group(3))
    if end < start or (total is not None and end >= total):
        return None
    return ContentRange(start, end, total)


def parse_content_length(header: str | None) -> int | None:
    if header is None:
        return None
    try:
        value = int(header.strip())
    except ValueError:
        return None
    return value if value >= 0 else None


class StreamDigest:
    """sha256, byte count and the first bytes of a stream, fed one chunk at a time."""

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        self._sha256 = hashlib.sha256()
        self.count = 0
        self.head = b""

    def update(self, chunk: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self._sha256.update(chunk)
        self.count += len(chunk)

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()


def check_signature(head: bytes, *, what: str) -> None:
    """Raise when the first bytes are not an MP4's (an HTML or XML error page, a JSON error...)."""
    if len(head) < MP4_SIGNATURE_OFFSET + len(MP4_SIGNATURE):
        return  # not enough bytes yet to judge; check_complete judges the whole file
    if not looks_like_mp4(head):
        raise HailuoDownloadError(
            f"{what}: the body is not an MP4 (no 'ftyp' box at offset 4; it starts with {head[:12]!r})"
        )


def check_complete(*, received: int, announced: int | None, vendor_bytes: int | None, head: bytes,
                   what: str) -> None:
    """Raise HailuoDownloadError unless the stream is whole: sizes agree and it is an MP4.

    ``announced`` is the size the server gave (Content-Length or the Content-Range total), None
    when it gave none; ``vendor_bytes`` is the vendor's ``bytes`` field, None when it said 0.
    """
    if announced is not None and received != announced:
        raise HailuoDownloadError(
            f"{what}: received {received:,} bytes but the server announced {announced:,} "
            f"({'truncated' if received < announced else 'too long'})"
        )
    if vendor_bytes is not None and received != vendor_bytes:
        raise HailuoDownloadError(
            f"{what}: received {received:,} bytes but the vendor says the file has {vendor_bytes:,}"
        )
    if received < MP4_SIGNATURE_OFFSET + len(MP4_SIGNATURE):
        raise HailuoDownloadError(f"{what}: received only {received} bytes, too few for an MP4")
    if not looks_like_mp4(head):
        raise HailuoDownloadError(
            f"{what}: the body is not an MP4 (no 'ftyp' box at offset 4; it starts with {head[:12]!r})"
        )
