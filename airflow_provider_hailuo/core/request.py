"""``VideoRequest``: one validated video generation request, vendor-neutral.

``VideoRequest.build(...)`` takes what a DAG author wrote, works out the mode from the inputs,
checks everything the vendor would check, reads and checks local/object-storage images, and
either returns a request that is safe to send or raises :class:`HailuoInvalidRequestError`
naming the parameter, the value and what is allowed. Nothing here does network I/O.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_hailuo.core.camera import parse_camera_commands
from airflow_provider_hailuo.core.capabilities import (
    MODELS,
    PIXEL_SIZES,
    check_model_options,
    estimate_credits,
    get_capability,
    models_for_mode,
    normalise_duration,
    normalise_resolution,
)
from airflow_provider_hailuo.core.images import ReadObject, data_url_size, describe, resolve_image
from airflow_provider_hailuo.core.models import Mode
from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError

MAX_PROMPT_CHARS = 2000
# Characters the vendor refuses as "invisible" (code 1042): zero-width and bidi controls, BOM.
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\u2061", "\u2062", "\u2063",
              "\u2064", "\ufeff", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u00ad"}


def _check_prompt(prompt: object, mode: Mode) -> str | None:
    if prompt is None or (isinstance(prompt, str) and not prompt.strip()):
        if mode is Mode.TEXT:
            raise HailuoInvalidRequestError(
                f"prompt is required for text-to-video; got {prompt!r}. Give a description of up to "
                f"{MAX_PROMPT_CHARS} characters, or an image (first_frame_image) for image-to-video.",
                parameter="prompt",
                value=prompt,
            )
        return None
    if not isinstance(prompt, str):
        raise HailuoInvalidRequestError(
            f"prompt must be a string; got {type(prompt).__name__} {describe(prompt)}.",
            parameter="prompt",
            value=prompt,
        )
    if len(prompt) > MAX_PROMPT_CHARS:
        raise HailuoInvalidRequestError(
            f"prompt is {len(prompt)} characters long; the vendor accepts at most {MAX_PROMPT_CHARS}. "
            f"It begins {prompt[:60]!r}.",
            parameter="prompt",
            value=prompt[:60],
        )
    for index, char in enumerate(prompt):
        if char in _INVISIBLE or (unicodedata.category(char) == "Cc" and char not in "\n\r\t"):
            raise HailuoInvalidRequestError(
                f"prompt holds an invisible character U+{ord(char):04X} at position {index}; the vendor "
                "refuses invisible characters (code 1042). Remove it.",
                parameter="prompt",
                value=prompt[max(0, index - 20): index + 20],
            )
    return prompt


def _check_bool(name: str, value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise HailuoInvalidRequestError(
        f"{name} must be true, false or unset; got {value!r}.", parameter=name, value=value
    )


def normalise_subject_reference(value: object, read_object: ReadObject | None = None) -> list[dict[str, Any]]:
    """Accept one image, a list of images, one subject dict or a list of one subject dict."""
    parameter = "subject_reference"
    if isinstance(value, str):
        subjects: list[Any] = [{"type": "character", "image": [value]}]
    elif isinstance(value, Mapping):
        subjects = [value]
    elif isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value):
        subjects = [{"type": "character", "image": list(value)}]
    elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        subjects = list(value)
    else:
        raise HailuoInvalidRequestError(
            f"subject_reference must be an image (URL, path or URI) or a list of "
            f'{{"type": "character", "image": [...]}}; got {describe(value)}.',
            parameter=parameter,
            value=value,
        )
    if len(subjects) != 1:
        raise HailuoInvalidRequestError(
            f"subject_reference holds {len(subjects)} subjects; the vendor supports exactly one subject "
            '(a list with one {"type": "character", "image": [...]}).',
            parameter=parameter,
            value=describe(value),
        )
    normalised = []
    for subject in subjects:
        if not isinstance(subject, Mapping):
            raise HailuoInvalidRequestError(
                f'subject_reference items must be dicts like {{"type": "character", "image": [...]}}; '
                f"got {describe(subject)}.",
                parameter=parameter,
                value=describe(subject),
            )
        unknown = set(subject) - {"type", "image"}
        if unknown:
            raise HailuoInvalidRequestError(
                f"subject_reference has unknown keys {sorted(unknown)}; allowed keys: type, image.",
                parameter=parameter,
                value=sorted(unknown),
            )
        kind = subject.get("type", "character")
        if kind != "character":
            raise HailuoInvalidRequestError(
                f"subject_reference type {kind!r} is not supported; allowed: 'character'.",
                parameter="subject_reference.type",
                value=kind,
            )
        images = subject.get("image")
        if isinstance(images, str):
            images = [images]
        if not isinstance(images, Sequence) or not images:
            raise HailuoInvalidRequestError(
                f"subject_reference image must be a non-empty list of images; got {describe(images)}.",
                parameter="subject_reference.image",
                value=describe(images),
            )
        resolved = [
            resolve_image(image, f"subject_reference.image[{i}]", read_object) for i, image in enumerate(images)
        ]
        normalised.append({"type": "character", "image": resolved})
    return normalised


@dataclass(frozen=True)
class VideoRequest:
    """A request that passed every local check. Image fields hold what will be sent."""

    model: str
    mode: Mode
    prompt: str | None = None
    #: As sent: None means "not sent" (vendor default, or a fixed-output model).
    duration: int | None = None
    resolution: str | None = None
    first_frame_image: str | None = None
    last_frame_image: str | None = None
    subject_reference: list[dict[str, Any]] | None = None
    prompt_optimizer: bool | None = None
    fast_pretreatment: bool | None = None
    aigc_watermark: bool | None = None
    #: What the vendor will produce once defaults apply.
    effective_duration: int = 6
    effective_resolution: str = "768P"
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def build(
        cls,
        *,
        model: object,
        prompt: object = None,
        duration: object = None,
        resolution: object = None,
        first_frame_image: object = None,
        last_frame_image: object = None,
        subject_reference: object = None,
        prompt_optimizer: object = None,
        fast_pretreatment: object = None,
        aigc_watermark: object = None,
        read_object: ReadObject | None = None,
    ) -> VideoRequest:
        mode = infer_mode(first_frame_image, last_frame_image, subject_reference)
        cap = get_capability(model)
        text = _check_prompt(prompt, mode)
        wanted_duration = normalise_duration(duration)
        wanted_resolution = normalise_resolution(resolution)
        effective_duration, effective_resolution = check_model_options(
            cap, mode, wanted_duration, wanted_resolution
        )
        optimizer = _check_bool("prompt_optimizer", prompt_optimizer)
        fast = _check_bool("fast_pretreatment", fast_pretreatment)
        watermark = _check_bool("aigc_watermark", aigc_watermark)
        if fast is not None and not cap.fast_pretreatment:
            supported = ", ".join(name for name, c in MODELS.items() if c.fast_pretreatment)
            raise HailuoInvalidRequestError(
                f"fast_pretreatment is not available for {cap.name!r}; it applies to: {supported}. "
                "Leave it unset.",
                parameter="fast_pretreatment",
                value=fast,
            )
        first = last = None
        subjects = None
        if first_frame_image is not None:
            first = resolve_image(first_frame_image, "first_frame_image", read_object)
        if last_frame_image is not None:
            last = resolve_image(last_frame_image, "last_frame_image", read_object)
        if subject_reference is not None:
            subjects = normalise_subject_reference(subject_reference, read_object)
        return cls(
            model=cap.name,
            mode=mode,
            prompt=text,
            duration=None if cap.fixed_output else wanted_duration,
            resolution=None if cap.fixed_output else wanted_resolution,
            first_frame_image=first,
            last_frame_image=last,
            subject_reference=subjects,
            prompt_optimizer=optimizer,
            fast_pretreatment=fast,
            aigc_watermark=watermark,
            effective_duration=effective_duration,
            effective_resolution=effective_resolution,
            warnings=parse_camera_commands(text).warnings,
        )

    @property
    def estimated_credits(self) -> float | None:
        return estimate_credits(self.model, self.effective_resolution, self.effective_duration)

    def expected_size(self) -> tuple[int, int] | None:
        """Pixel size the video should have, when it can be told in advance."""
        if self.first_frame_image:
            frame = data_url_size(self.first_frame_image)
            if frame is None:
                return None
            short = PIXEL_SIZES[self.effective_resolution][1]
            width, height = frame
            scale = short / min(width, height)
            return _even(width * scale), _even(height * scale)
        return PIXEL_SIZES.get(self.effective_resolution)

    def summary(self) -> str:
        return (
            f"{self.model} {self.mode.label}, {self.effective_duration} s, {self.effective_resolution}"
        )


def _even(value: float) -> int:
    rounded = int(round(value))
    return rounded + (rounded % 2)


def infer_mode(first_frame_image: object, last_frame_image: object, subject_reference: object) -> Mode:
    """The mode follows from the inputs given."""
    if subject_reference is not None:
        if first_frame_image is not None or last_frame_image is not None:
            raise HailuoInvalidRequestError(
                "subject_reference cannot be combined with first_frame_image or last_frame_image: "
                "subject-reference video (S2V-01) takes a subject image and a prompt only.",
                parameter="subject_reference",
                value=describe(subject_reference),
            )
        return Mode.SUBJECT_REFERENCE
    if last_frame_image is not None:
        if first_frame_image is None:
            raise HailuoInvalidRequestError(
                "last_frame_image was given without first_frame_image: first+last-frame video needs both "
                f"(models: {', '.join(models_for_mode(Mode.FIRST_LAST_FRAME))}).",
                parameter="last_frame_image",
                value=describe(last_frame_image),
            )
        return Mode.FIRST_LAST_FRAME
    if first_frame_image is not None:
        return Mode.IMAGE
    return Mode.TEXT
