"""Media inputs of a MiniMax-H3 request: where each comes from, whether v2 takes it, how it is sent.

An input is an https URL or an ``mm_file://`` id (sent as is: the vendor fetches or already has
it; plain http is refused), a ``data:`` URL (checked, sent as is with its MIME type lower-cased), a local path /
``file://`` URI, or an object-storage URI read through the injected ``read_object`` (as
:mod:`core.images` does for v1). What we can read is checked like v2 checks it (API_V2_NOTES
"Media"): format by content, size, pixel size and aspect, duration and frame rate.

Local bytes are not turned into ``data:`` URLs here: :func:`plan_transfer` decides, for the whole
request, which ones are inlined and which ones must go through ``POST /v1/files/upload`` first
(:attr:`MediaItem.needs_upload`), so the request body stays within v2's 64 MB.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import posixpath
from dataclasses import dataclass, field, replace
from urllib.parse import unquote, urlparse

from airflow_provider_hailuo.core import audio_probe
from airflow_provider_hailuo.core import media_probe as probe
from airflow_provider_hailuo.core.images import _DATA_URL, ALLOWED_FORMATS, ReadObject, describe, image_source_kind
from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError

MiB = 1024 * 1024
MAX_BYTES = {"image": 30 * MiB, "video": 50 * MiB, "audio": 15 * MiB}
MIN_SIDE, MAX_SIDE = 256, 5760
MIN_ASPECT, MAX_ASPECT = 0.4, 2.5
MIN_SECONDS, MAX_SECONDS = 2.0, 15.0
#: Containers pad the end (AAC priming, edit lists): a clip cut at 15 s often measures 15.02 s.
SECONDS_TOLERANCE = 0.05
MIN_FPS, MAX_FPS = 23.976, 60.0
MAX_BODY_BYTES = 64 * MiB
#: Local media above this go through /v1/files/upload even when they would fit in the body: the
#: create call is not idempotent, so it should stay small enough to send quickly and whole.
DEFAULT_INLINE_MAX_BYTES = 10 * MiB
UPLOAD_PURPOSE = "video_generation_input"
_AUDIO_CODECS_IN_VIDEO = frozenset({"mp4a", ".mp3", "mp3 "})
_MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "heic": "image/heic",
         "heif": "image/heif", "mp4": "video/mp4", "mov": "video/quicktime", "wav": "audio/wav",
         "mp3": "audio/mp3"}
#: MIME spellings MiniMax's CLI rewrites before sending (it documents audio/mp3 only).
_MIME_ALIASES = {"audio/mpeg": "audio/mp3", "audio/x-wav": "audio/wav", "audio/wave": "audio/wav",
                 "image/jpg": "image/jpeg"}


@dataclass(frozen=True)
class MediaUpload:
    """Bytes to send through ``POST /v1/files/upload`` (purpose ``video_generation_input``)."""

    filename: str
    mime: str
    data: bytes = field(repr=False)
    purpose: str = UPLOAD_PURPOSE


@dataclass(frozen=True)
class MediaItem:
    """One checked media input. Exactly one of ``url`` and ``upload`` is set once planned."""

    kind: str  # image, video or audio
    role: str  # first_frame, last_frame, reference_image, reference_video, reference_audio
    parameter: str  # the operator argument it came from
    source: str  # printable description of what the user gave (never a whole data: URL)
    url: str | None = None  # https URL, data: URL or mm_file://<file_id>
    upload: MediaUpload | None = None
    size: int | None = None  # bytes, when we have them
    duration: float | None = None  # seconds (video, audio)
    width: int | None = None
    height: int | None = None

    @property
    def needs_upload(self) -> bool:
        return self.url is None

    def with_file_id(self, file_id: str) -> MediaItem:
        """The item once its bytes were uploaded: sent as ``mm_file://<file_id>``."""
        if not isinstance(file_id, str) or not file_id.strip():
            raise ValueError(f"file_id must be a non-empty string; got {file_id!r}")
        return replace(self, url=f"mm_file://{file_id.strip()}", upload=None)

    def inline(self) -> MediaItem:
        """The item with its bytes as a ``data:`` URL."""
        if self.upload is None:
            return self
        encoded = base64.b64encode(self.upload.data).decode("ascii")
        return replace(self, url=f"data:{self.upload.mime};base64,{encoded}", upload=None)


