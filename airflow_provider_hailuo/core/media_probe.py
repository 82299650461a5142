"""Read format, size and duration out of media bytes, in pure Python (no ffmpeg, no pillow-heif).

MiniMax-H3 refuses media outside its limits only after the upload and a queue wait; reading the
few header boxes ourselves turns that into an error before anything is sent. Only headers are
parsed: ISO-BMFF boxes (MP4/MOV ``ftyp``/``mvhd``/``stsd``/``stts``, HEIF ``ispe``), the RIFF
header of a WAV, and MP3 frame headers (Xing/Info/VBRI for VBR files, else a CBR estimate).
Every failure is a :class:`MediaProbeError` saying what is wrong; callers add the parameter.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

_T = TypeVar("_T")


class MediaProbeError(ValueError):
    """The bytes are not the media they claim to be, or are truncated."""


def truncation_is_an_error(probe: Callable[[bytes], _T]) -> Callable[[bytes], _T]:
    """A header cut short makes ``struct`` or indexing fail; report it as a probe error."""

    @functools.wraps(probe)
    def guarded(data: bytes) -> _T:
        try:
            return probe(data)
        except (struct.error, IndexError):
            raise MediaProbeError("the file is truncated inside its headers") from None

    return guarded


MP4_BRANDS = frozenset({"isom", "iso2", "iso3", "iso4", "iso5", "iso6", "iso8", "iso9", "mp41", "mp42",
                        "avc1", "dash", "M4V ", "M4VH", "M4VP", "mp71", "f4v ", "msnv", "MSNV", "XAVC",
                        "3gp4", "3gp5", "3gp6", "3g2a"})
MOV_BRAND = "qt  "
HEIC_BRANDS = frozenset({"heic", "heix", "heim", "heis", "hevc", "hevx"})
HEIF_BRANDS = frozenset({"mif1", "msf1", "heif"})
#: Sample entries of H.264 and H.265 video (the codecs the v2 API takes).
H264_H265_ENTRIES = frozenset({"avc1", "avc3", "hvc1", "hev1"})


@dataclass(frozen=True)
class Box:
    kind: str
    start: int  # first byte of the payload
    end: int  # one past the last byte of the box


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The ISO-BMFF boxes between ``start`` and ``end``; a box running past the end is an error."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, raw_kind = struct.unpack_from(">I4s", data, pos)
        kind = raw_kind.decode("latin-1")
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise MediaProbeError(f"box {kind!r} at byte {pos} is truncated")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise MediaProbeError(f"box {kind!r} at byte {pos} claims {size:,} bytes; the file is truncated")
        yield Box(kind, pos + header, pos + size)
        pos += size


def find_box(data: bytes, parent: Box | None, *path: str) -> Box | None:
    """The first box along ``path`` under ``parent`` (the whole file when None)."""
    start, end = (0, len(data)) if parent is None else (parent.start, parent.end)
    current: Box | None = None
    for kind in path:
        current = next((box for box in iter_boxes(data, start, end) if box.kind == kind), None)
        if current is None:
            return None
        start, end = current.start, current.end
    return current


def _ftyp_brands(data: bytes) -> tuple[str, frozenset[str]] | None:
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    (size,) = struct.unpack_from(">I", data, 0)
    if size < 16 or size > len(data):
        raise MediaProbeError(f"'ftyp' box claims {size:,} bytes; the file is truncated or broken")
    payload = data[8:size]
    major = payload[:4].decode("latin-1")
    compatible = {payload[i:i + 4].decode("latin-1") for i in range(8, len(payload) - 3, 4)}
    return major, frozenset(compatible | {major})


# --- images: HEIF/HEIC -----------------------------------------------------------------------------

@dataclass(frozen=True)
class HeifInfo:
    format: str  # heic or heif
    width: int
    height: int


def heif_format(data: bytes) -> str | None:
    """``heic``/``heif`` when the bytes start with a HEIF ``ftyp``, else None."""
    try:
        brands = _ftyp_brands(data)
    except MediaProbeError:
        return None
    if brands is None:
        return None
    major, all_brands = brands
    if major in HEIC_BRANDS or (major not in HEIF_BRANDS and all_brands & HEIC_BRANDS):
        return "heic"
    if all_brands & (HEIF_BRANDS | HEIC_BRANDS):
        return "heif"
    return None


@truncation_is_an_error
def probe_heif(data: bytes) -> HeifInfo:
    """Size of the primary image from its ``ispe`` property (rotated by ``irot``), without decoding."""
    fmt = heif_format(data)
    if fmt is None:
        raise MediaProbeError("not a HEIF/HEIC file (no HEIF brand in ftyp)")
    meta = find_box(data, None, "meta")
    if meta is None:
        raise MediaProbeError("HEIF file has no 'meta' box")
    children = {box.kind: box for box in iter_boxes(data, meta.start + 4, meta.end)}  # meta is a full box
    iprp = children.get("iprp")
    ipco = find_box(data, iprp, "ipco") if iprp else None
    if ipco is None:
        raise MediaProbeError("HEIF file has no item properties (meta/iprp/ipco)")
    properties = list(iter_boxes(data, ipco.start, ipco.end))
    associated = _primary_properties(data, children.get("pitm"), find_box(data, iprp, "ipma"))
    chosen = [properties[i - 1] for i in associated if 0 < i <= len(properties)] or properties
    sizes = [struct.unpack_from(">II", data, box.start + 4) for box in chosen
             if box.kind == "ispe" and box.end - box.start >= 12]
    if not sizes:
        raise MediaProbeError("HEIF file has no image size property ('ispe')")
    width, height = max(sizes, key=lambda size: size[0] * size[1])
    rotations = [data[box.start] & 3 for box in chosen if box.kind == "irot" and box.end > box.start]
    if rotations and rotations[0] in (1, 3):
        width, height = height, width
    return HeifInfo(fmt, width, height)


def _primary_properties(data: bytes, pitm: Box | None, ipma: Box | None) -> list[int]:
    """1-based indices into ``ipco`` of the primary item's properties ([] when not stated)."""
    if pitm is None or ipma is None:
        return []
    version = data[pitm.start]
    primary = struct.unpack_from(">H" if version == 0 else ">I", data, pitm.start + 4)[0]
    version, flags = data[ipma.start], int.from_bytes(data[ipma.start + 1:ipma.start + 4], "big")
    pos = ipma.start + 4
    (count,) = struct.unpack_from(">I", data, pos)
    pos += 4
    for _ in range(count):
        if version < 1:
            (item,) = struct.unpack_from(">H", data, pos)
            pos += 2
        else:
            (item,) = struct.unpack_from(">I", data, pos)
            pos += 4
        associations = data[pos]
        pos += 1
        indices = []
        for _ in range(associations):
            if flags & 1:
                indices.append(struct.unpack_from(">H", data, pos)[0] & 0x7FFF)
                pos += 2
            else:
                indices.append(data[pos] & 0x7F)
                pos += 1
        if item == primary:
            return indices
    return []


