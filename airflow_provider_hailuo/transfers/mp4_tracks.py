"""Which kinds of tracks a stored MP4 has, read from its ISO-BMFF boxes in pure Python.

``has_audio`` needs only the ``moov`` box (``moov/trak/mdia/hdlr`` handler ``soun``): a few
kilobytes read with seeks, no decoder, no PyAV, whatever the size of the video.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

#: A moov box past this is not a Hailuo clip's (they are a few KB); refuse to read it whole.
MAX_MOOV_BYTES = 64 * 1024 * 1024
_CONTAINERS = {b"moov", b"trak", b"mdia"}


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in ``data[start:end]``."""
    end = len(data) if end is None else end
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        header = 8
        if size == 1:
            if position + 16 > end:
                return
            size = struct.unpack(">Q", data[position + 8 : position + 16])[0]
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            return
        yield kind, position + header, position + size
        position += size


def _read_moov(handle: BinaryIO) -> bytes | None:
    """The ``moov`` box (header included) of the file, found by walking the top-level boxes."""
    handle.seek(0)
    position = 0
    while True:
        header = handle.read(16)
        if len(header) < 8:
            return None
        size, kind = struct.unpack(">I4s", header[:8])
        if size == 1 and len(header) >= 16:
            size = struct.unpack(">Q", header[8:16])[0]
        elif size == 0:
            size = None  # to the end of the file
        if kind == b"moov":
            if size is not None and size > MAX_MOOV_BYTES:
                return None
            handle.seek(position)
            return handle.read(size if size is not None else MAX_MOOV_BYTES)
        if size is None or size < 8:
            return None
        position += size
        handle.seek(position)


def handler_types(handle: BinaryIO) -> list[str]:
    """The handler type of every track (``vide``, ``soun``, ...), in track order."""
    moov = _read_moov(handle)
    if moov is None:
        return []
    found: list[str] = []

    def walk(start: int, end: int) -> None:
        for kind, payload, box_end in _boxes(moov, start, end):
            if kind in _CONTAINERS:
                walk(payload, box_end)
            elif kind == b"hdlr" and box_end - payload >= 12:
                found.append(moov[payload + 8 : payload + 12].decode("latin-1"))

    walk(0, len(moov))
    return found


def has_audio(handle: BinaryIO) -> bool:
    """True when the MP4 has an audio (``soun``) track."""
    return "soun" in handler_types(handle)