def _refuse(parameter: str, message: str, value: object) -> HailuoInvalidRequestError:
    return HailuoInvalidRequestError(f"{parameter}: {message}", parameter=parameter, value=value)


def normalise_mime(mime: str) -> str:
    lowered = mime.strip().lower()
    return _MIME_ALIASES.get(lowered, lowered)


# --- checks on bytes ----------------------------------------------------------------------------

def check_size(data_size: int, kind: str, parameter: str, source: str) -> None:
    limit = MAX_BYTES[kind]
    if data_size > limit:
        raise _refuse(parameter, f"{kind} {source} is {data_size:,} bytes; MiniMax-H3 takes {kind}s of at most "
                      f"{limit // MiB} MB ({limit:,} bytes).", source)


def check_image(data: bytes, parameter: str, source: str) -> tuple[str, int, int]:
    """(format, width, height) of an image v2 will take; HEIC/HEIF sizes come from ``ispe``."""
    check_size(len(data), "image", parameter, source)
    if probe.heif_format(data):
        try:
            heif = probe.probe_heif(data)
        except probe.MediaProbeError as exc:
            raise _refuse(parameter, f"{source} is not a readable HEIF/HEIC image: {exc}.", source) from None
        fmt, width, height = heif.format, heif.width, heif.height
    else:
        from PIL import Image, UnidentifiedImageError  # imported here: not needed at DAG parse time

        try:
            with Image.open(io.BytesIO(data)) as image:
                pil_format, (width, height) = image.format or "", image.size
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise _refuse(parameter, f"{source} is not a readable image ({exc.__class__.__name__}). Allowed "
                          "formats: JPG/JPEG, PNG, WEBP, HEIC, HEIF.", source) from None
        if pil_format not in ALLOWED_FORMATS:
            raise _refuse(parameter, f"{source} is a {pil_format or 'unknown'} image; allowed formats: JPG/JPEG, "
                          "PNG, WEBP, HEIC, HEIF.", source)
        fmt = ALLOWED_FORMATS[pil_format]
    for side_name, side in (("width", width), ("height", height)):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise _refuse(parameter, f"{source} is {width}x{height} px; its {side_name} must be {MIN_SIDE}-{MAX_SIDE} "
                          "px.", source)
    aspect = width / height
    if not MIN_ASPECT <= aspect <= MAX_ASPECT:
        raise _refuse(parameter, f"{source} is {width}x{height} px (aspect {aspect:.2f}); the aspect ratio "
                      f"(width/height) must be {MIN_ASPECT}-{MAX_ASPECT}.", source)
    return fmt, width, height


def check_seconds(duration: float, kind: str, parameter: str, source: str) -> None:
    if not MIN_SECONDS - SECONDS_TOLERANCE <= duration <= MAX_SECONDS + SECONDS_TOLERANCE:
        raise _refuse(parameter, f"{kind} {source} lasts {duration:.2f} s; MiniMax-H3 takes {kind}s of "
                      f"{MIN_SECONDS:g}-{MAX_SECONDS:g} s.", source)


def check_video(data: bytes, parameter: str, source: str) -> probe.VideoProbe:
    check_size(len(data), "video", parameter, source)
    try:
        info = probe.probe_video(data)
    except probe.MediaProbeError as exc:
        raise _refuse(parameter, f"{source} is not a readable MP4/MOV video: {exc}.", source) from None
    if info.video_codec is None:
        raise _refuse(parameter, f"{source} has no video track; give an MP4/MOV with H.264 or H.265 video.", source)
    if info.video_codec not in probe.H264_H265_ENTRIES:
        raise _refuse(parameter, f"{source} holds {info.video_codec.strip()!r} video; MiniMax-H3 takes H.264 "
                      "(avc1) or H.265 (hvc1/hev1).", source)
    if info.audio_codec is not None and info.audio_codec not in _AUDIO_CODECS_IN_VIDEO:
        raise _refuse(parameter, f"{source} holds {info.audio_codec.strip()!r} audio; MiniMax-H3 takes AAC or MP3 "
                      "audio in videos.", source)
    if info.fps is not None and not MIN_FPS - 0.01 <= info.fps <= MAX_FPS + 0.01:
        raise _refuse(parameter, f"{source} runs at {info.fps:.3f} fps; MiniMax-H3 takes {MIN_FPS}-{MAX_FPS:g} fps.",
                      source)
    check_seconds(info.duration, "video", parameter, source)
    return info