# --- video: MP4/MOV ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class VideoProbe:
    container: str  # mp4 or mov
    duration: float  # seconds
    video_codec: str | None  # sample entry fourcc, e.g. avc1
    audio_codec: str | None
    fps: float | None
    width: int | None = None
    height: int | None = None


def video_container(data: bytes) -> str | None:
    """``mp4`` or ``mov`` from the ftyp brands (or a bare QuickTime ``moov``), else None."""
    try:
        brands = _ftyp_brands(data)
        if brands is None:
            kinds = [box.kind for box in iter_boxes(data)]
            return "mov" if "moov" in kinds and kinds[0] in ("moov", "mdat", "wide", "free", "skip") else None
    except MediaProbeError:
        return None
    major, all_brands = brands
    if major == MOV_BRAND:
        return "mov"
    if all_brands & MP4_BRANDS:
        return "mp4"
    return "mov" if MOV_BRAND in all_brands else None


def _time_fields(data: bytes, box: Box) -> tuple[int, int]:
    """(timescale, duration) of an ``mvhd`` or ``mdhd`` full box (versions 0 and 1)."""
    if data[box.start] == 1:
        if box.end - box.start < 32:
            raise MediaProbeError(f"'{box.kind}' box is truncated")
        return struct.unpack_from(">IQ", data, box.start + 20)
    if box.end - box.start < 20:
        raise MediaProbeError(f"'{box.kind}' box is truncated")
    return struct.unpack_from(">II", data, box.start + 12)


@truncation_is_an_error
def probe_video(data: bytes) -> VideoProbe:
    """Container, duration, codecs and frame rate of an MP4/MOV from its ``moov`` box."""
    container = video_container(data)
    if container is None:
        raise MediaProbeError("not an MP4 or MOV file (no MP4/QuickTime brand in ftyp)")
    moov = find_box(data, None, "moov")
    if moov is None:
        raise MediaProbeError("the file has no 'moov' box (truncated, or not a finished recording)")
    mvhd = find_box(data, moov, "mvhd")
    if mvhd is None:
        raise MediaProbeError("the file has no movie header ('mvhd')")
    timescale, duration = _time_fields(data, mvhd)
    if duration in (0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        mehd = find_box(data, moov, "mvex", "mehd")  # fragmented MP4: the fragment duration
        if mehd is not None:
            fmt = ">Q" if data[mehd.start] == 1 else ">I"
            (duration,) = struct.unpack_from(fmt, data, mehd.start + 4)
    if timescale == 0 or duration in (0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        raise MediaProbeError("the movie header gives no duration")
    video_codec = audio_codec = None
    fps = None
    width = height = None
    for trak in (box for box in iter_boxes(data, moov.start, moov.end) if box.kind == "trak"):
        handler = find_box(data, trak, "mdia", "hdlr")
        if handler is None or handler.end - handler.start < 12:
            continue
        kind = data[handler.start + 8:handler.start + 12]
        entry = _first_sample_entry(data, trak)
        if kind == b"vide" and video_codec is None:
            video_codec = entry.kind if entry else None
            if entry and entry.end - entry.start >= 28:
                width, height = struct.unpack_from(">HH", data, entry.start + 24)
            fps = _frame_rate(data, trak)
        elif kind == b"soun" and audio_codec is None:
            audio_codec = entry.kind if entry else None
    return VideoProbe(container, duration / timescale, video_codec, audio_codec, fps, width, height)


def _first_sample_entry(data: bytes, trak: Box) -> Box | None:
    stsd = find_box(data, trak, "mdia", "minf", "stbl", "stsd")
    if stsd is None or stsd.end - stsd.start < 8:
        return None
    return next(iter_boxes(data, stsd.start + 8, stsd.end), None)


def _frame_rate(data: bytes, trak: Box) -> float | None:
    mdhd = find_box(data, trak, "mdia", "mdhd")
    stts = find_box(data, trak, "mdia", "minf", "stbl", "stts")
    if mdhd is None or stts is None or stts.end - stts.start < 8:
        return None
    timescale, duration = _time_fields(data, mdhd)
    (entries,) = struct.unpack_from(">I", data, stts.start + 4)
    entries = min(entries, (stts.end - stts.start - 8) // 8)
    samples = sum(struct.unpack_from(">I", data, stts.start + 8 + 8 * i)[0] for i in range(entries))
    if not timescale or not duration or not samples:
        return None  # fragmented files keep their samples in moof boxes: rate unknown
    return samples / (duration / timescale)
