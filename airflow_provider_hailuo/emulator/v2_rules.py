"""What ``POST /v2/video_generation`` (and Context-IR, regeneration) accept: API_V2_NOTES "Rules".

The emulator's own reading of the notes, sharing nothing with the provider's checks, so either can
catch the other's mistakes. Every refusal is a ``V2Invalid`` whose message ends up in a 400 (2013).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .v2_media import MediaError, MediaInfo, check_media, decode_data_url
from .v2_video import RATIOS, h3_size, ratio_aspect

MODELS = {"MiniMax-H3": ("768P", "2K"), "MiniMax-H3-Max": ("480P", "768P")}
DURATIONS = {"MiniMax-H3": (4, 15), "MiniMax-H3-Max": (5, 15)}
RATIO_VALUES = ("adaptive", *RATIOS)
MAX_PROMPT_CHARS = 7000
EXPANSION_MODES = ("disabled", "balanced", "quality")
ITEM_TYPES = {"image_url": "image", "video_url": "video", "audio_url": "audio"}
ROLES = {
    "image": ("first_frame", "last_frame", "reference_image"),
    "video": ("reference_video",),
    "audio": ("reference_audio",),
}
FRAME_ROLES = frozenset({"first_frame", "last_frame"})
LIMITS = {"first_frame": 1, "last_frame": 1, "reference_image": 9, "reference_video": 3, "reference_audio": 3}
MAX_FILES = 12
MAX_TOTAL_SECONDS = 15.0
CREATE_FIELDS = frozenset(
    {"model", "content", "resolution", "duration", "ratio", "callback_url", "aigc_watermark", "extra"}
)
CONTEXT_IR_FIELDS = frozenset({"model", "content", "duration", "ratio", "callback_url"})
REGENERATION_FIELDS = frozenset({"model", "source_task_id", "content", "resolution", "callback_url"})

FileLookup = Callable[[str], MediaInfo | None]


class V2Invalid(ValueError):
    """A body the v2 API refuses with 400 (2013)."""


@dataclass
class MediaItem:
    kind: str
    role: str
    url: str
    info: MediaInfo | None


@dataclass
class Inputs:
    prompt: str
    items: list[MediaItem] = field(default_factory=list)

    def role_count(self, role: str) -> int:
        return sum(1 for item in self.items if item.role == role)

    def first(self, role: str) -> MediaItem | None:
        return next((item for item in self.items if item.role == role), None)

    def seconds(self, kind: str) -> float:
        return sum(item.info.seconds or 0.0 for item in self.items if item.kind == kind and item.info)


@dataclass
class V2Request:
    model: str
    duration: int
    resolution: str | None
    ratio: str | None
    width: int
    height: int
    prompt: str
    usage: dict[str, Any]
    inputs: Inputs


def _reject_unknown(body: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise V2Invalid(f"invalid params, unknown field {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")


def _model(body: dict[str, Any], allowed: tuple[str, ...]) -> str:
    model = body.get("model")
    if model not in allowed:
        raise V2Invalid(f"invalid params, model {model!r} is not supported here (allowed: {', '.join(allowed)})")
    return str(model)


def _duration(body: dict[str, Any], model: str) -> int:
    value = body.get("duration")
    low, high = DURATIONS[model]
    if value is None:
        raise V2Invalid("invalid params, duration is required")
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise V2Invalid(f"invalid params, duration {value!r} must be an integer {low}-{high} for {model}")
    return value


def _media(url: Any, kind: str, where: str, lookup: FileLookup) -> MediaInfo | None:
    if not isinstance(url, str) or not url:
        raise V2Invalid(f"invalid params, {where}.url must be a non-empty string")
    if url[:5].lower() == "data:":
        try:
            return check_media(decode_data_url(url, kind, where), kind, where)
        except MediaError as exc:
            raise V2Invalid(str(exc)) from None
    if url.startswith("mm_file://"):
        info = lookup(url[len("mm_file://") :])
        if info is None:
            raise V2Invalid(f"invalid params, {where}: file {url} not found for this account")
        if info.kind != kind:
            raise V2Invalid(f"invalid params, {where}: file {url} holds {info.kind}, not {kind}")
        return info
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise V2Invalid(f"invalid params, {where}.url must be an http(s) URL, a data: URL or mm_file://<file_id>")
    return None  # public URLs are not fetched


def parse_content(content: Any, lookup: FileLookup, *, base_video: bool = False) -> tuple[Inputs, MediaItem | None]:
    """The prompt and media items of ``content``; with ``base_video``, also that one video."""
    if not isinstance(content, list) or not content:
        raise V2Invalid("invalid params, content must be a non-empty list")
    prompts: list[str] = []
    items: list[MediaItem] = []
    bases: list[MediaItem] = []
    for index, item in enumerate(content):
        where = f"content[{index}]"
        if not isinstance(item, dict):
            raise V2Invalid(f"invalid params, {where} must be an object")
        item_type = item.get("type")
        if item_type == "text":
            text = item.get("text")
            if not isinstance(text, str):
                raise V2Invalid(f"invalid params, {where}.text must be a string")
            prompts.append(text)
            continue
        if item_type not in ITEM_TYPES:
            raise V2Invalid(
                f"invalid params, {where}.type {item_type!r} must be text, image_url, video_url or audio_url"
            )
        kind = ITEM_TYPES[item_type]
        holder = item.get(item_type)
        if not isinstance(holder, dict):
            raise V2Invalid(f"invalid params, {where}.{item_type} must be an object with a url")
        role = item.get("role") or ROLES[kind][0]
        if base_video and kind == "video" and role == "base_video":
            bases.append(MediaItem(kind, role, holder.get("url", ""), _media(holder.get("url"), kind, where, lookup)))
            continue
        if role not in ROLES[kind]:
            raise V2Invalid(
                f"invalid params, {where}.role {role!r} for {item_type} must be one of {', '.join(ROLES[kind])}"
            )
        items.append(
            MediaItem(
                kind, role, holder["url"] if "url" in holder else "", _media(holder.get("url"), kind, where, lookup)
            )
        )
    non_empty = [text for text in prompts if text.strip()]
    if len(non_empty) != 1 or len(prompts) != 1:
        raise V2Invalid("invalid params, content must include exactly one non-empty text item (prompt is required)")
    if len(non_empty[0]) > MAX_PROMPT_CHARS:
        raise V2Invalid(f"invalid params, the prompt is {len(non_empty[0])} characters, at most {MAX_PROMPT_CHARS}")
    inputs = Inputs(non_empty[0], items)
    _check_roles(inputs)
    if base_video and len(bases) != 1:
        raise V2Invalid(f"invalid params, content needs exactly one video_url with role base_video, got {len(bases)}")
    return inputs, (bases[0] if bases else None)


def _check_roles(inputs: Inputs) -> None:
    roles = {item.role for item in inputs.items}
    if roles & FRAME_ROLES and roles - FRAME_ROLES:
        raise V2Invalid("invalid params, frame roles (first_frame, last_frame) and reference roles cannot be mixed")
    for role, limit in LIMITS.items():
        if inputs.role_count(role) > limit:
            raise V2Invalid(f"invalid params, at most {limit} {role} item(s), got {inputs.role_count(role)}")
    if len(inputs.items) > MAX_FILES:
        raise V2Invalid(f"invalid params, at most {MAX_FILES} media items in all, got {len(inputs.items)}")
    if "last_frame" in roles and "first_frame" not in roles:
        raise V2Invalid("invalid params, a last_frame needs a first_frame")
    if "reference_audio" in roles and not roles & {"reference_image", "reference_video"}:
        raise V2Invalid("invalid params, reference_audio needs a reference_image or a reference_video")
    for kind in ("video", "audio"):
        if inputs.seconds(kind) > MAX_TOTAL_SECONDS + 0.05:
            raise V2Invalid(f"invalid params, the {kind} inputs last {inputs.seconds(kind):.2f} s, at most 15 s in all")


def _ratio(body: dict[str, Any], inputs: Inputs, *, required_for_text: bool) -> str:
    ratio = body.get("ratio", "adaptive")
    if ratio not in RATIO_VALUES:
        raise V2Invalid(f"invalid params, ratio {ratio!r} must be one of {', '.join(RATIO_VALUES)}")
    if not inputs.items and required_for_text and ratio == "adaptive":
        raise V2Invalid("invalid params, a text-only request needs a ratio other than adaptive (e.g. 16:9)")
    if inputs.first("first_frame") is not None:
        return "adaptive"  # with frames the ratio is always adaptive
    return str(ratio)


def output_aspect(ratio: str, inputs: Inputs, fallback: MediaInfo | None = None) -> float:
    """Width/height of the output: the ratio, else the first frame's (or a reference's) aspect."""
    if ratio in RATIOS:
        return ratio_aspect(ratio)
    candidates = [inputs.first("first_frame"), inputs.first("reference_image"), inputs.first("reference_video")]
    for item in candidates:
        if item is not None and item.info is not None and item.info.width and item.info.height:
            return item.info.width / item.info.height
    if fallback is not None and fallback.width and fallback.height:
        return fallback.width / fallback.height
    return 16 / 9


def _usage(inputs: Inputs, duration: int) -> dict[str, Any]:
    input_seconds = round(inputs.seconds("video"))
    usage: dict[str, Any] = {
        "total_seconds": duration + input_seconds,
        "input_seconds": input_seconds,
        "output_seconds": duration,
        "input_image_count": sum(1 for item in inputs.items if item.kind == "image"),
    }
    if any(item.kind == "audio" for item in inputs.items):
        usage["input_audio_seconds"] = round(inputs.seconds("audio"))
    return usage


def _common(body: dict[str, Any]) -> None:
    callback = body.get("callback_url")
    if callback is not None:
        parts = urlsplit(callback) if isinstance(callback, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise V2Invalid("invalid params, callback_url must be an http(s) URL")
    if "aigc_watermark" in body and not isinstance(body["aigc_watermark"], bool):
        raise V2Invalid("invalid params, aigc_watermark must be a boolean")


def validate_create(body: dict[str, Any], lookup: FileLookup) -> V2Request:
    _reject_unknown(body, CREATE_FIELDS)
    model = _model(body, tuple(MODELS))
    inputs, _ = parse_content(body.get("content"), lookup)
    resolution = body.get("resolution")
    if resolution is None:
        raise V2Invalid("invalid params, resolution is required")
    if not isinstance(resolution, str) or resolution.upper() not in MODELS[model]:
        raise V2Invalid(
            f"invalid params, resolution {resolution!r} must be one of {', '.join(MODELS[model])} for {model}"
        )
    resolution = resolution.upper()
    duration = _duration(body, model)
    ratio = _ratio(body, inputs, required_for_text=True)
    extra = body.get("extra")
    if extra is not None:
        if model != "MiniMax-H3-Max":
            raise V2Invalid("invalid params, extra (prompt_expansion_mode) is for MiniMax-H3-Max only")
        if not isinstance(extra, dict) or set(extra) - {"prompt_expansion_mode"}:
            raise V2Invalid('invalid params, extra must be {"prompt_expansion_mode": ...}')
        if extra.get("prompt_expansion_mode") not in EXPANSION_MODES:
            raise V2Invalid(f"invalid params, extra.prompt_expansion_mode must be one of {', '.join(EXPANSION_MODES)}")
    _common(body)
    width, height = h3_size(resolution, output_aspect(ratio, inputs))
    return V2Request(model, duration, resolution, ratio, width, height, inputs.prompt, _usage(inputs, duration), inputs)


def validate_context_ir(body: dict[str, Any], lookup: FileLookup) -> V2Request:
    _reject_unknown(body, CONTEXT_IR_FIELDS)
    model = _model(body, ("MiniMax-H3",))
    inputs, _ = parse_content(body.get("content"), lookup)
    duration = _duration(body, model)
    ratio = _ratio(body, inputs, required_for_text=False)
    _common(body)
    return V2Request(model, duration, None, ratio, 0, 0, inputs.prompt, {}, inputs)


def validate_regeneration_content(body: dict[str, Any], lookup: FileLookup) -> tuple[V2Request, MediaItem]:
    """The ``content`` form: the original inputs plus exactly one ``base_video``."""
    model = _model(body, ("MiniMax-H3",))
    inputs, base = parse_content(body.get("content"), lookup, base_video=True)
    assert base is not None
    seconds = base.info.seconds if base.info is not None and base.info.seconds else 6.0
    duration = max(1, round(seconds))
    aspect = output_aspect("adaptive", Inputs(inputs.prompt), base.info)
    width, height = h3_size("2K", aspect)
    usage = {"total_seconds": duration, "input_seconds": 0, "output_seconds": duration, "input_image_count": 0}
    return V2Request(model, duration, "2K", "adaptive", width, height, inputs.prompt, usage, inputs), base


def check_regeneration_shape(body: dict[str, Any]) -> str:
    """'source' or 'content'; both or neither is a 400."""
    _reject_unknown(body, REGENERATION_FIELDS)
    _model(body, ("MiniMax-H3",))
    has_source, has_content = body.get("source_task_id") is not None, body.get("content") is not None
    if has_source == has_content:
        raise V2Invalid(
            "invalid params, send either source_task_id or content (with one base_video), not both or neither"
        )
    if body.get("resolution") != "2K":
        raise V2Invalid(f"invalid params, resolution {body.get('resolution')!r} must be 2K for a regeneration")
    _common(body)
    return "source" if has_source else "content"