def check_audio(data: bytes, parameter: str, source: str) -> audio_probe.AudioProbe:
    check_size(len(data), "audio", parameter, source)
    try:
        info = audio_probe.probe_audio(data)
    except probe.MediaProbeError as exc:
        raise _refuse(parameter, f"{source} is not a readable WAV/MP3 file: {exc}.", source) from None
    check_seconds(info.duration, "audio", parameter, source)
    return info


def checked_item(data: bytes, kind: str, role: str, parameter: str, source: str, filename: str) -> MediaItem:
    """Check bytes of the given kind; the item holds them for :func:`plan_transfer` to place."""
    duration = width = height = None
    if kind == "image":
        fmt, width, height = check_image(data, parameter, source)
    elif kind == "video":
        video = check_video(data, parameter, source)
        fmt, duration, width, height = video.container, video.duration, video.width, video.height
    else:
        audio = check_audio(data, parameter, source)
        fmt, duration = audio.format, audio.duration
    upload = MediaUpload(filename=filename or f"{role}.{fmt}", mime=_MIME[fmt], data=data)
    return MediaItem(kind, role, parameter, source, upload=upload, size=len(data), duration=duration,
                     width=width, height=height)


# --- sources -------------------------------------------------------------------------------------

def resolve_media(value: object, kind: str, role: str, parameter: str,
                  read_object: ReadObject | None = None) -> MediaItem:
    """Check one media input (``kind`` image, video or audio) and say how it will be sent."""
    if not isinstance(value, str) or not value.strip():
        raise _refuse(parameter, f"each {kind} must be an https URL, a data: URL, an mm_file:// id, a local "
                      f"path or an object-storage URI; got {describe(value)}.", describe(value))
    value = value.strip()
    if value[:10].lower() == "mm_file://":
        if not value[10:].strip("/"):
            raise _refuse(parameter, f"{value!r} has no file id after mm_file://.", value)
        return MediaItem(kind, role, parameter, repr(value), url=value)
    source_kind = image_source_kind(value)
    if source_kind == "url":
        parsed = urlparse(value)
        if not parsed.netloc:
            raise _refuse(parameter, f"{value!r} is not a complete URL (no host).", value)
        if parsed.scheme.lower() != "https":
            # As core.images does for v1: the vendor would fetch it in clear, where it can be swapped.
            raise _refuse(parameter, f"{value!r} is a plain http:// URL; media URLs must be https://. Give an https "
                          "URL, or a local path, a data: URL or an object-storage URI.", value)
        return MediaItem(kind, role, parameter, repr(value), url=value)
    if source_kind == "data":
        return _resolve_data_url(value, kind, role, parameter)
    if source_kind == "path":
        data = _read_local(value, kind, parameter)
    elif source_kind == "object":
        data = _read_object(value, kind, parameter, read_object)
    else:
        raise _refuse(parameter, f"{value!r} has an unsupported scheme {urlparse(value).scheme!r}. Give an https "
                      "URL, a data: URL, an mm_file:// id, a local path or an object-storage URI.", value)
    filename = posixpath.basename(unquote(urlparse(value).path) if "://" in value else value.replace("\\", "/"))
    return checked_item(data, kind, role, parameter, repr(value), filename)


