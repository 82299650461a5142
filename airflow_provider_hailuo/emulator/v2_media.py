"""The v2 media rules (API_V2_NOTES "Media"): decode ``data:`` URLs and uploads, probe what they hold.

Images are opened with Pillow (HEIC/HEIF by their ISO-BMFF ``ispe`` box, which Pillow cannot
decode); videos and audio are probed with PyAV when it is installed (the emulator extra).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import struct
from dataclasses import dataclass

MAX_IMAGE_BYTES = 30 * 1024 * 1024
MAX_VIDEO_BYTES = 50 * 1024 * 1024
MAX_AUDIO_BYTES = 15 * 1024 * 1024
MIN_SIDE, MAX_SIDE = 256, 5760
MIN_ASPECT, MAX_ASPECT = 0.4, 2.5
MIN_MEDIA_SECONDS, MAX_MEDIA_SECONDS = 2.0, 15.0
MIN_FPS, MAX_FPS = 23.976, 60.0

IMAGE_MIMES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/webp", "image/heic", "image/heif"})
VIDEO_MIMES = frozenset({"video/mp4", "video/quicktime", "video/mov"})
AUDIO_MIMES = frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/mp3"})
MIMES = {"image": IMAGE_MIMES, "video": VIDEO_MIMES, "audio": AUDIO_MIMES}
_PIL_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_DATA_URL = re.compile(r"^data:([^;,]*);base64,", re.IGNORECASE)


class MediaError(ValueError):
    """Media the API refuses; the message names the field and the rule."""


@dataclass(frozen=True)
class MediaInfo:
    kind: str  # "image" | "video" | "audio"
    size_bytes: int
    width: int | None = None
    height: int | None = None
    seconds: float | None = None
    fps: float | None = None


def decode_data_url(url: str, kind: str, field: str) -> bytes:
    """The bytes of a ``data:<mime>;base64,`` URL of ``kind``, with the MIME type checked."""
    match = _DATA_URL.match(url)
    if not match:
        raise MediaError(f"invalid params, {field} is not a data:<mime>;base64, URL")
    mime = match.group(1)
    if mime != mime.lower():
        raise MediaError(f"invalid params, {field}: the MIME type {mime} must be lower-case")
    if mime == "audio/mpeg":
        raise MediaError(f"invalid params, {field}: write MP3 audio as data:audio/mp3, not audio/mpeg")
    if mime not in MIMES[kind]:
        raise MediaError(
            f"invalid params, {field}: {mime or 'no MIME type'} is not one of {', '.join(sorted(MIMES[kind]))}"
        )
    try:
        return base64.b64decode(url[match.end() :], validate=True)
    except (binascii.Error, ValueError):
        raise MediaError(f"invalid params, {field} is not valid base64") from None


def kind_of(raw: bytes) -> str | None:
    """Guess the kind of uploaded bytes from their signature."""
    head = raw[:16]
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG")) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if head[4:8] == b"ftyp":
        return "image" if head[8:12] in _HEIF_BRANDS else "video"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio"
    return None


def check_media(raw: bytes, kind: str, field: str) -> MediaInfo:
    """Apply the media rules of ``kind`` to ``raw``; return what was measured."""
    if kind == "image":
        return _check_image(raw, field)
    limit = MAX_VIDEO_BYTES if kind == "video" else MAX_AUDIO_BYTES
    if len(raw) > limit:
        raise MediaError(f"invalid params, {field} is {len(raw)} bytes, larger than {limit // (1024 * 1024)} MB")
    return _probe_av(raw, kind, field)


def _heif_size(raw: bytes) -> tuple[int, int] | None:
    position = raw.find(b"ispe")
    if position < 4 or len(raw) < position + 16:
        return None
    width, height = struct.unpack(">II", raw[position + 8 : position + 16])
    return width, height


def _check_image(raw: bytes, field: str) -> MediaInfo:
    if len(raw) > MAX_IMAGE_BYTES:
        raise MediaError(f"invalid params, {field} is {len(raw)} bytes, larger than 30 MB")
    if raw[4:8] == b"ftyp" and raw[8:12] in _HEIF_BRANDS:
        size = _heif_size(raw)
        if size is None:
            raise MediaError(f"invalid params, {field} is a HEIF file without an image size (ispe)")
    else:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(raw)) as image:
                image_format, size = image.format, image.size
                image.verify()
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise MediaError(f"invalid params, {field} cannot be decoded as an image") from None
        if image_format not in _PIL_FORMATS:
            raise MediaError(f"invalid params, {field} is {image_format}, not JPG, PNG, WEBP, HEIC or HEIF")
    width, height = size
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise MediaError(f"invalid params, {field} is {width}x{height}: each side must be 256-5760 px")
    if not MIN_ASPECT <= width / height <= MAX_ASPECT:
        raise MediaError(f"invalid params, {field} is {width}x{height}: the aspect (w/h) must be 0.4-2.5")
    return MediaInfo("image", len(raw), width=width, height=height)


def _probe_av(raw: bytes, kind: str, field: str) -> MediaInfo:
    try:
        import av
    except ImportError:  # pragma: no cover - without the extra the emulator checks sizes only
        return MediaInfo(kind, len(raw))
    try:
        with av.open(io.BytesIO(raw), mode="r") as container:
            format_names = set(container.format.name.split(","))
            seconds = (container.duration or 0) / 1_000_000
            videos, audios = list(container.streams.video), list(container.streams.audio)
            video_codec = videos[0].codec_context.name if videos else None
            audio_codec = audios[0].codec_context.name if audios else None
            fps = float(videos[0].average_rate) if videos and videos[0].average_rate else None
            width = videos[0].codec_context.width if videos else None
            height = videos[0].codec_context.height if videos else None
    except (av.FFmpegError, ValueError, OSError):
        raise MediaError(f"invalid params, {field} cannot be decoded as {kind}") from None
    if kind == "video":
        if not format_names & {"mp4", "mov"} or video_codec not in ("h264", "hevc"):
            raise MediaError(f"invalid params, {field} must be an MP4/MOV with H.264 or H.265 video")
        if audio_codec is not None and audio_codec not in ("aac", "mp3", "mp3float"):
            raise MediaError(f"invalid params, {field}: audio must be AAC or MP3, got {audio_codec}")
        if fps is None or not MIN_FPS - 0.01 <= fps <= MAX_FPS + 0.01:
            raise MediaError(f"invalid params, {field} is {fps} fps: 23.976-60 fps allowed")
    else:
        if not format_names & {"wav", "mp3"} or videos:
            raise MediaError(f"invalid params, {field} must be WAV or MP3 audio")
    if not MIN_MEDIA_SECONDS - 0.05 <= seconds <= MAX_MEDIA_SECONDS + 0.05:
        raise MediaError(f"invalid params, {field} lasts {seconds:.2f} s: each {kind} must last 2-15 s")
    return MediaInfo(kind, len(raw), width=width, height=height, seconds=seconds, fps=fps)
