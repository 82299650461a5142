"""``H3Request``: one validated MiniMax-H3 / H3-Max request for MiniMax's video API v2.

``H3Request.build(...)`` takes the operator's parameters, works out the mode from the inputs,
checks every rule of API_V2_NOTES ("Create", "Rules", "Media") and either returns a request safe
to send or raises :class:`HailuoInvalidRequestError` naming the parameter, the value and what is
allowed. :func:`check_options_for_model` refuses v1-only options with an H3 model and v2-only
options with a v1 model, so the operator can call it before choosing an API. No network I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from airflow_provider_hailuo.core import cost
from airflow_provider_hailuo.core.images import ReadObject, describe
from airflow_provider_hailuo.core.media import (
    DEFAULT_INLINE_MAX_BYTES,
    MAX_SECONDS,
    MediaItem,
    plan_transfer,
    resolve_media,
)
from airflow_provider_hailuo.core.models import Mode
from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError


@dataclass(frozen=True)
class H3Model:
    name: str
    durations: range
    resolutions: tuple[str, ...]
    prompt_expansion: bool


H3_MODELS: dict[str, H3Model] = {
    model.name: model
    for model in (
        H3Model("MiniMax-H3", range(4, 16), ("768P", "2K"), prompt_expansion=False),
        H3Model("MiniMax-H3-Max", range(5, 16), ("480P", "768P"), prompt_expansion=True),
    )
}
#: 5 s is valid for both models (H3-Max starts at 5), the docs' sample and the CLI's default.
DEFAULT_DURATION = 5
#: 768P exists on both models and is the cheaper H3 rate; 2K is asked for, never assumed.
DEFAULT_RESOLUTION = "768P"
RATIOS = ("adaptive", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
TEXT_DEFAULT_RATIO = "16:9"
PROMPT_EXPANSION_MODES = ("disabled", "balanced", "quality")
MAX_PROMPT_CHARS = 7000
MAX_REFERENCE_IMAGES, MAX_REFERENCE_VIDEOS, MAX_REFERENCE_AUDIOS, MAX_FILES = 9, 3, 3, 12

#: Options only v1 (Hailuo) models take, and options only v2 (H3) models take.
V1_ONLY_OPTIONS = ("subject_reference", "prompt_optimizer", "fast_pretreatment")
V2_ONLY_OPTIONS = ("ratio", "reference_images", "reference_videos", "reference_audios", "prompt_expansion_mode")
#: (operator argument, media kind, content role) of each list of references.
REFERENCE_INPUTS = (("reference_images", "image", "reference_image"), ("reference_videos", "video", "reference_video"),
                    ("reference_audios", "audio", "reference_audio"))


def is_h3_model(model: object) -> bool:
    """Whether the model name is an H3 one (any letter case), i.e. belongs to the v2 API."""
    return isinstance(model, str) and model.strip().lower() in {name.lower() for name in H3_MODELS}


def api_for_model(model: object) -> str:
    return "v2" if is_h3_model(model) else "v1"


def _is_set(value: object) -> bool:
    return value is not None and not (isinstance(value, (list, tuple)) and not value)


def check_options_for_model(model: object, options: Mapping[str, object]) -> None:
    """Refuse options of the other API: v1-only with an H3 model, v2-only with a v1 model."""
    h3 = is_h3_model(model)
    foreign = V1_ONLY_OPTIONS if h3 else V2_ONLY_OPTIONS
    for name in foreign:
        if _is_set(options.get(name)):
            where = ("MiniMax-H3 models (video API v2)" if h3
                     else "v1 (Hailuo) models; they are MiniMax-H3 options (model 'MiniMax-H3' or 'MiniMax-H3-Max')")
            allowed = ", ".join(V2_ONLY_OPTIONS if h3 else V1_ONLY_OPTIONS)
            raise HailuoInvalidRequestError(
                f"{name}={describe(options[name])} is not available for {where}, and model is {model!r}. "
                f"Leave {name} unset; options of this model's API are the common ones plus: {allowed}.",
                parameter=name,
                value=describe(options[name]),
            )


def check_model_for_vendor(vendor: str, model: object) -> None:
    """H3 is served by MiniMax only; DMXAPI and Modelverse connections refuse it before sending."""
    if vendor != "minimax" and is_h3_model(model):
        raise HailuoInvalidRequestError(
            f"model {model!r} is served only by MiniMax's video API v2; a {vendor} connection cannot send it. "
            "Use a hailuo_minimax connection, or a Hailuo model (e.g. 'MiniMax-Hailuo-2.3') on this one.",
            parameter="model",
            value=model,
        )


def get_h3_model(model: object) -> H3Model:
    if isinstance(model, str) and model.strip() in H3_MODELS:
        return H3_MODELS[model.strip()]
    hint = next((name for name in H3_MODELS if isinstance(model, str) and name.lower() == model.strip().lower()),
                None)
    raise HailuoInvalidRequestError(
        f"model {model!r} is not a MiniMax-H3 model." + (f" Did you mean {hint!r}? (the case matters)" if hint else "")
        + f" Allowed: {', '.join(H3_MODELS)}.",
        parameter="model",
        value=model,
    )


def _check_prompt(prompt: object) -> str:
    if prompt is not None and not isinstance(prompt, str):
        raise HailuoInvalidRequestError(
            f"prompt must be a string; got {type(prompt).__name__} {describe(prompt)}.",
            parameter="prompt",
            value=describe(prompt),
        )
    if not isinstance(prompt, str) or not prompt.strip():
        raise HailuoInvalidRequestError(
            f"prompt is required for MiniMax-H3 in every mode (one non-empty text of up to {MAX_PROMPT_CHARS} "
            f"characters); got {describe(prompt)}.",
            parameter="prompt",
            value=describe(prompt),
        )
    if len(prompt) > MAX_PROMPT_CHARS:
        raise HailuoInvalidRequestError(
            f"prompt is {len(prompt)} characters long; MiniMax-H3 takes at most {MAX_PROMPT_CHARS}. "
            f"It begins {prompt[:60]!r}.",
            parameter="prompt",
            value=prompt[:60],
        )
    return prompt


def _check_duration(model: H3Model, duration: object) -> int:
    if duration is None:
        return DEFAULT_DURATION
    if isinstance(duration, str) and duration.strip().isdigit():
        duration = int(duration.strip())
    if isinstance(duration, float) and duration.is_integer():
        duration = int(duration)
    allowed = f"a whole number of seconds from {model.durations.start} to {model.durations.stop - 1}"
    if isinstance(duration, bool) or not isinstance(duration, int) or duration not in model.durations:
        raise HailuoInvalidRequestError(
            f"duration {duration!r} is not available for {model.name}; allowed: {allowed}.",
            parameter="duration",
            value=duration,
        )
    return duration


def _check_resolution(model: H3Model, resolution: object) -> str:
    if resolution is None:
        return DEFAULT_RESOLUTION
    text = str(resolution).strip().upper() if isinstance(resolution, (str, int)) and not isinstance(
        resolution, bool) else ""
    if text.isdigit():
        text += "P"
    if text not in model.resolutions:
        raise HailuoInvalidRequestError(
            f"resolution {resolution!r} is not available for {model.name}; allowed: {', '.join(model.resolutions)}.",
            parameter="resolution",
            value=resolution,
        )
    return text


def _check_ratio(ratio: object, mode: Mode) -> str:
    if ratio is None:
        return TEXT_DEFAULT_RATIO if mode is Mode.TEXT else "adaptive"
    text = ratio.strip().lower() if isinstance(ratio, str) else None
    if text not in RATIOS:
        raise HailuoInvalidRequestError(
            f"ratio {ratio!r} is not a MiniMax-H3 aspect ratio; allowed: {', '.join(RATIOS)}.",
            parameter="ratio",
            value=ratio,
        )
    if mode is Mode.TEXT and text == "adaptive":
        raise HailuoInvalidRequestError(
            "ratio 'adaptive' needs an image or a video to adapt to; a text-only request takes one of "
            f"{', '.join(RATIOS[1:])} (unset means {TEXT_DEFAULT_RATIO}).",
            parameter="ratio",
            value=ratio,
        )
    if mode in (Mode.IMAGE, Mode.FIRST_LAST_FRAME) and text != "adaptive":
        # v2 ignores it and follows the frame: refusing beats paying for a video of another shape.
        raise HailuoInvalidRequestError(
            f"ratio {ratio!r} cannot be used with first_frame_image/last_frame_image: the video takes the frame's "
            "shape (ratio 'adaptive'). Leave ratio unset, or crop the frame to the shape you want.",
            parameter="ratio",
            value=ratio,
        )
    return text


def _check_expansion(model: H3Model, mode: object) -> str | None:
    if mode is None:
        return None
    if not model.prompt_expansion:
        raise HailuoInvalidRequestError(
            f"prompt_expansion_mode is only available for MiniMax-H3-Max; model is {model.name!r}. Leave it unset.",
            parameter="prompt_expansion_mode",
            value=mode,
        )
    text = mode.strip().lower() if isinstance(mode, str) else None
    if text not in PROMPT_EXPANSION_MODES:
        raise HailuoInvalidRequestError(
            f"prompt_expansion_mode {mode!r} is not known; allowed: {', '.join(PROMPT_EXPANSION_MODES)}.",
            parameter="prompt_expansion_mode",
            value=mode,
        )
    return text


def _as_list(name: str, value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return list(value)
    raise HailuoInvalidRequestError(
        f"{name} must be a list of media (https URL, data: URL, mm_file:// id, local path or object-storage URI); "
        f"got {describe(value)}.",
        parameter=name,
        value=describe(value),
    )


def infer_h3_mode(first_frame_image: object, last_frame_image: object, references: Mapping[str, list[object]]) -> Mode:
    """Text, first frame (image), first+last frame, or reference; refuse what v2 cannot combine."""
    given = [name for name, _, _ in REFERENCE_INPUTS if references[name]]
    frames = first_frame_image is not None or last_frame_image is not None
    if frames and given:
        frame_name = "first_frame_image" if first_frame_image is not None else "last_frame_image"
        raise HailuoInvalidRequestError(
            f"{given[0]} cannot be combined with {frame_name}: MiniMax-H3 takes either frames (first, optionally "
            "last) or references (images, videos, audios), not both.",
            parameter=given[0],
            value=describe(references[given[0]]),
        )
    if last_frame_image is not None and first_frame_image is None:
        raise HailuoInvalidRequestError(
            "last_frame_image was given without first_frame_image: MiniMax-H3 pairs a last frame with a first "
            "frame. Give both, or give the image as first_frame_image.",
            parameter="last_frame_image",
            value=describe(last_frame_image),
        )
    if given:
        return Mode.REFERENCE
    if first_frame_image is not None:
        return Mode.FIRST_LAST_FRAME if last_frame_image is not None else Mode.IMAGE
    return Mode.TEXT


def _check_counts(references: Mapping[str, list[object]]) -> None:
    limits = {"reference_images": MAX_REFERENCE_IMAGES, "reference_videos": MAX_REFERENCE_VIDEOS,
              "reference_audios": MAX_REFERENCE_AUDIOS}
    total = 0
    for name, limit in limits.items():
        count = len(references[name])
        if count > limit:
            raise HailuoInvalidRequestError(
                f"{name} holds {count} items; MiniMax-H3 takes at most {limit}.", parameter=name, value=count
            )
        total += count
        if total > MAX_FILES:
            raise HailuoInvalidRequestError(
                f"{name}: the request holds {total} reference files; MiniMax-H3 takes at most {MAX_FILES} in all "
                f"(up to {MAX_REFERENCE_IMAGES} images, {MAX_REFERENCE_VIDEOS} videos, {MAX_REFERENCE_AUDIOS} audios).",
                parameter=name,
                value=total,
            )
    if references["reference_audios"] and not (references["reference_images"] or references["reference_videos"]):
        raise HailuoInvalidRequestError(
            "reference_audios needs at least one reference image or reference video beside it (MiniMax-H3 "
            "puts the sound to a picture); add reference_images or reference_videos.",
            parameter="reference_audios",
            value=len(references["reference_audios"]),
        )


def _check_total_seconds(items: list[MediaItem]) -> None:
    for kind, parameter in (("video", "reference_videos"), ("audio", "reference_audios")):
        total = sum(item.duration or 0.0 for item in items if item.kind == kind)
        if total > MAX_SECONDS + 0.05:
            raise HailuoInvalidRequestError(
                f"{parameter} last {total:.2f} s together; MiniMax-H3 takes at most {MAX_SECONDS:g} s of "
                f"reference {kind} in all.",
                parameter=parameter,
                value=round(total, 2),
            )


@dataclass(frozen=True)
class H3Request:
    """A v2 request that passed every local check. ``media`` is in content order, as sent."""

    model: str
    mode: Mode
    prompt: str
    duration: int
    resolution: str
    ratio: str
    media: tuple[MediaItem, ...] = ()
    prompt_expansion_mode: str | None = None
    aigc_watermark: bool | None = None

    @classmethod
    def build(
        cls,
        *,
        model: object,
        prompt: object,
        duration: object = None,
        resolution: object = None,
        ratio: object = None,
        first_frame_image: object = None,
        last_frame_image: object = None,
        reference_images: object = None,
        reference_videos: object = None,
        reference_audios: object = None,
        prompt_expansion_mode: object = None,
        aigc_watermark: object = None,
        read_object: ReadObject | None = None,
        inline_max_bytes: int = DEFAULT_INLINE_MAX_BYTES,
    ) -> H3Request:
        spec = get_h3_model(model)
        text = _check_prompt(prompt)
        seconds = _check_duration(spec, duration)
        size = _check_resolution(spec, resolution)
        expansion = _check_expansion(spec, prompt_expansion_mode)
        if aigc_watermark is not None and not isinstance(aigc_watermark, bool):
            raise HailuoInvalidRequestError(
                f"aigc_watermark must be true, false or unset; got {aigc_watermark!r}.",
                parameter="aigc_watermark", value=aigc_watermark,
            )
        references = {name: _as_list(name, value) for name, value in (
            ("reference_images", reference_images), ("reference_videos", reference_videos),
            ("reference_audios", reference_audios))}
        mode = infer_h3_mode(first_frame_image, last_frame_image, references)
        shape = _check_ratio(ratio, mode)
        _check_counts(references)
        items: list[MediaItem] = []
        if first_frame_image is not None:
            items.append(resolve_media(first_frame_image, "image", "first_frame", "first_frame_image", read_object))
        if last_frame_image is not None:
            items.append(resolve_media(last_frame_image, "image", "last_frame", "last_frame_image", read_object))
        for name, kind, role in REFERENCE_INPUTS:
            items.extend(resolve_media(value, kind, role, name, read_object) for value in references[name])
        _check_total_seconds(items)
        planned = plan_transfer(text, items, inline_max_bytes)
        return cls(spec.name, mode, text, seconds, size, shape, tuple(planned), expansion, aigc_watermark)

    @property
    def pending_uploads(self) -> list[tuple[int, MediaItem]]:
        """(index in ``media``, item) of what must go through ``/v1/files/upload`` before creating."""
        return [(index, item) for index, item in enumerate(self.media) if item.needs_upload]

    def with_uploaded(self, index: int, file_id: str) -> H3Request:
        """The request once ``media[index]`` was uploaded and answered ``file_id``."""
        media = list(self.media)
        media[index] = media[index].with_file_id(file_id)
        return replace(self, media=tuple(media))

    @property
    def image_count(self) -> int:
        return sum(1 for item in self.media if item.kind == "image")

    @property
    def reference_video_seconds(self) -> float | None:
        """Seconds of reference video billed as input; None when a URL's length cannot be known here."""
        videos = [item for item in self.media if item.kind == "video"]
        if any(item.duration is None for item in videos):
            return None
        return sum(item.duration or 0.0 for item in videos)

    def estimated_cost(self, region: str | None) -> dict[str, float | str] | None:
        """``{"amount", "unit"}`` before sending, from the price table (see :mod:`core.cost`)."""
        seconds = self.reference_video_seconds
        return cost.estimate_h3_cost(
            self.model, self.resolution, self.duration, image_count=self.image_count,
            reference_video_seconds=MAX_SECONDS if seconds is None else seconds, region=region,
        )

    def summary(self) -> str:
        return f"{self.model} {self.mode.label}, {self.duration} s, {self.resolution}, ratio {self.ratio}"
