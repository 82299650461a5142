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
from dataclasses import dataclass, replace
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
    """Container, duration, codecs and frame rate of an MP4/MOV from its ``moov`` box.

    A fragmented MP4 (``moof`` boxes, as streaming recorders write) states no duration in its
    header; its samples are then summed from the fragments' ``trun`` boxes.
    """
    container = video_container(data)
    if container is None:
        raise MediaProbeError("not an MP4 or MOV file (no MP4/QuickTime brand in ftyp)")
    moov = find_box(data, None, "moov")
    if moov is None:
        raise MediaProbeError("the file has no 'moov' box (truncated, or not a finished recording)")
    mvhd = find_box(data, moov, "mvhd")
    if mvhd is None:
        raise MediaProbeError("the file has no movie header ('mvhd')")
    timescale, ticks = _time_fields(data, mvhd)
    seconds = ticks / timescale if timescale and ticks not in (0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF) else None
    video: _Track | None = None
    audio: _Track | None = None
    tracks = [_track(data, trak) for trak in iter_boxes(data, moov.start, moov.end) if trak.kind == "trak"]
    if seconds is None or any(track.samples == 0 for track in tracks):
        totals = _fragment_totals(data, moov)
        tracks = [track.with_fragments(*totals.get(track.track_id, (0, 0))) for track in tracks]
        seconds = seconds or max((track.seconds for track in tracks), default=0.0)
    if not seconds:
        raise MediaProbeError("the movie header gives no duration")
    video = next((track for track in tracks if track.handler == b"vide"), None)
    audio = next((track for track in tracks if track.handler == b"soun"), None)
    return VideoProbe(
        container, seconds,
        video_codec=video.codec if video else None, audio_codec=audio.codec if audio else None,
        fps=video.samples / video.seconds if video and video.samples and video.seconds else None,
        width=video.width if video else None, height=video.height if video else None,
    )


@dataclass(frozen=True)
class _Track:
    track_id: int
    handler: bytes  # vide, soun, ...
    codec: str | None
    timescale: int
    ticks: int
    samples: int
    width: int | None = None
    height: int | None = None

    @property
    def seconds(self) -> float:
        return self.ticks / self.timescale if self.timescale else 0.0

    def with_fragments(self, ticks: int, samples: int) -> _Track:
        if self.samples or not samples:
            return self
        return replace(self, ticks=ticks, samples=samples)


def _track(data: bytes, trak: Box) -> _Track:
    tkhd = find_box(data, trak, "tkhd")
    track_id = struct.unpack_from(">I", data, tkhd.start + (20 if data[tkhd.start] == 1 else 12))[0] if tkhd else 0
    handler = find_box(data, trak, "mdia", "hdlr")
    kind = data[handler.start + 8:handler.start + 12] if handler and handler.end - handler.start >= 12 else b""
    mdhd = find_box(data, trak, "mdia", "mdhd")
    timescale, ticks = _time_fields(data, mdhd) if mdhd else (0, 0)
    stsd = find_box(data, trak, "mdia", "minf", "stbl", "stsd")
    entry = next(iter_boxes(data, stsd.start + 8, stsd.end), None) if stsd and stsd.end - stsd.start >= 8 else None
    width = height = None
    if kind == b"vide" and entry and entry.end - entry.start >= 28:
        width, height = struct.unpack_from(">HH", data, entry.start + 24)
    stts = find_box(data, trak, "mdia", "minf", "stbl", "stts")
    samples = 0
    if stts and stts.end - stts.start >= 8:
        entries = min(struct.unpack_from(">I", data, stts.start + 4)[0], (stts.end - stts.start - 8) // 8)
        samples = sum(struct.unpack_from(">I", data, stts.start + 8 + 8 * i)[0] for i in range(entries))
    return _Track(track_id, kind, entry.kind if entry else None, timescale, ticks, samples, width, height)


def _fragment_totals(data: bytes, moov: Box) -> dict[int, tuple[int, int]]:
    """(ticks, samples) per track id, summed over the ``moof``/``traf``/``trun`` boxes."""
    defaults: dict[int, int] = {}
    mvex = find_box(data, moov, "mvex")
    for trex in (box for box in iter_boxes(data, mvex.start, mvex.end) if box.kind == "trex") if mvex else ():
        track, _, duration = struct.unpack_from(">III", data, trex.start + 4)
        defaults[track] = duration
    totals: dict[int, tuple[int, int]] = {}
    for moof in (box for box in iter_boxes(data) if box.kind == "moof"):
        for traf in (box for box in iter_boxes(data, moof.start, moof.end) if box.kind == "traf"):
            tfhd = find_box(data, traf, "tfhd")
            if tfhd is None:
                continue
            flags = int.from_bytes(data[tfhd.start + 1:tfhd.start + 4], "big")
            (track,) = struct.unpack_from(">I", data, tfhd.start + 4)
            pos = tfhd.start + 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
            default = struct.unpack_from(">I", data, pos)[0] if flags & 0x08 else defaults.get(track, 0)
            ticks, samples = totals.get(track, (0, 0))
            for trun in (box for box in iter_boxes(data, traf.start, traf.end) if box.kind == "trun"):
                run_flags = int.from_bytes(data[trun.start + 1:trun.start + 4], "big")
                (count,) = struct.unpack_from(">I", data, trun.start + 4)
                pos = trun.start + 8 + (4 if run_flags & 0x01 else 0) + (4 if run_flags & 0x04 else 0)
                stride = 4 * bin(run_flags & 0xF00).count("1")
                if run_flags & 0x100:
                    ticks += sum(struct.unpack_from(">I", data, pos + i * stride)[0] for i in range(count))
                else:
                    ticks += default * count
                samples += count
            totals[track] = (ticks, samples)
    return totals