def _resolve_data_url(value: str, kind: str, role: str, parameter: str) -> MediaItem:
    source = describe(value)
    match = _DATA_URL.match(value)
    mime = normalise_mime(match.group("mime") or "") if match else ""
    if not match or not match.group("b64") or not mime.startswith(f"{kind}/"):
        raise _refuse(parameter, f"{source} is not a base64 {kind} data URL; expected data:{kind}/<format>;"
                      "base64,<data>.", source)
    payload = value[match.end():]
    check_size(len(payload) * 3 // 4 - 2, kind, parameter, source)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(parameter, f"{source} does not hold valid base64 data.", source) from None
    item = checked_item(data, kind, role, parameter, source, "")
    assert item.upload is not None  # checked_item always holds the bytes
    if item.upload.mime != mime:
        raise _refuse(parameter, f"{source} says {mime} but holds {item.upload.mime} data.", source)
    # Sent as given (the author chose to inline it), with the MIME type spelled the way v2 wants.
    return replace(item, url=f"data:{mime}{match.group('params') or ''};base64,{payload}", upload=None)


def _read_local(value: str, kind: str, parameter: str) -> bytes:
    path = os.path.expanduser(unquote(urlparse(value).path) if value[:5].lower() == "file:" else value)
    if not os.path.isfile(path):
        raise _refuse(parameter, f"{value!r} is not an https URL, a data: URL, an mm_file:// id or an "
                      f"object-storage URI, and no local file exists at that path.", value)
    check_size(os.path.getsize(path), kind, parameter, repr(value))
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_BYTES[kind] + 1)
    except OSError as exc:
        raise _refuse(parameter, f"cannot read {kind} file {value!r}: {exc.strerror or exc}.", value) from None


def _read_object(value: str, kind: str, parameter: str, read_object: ReadObject | None) -> bytes:
    if read_object is None:
        raise _refuse(parameter, f"{value!r} is an object-storage URI, which can only be read inside Airflow "
                      "(through ObjectStoragePath).", value)
    try:
        return read_object(value, MAX_BYTES[kind])
    except HailuoInvalidRequestError:
        raise
    except Exception as exc:
        raise _refuse(parameter, f"cannot read {kind} {value!r} from object storage: "
                      f"{exc.__class__.__name__}: {exc}", value) from None


# --- the request body ---------------------------------------------------------------------------

#: JSON around one content item: {"type": "video_url", "video_url": {"url": ""}, "role": "reference_video"}.
_ITEM_OVERHEAD = 96
_BODY_OVERHEAD = 512  # model, resolution, duration, ratio, extra, callback_url


def inline_size(item: MediaItem) -> int:
    """Characters the item's URL takes in the JSON body once planned (local bytes inlined)."""
    if item.url is not None:
        return len(item.url)
    assert item.upload is not None  # an unplanned item holds its bytes
    return len(f"data:{item.upload.mime};base64,") + 4 * ((len(item.upload.data) + 2) // 3)


def body_size(prompt: str, items: list[MediaItem] | tuple[MediaItem, ...]) -> int:
    """Bytes of the create body with these items as they stand (pending uploads count as mm_file ids)."""
    media = sum(len(item.url) if item.url is not None else 40 for item in items)
    return _BODY_OVERHEAD + len(json.dumps(prompt)) + media + _ITEM_OVERHEAD * len(items)


def plan_transfer(prompt: str, items: list[MediaItem],
                  inline_max_bytes: int = DEFAULT_INLINE_MAX_BYTES) -> list[MediaItem]:
    """Inline the local media that fit, mark the rest "needs upload"; refuse a body over 64 MB.

    The largest local items are moved to the upload path first, until the body fits.
    """
    planned = [
        item.inline() if item.upload is not None and len(item.upload.data) <= inline_max_bytes else item
        for item in items
    ]
    while body_size(prompt, planned) > MAX_BODY_BYTES:
        inlined_local = [i for i, item in enumerate(planned)
                         if items[i].upload is not None and planned[i].url is not None]
        if not inlined_local:
            break
        largest = max(inlined_local, key=lambda i: inline_size(planned[i]))
        planned[largest] = items[largest]
    total = body_size(prompt, planned)
    if total > MAX_BODY_BYTES:
        biggest = max(planned, key=lambda item: len(item.url or ""))
        raise HailuoInvalidRequestError(
            f"{biggest.parameter}: the request body would be {total / MiB:.1f} MB; MiniMax-H3 takes at most "
            f"{MAX_BODY_BYTES // MiB} MB (base64 adds a third to inlined media). Give the largest media ("
            f"{biggest.source}) as an https URL, an mm_file:// id, or a local path or object-storage URI "
            "(those are uploaded first) instead of a data: URL.",
            parameter=biggest.parameter,
            value=biggest.source,
        )
    return planned
