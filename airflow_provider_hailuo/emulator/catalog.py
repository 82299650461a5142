"""What the vendors accept: models, modes, durations, resolutions, image inputs.

This is the emulator's own reading of the vendor documents (``shared/seeds``); it deliberately
shares nothing with the provider's client-side validation, so that the two can catch each
other's mistakes.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

MAX_PROMPT_CHARS = 2000
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIN_SHORT_SIDE = 300  # the short side must be *over* 300 px
MIN_ASPECT = 2 / 5
MAX_ASPECT = 5 / 2

# Output pixel sizes for 16:9 material (text mode, and image mode with an unfetchable URL).
RESOLUTION_SIZES: dict[str, tuple[int, int]] = {
    "512P": (910, 512),
    "720P": (1280, 720),
    "768P": (1366, 768),
    "1080P": (1920, 1080),
}
RESOLUTION_SHORT_SIDE = {name: size[1] for name, size in RESOLUTION_SIZES.items()}

T2V, I2V, FL2V, S2V = "t2v", "i2v", "fl2v", "s2v"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    modes: frozenset[str]
    # duration -> resolutions; empty for the fixed 01-series / S2V-01 models
    options: dict[int, frozenset[str]] = field(default_factory=dict)
    default_resolution: str = "768P"
    image_only_resolutions: frozenset[str] = frozenset()

    @property
    def fixed(self) -> bool:
        return not self.options


_HAILUO_OPTIONS = {6: frozenset({"768P", "1080P"}), 10: frozenset({"768P"})}

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("MiniMax-Hailuo-2.3", frozenset({T2V, I2V}), _HAILUO_OPTIONS),
        ModelSpec("MiniMax-Hailuo-2.3-Fast", frozenset({I2V}), _HAILUO_OPTIONS),
        ModelSpec(
            "MiniMax-Hailuo-02",
            frozenset({T2V, I2V, FL2V}),
            {6: frozenset({"512P", "768P", "1080P"}), 10: frozenset({"512P", "768P"})},
            image_only_resolutions=frozenset({"512P"}),
        ),
        ModelSpec("T2V-01", frozenset({T2V}), default_resolution="720P"),
        ModelSpec("T2V-01-Director", frozenset({T2V}), default_resolution="720P"),
        ModelSpec("I2V-01", frozenset({I2V}), default_resolution="720P"),
        ModelSpec("I2V-01-Director", frozenset({I2V}), default_resolution="720P"),
        ModelSpec("I2V-01-live", frozenset({I2V}), default_resolution="720P"),
        ModelSpec("S2V-01", frozenset({S2V}), default_resolution="720P"),
    )
}

# Which models each vendor serves. Modelverse documents the Hailuo family only.
VENDOR_MODELS: dict[str, frozenset[str]] = {
    "minimax": frozenset(MODELS),
    "dmxapi": frozenset(MODELS),
    "modelverse": frozenset({"MiniMax-Hailuo-2.3", "MiniMax-Hailuo-2.3-Fast", "MiniMax-Hailuo-02"}),
}

FIXED_DURATION = 6
_DATA_URL = re.compile(r"^data:image/(jpeg|jpg|png|webp);base64,", re.IGNORECASE)
_PIL_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}


class InvalidParams(ValueError):
    """A submit the vendor would refuse with 2013 / HTTP 400."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class VideoRequest:
    """A submit that passed validation."""

    model: str
    mode: str
    prompt: str | None
    duration: int
    resolution: str
    width: int
    height: int
    options: dict[str, Any]
    #: the submitted images (first_frame_image, last_frame_image, subject), for the rendered clip
    images: dict[str, str] = field(default_factory=dict)


def even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def output_size(resolution: str, image_size: tuple[int, int] | None) -> tuple[int, int]:
    """Pixel size of the video: the resolution's table size, or the first frame's aspect."""
    if image_size is None:
        return RESOLUTION_SIZES[resolution]
    short = RESOLUTION_SHORT_SIDE[resolution]
    width, height = image_size
    if width >= height:
        return even(short * width / height), short
    return short, even(short * height / width)


def check_image(value: Any, field_name: str) -> tuple[int, int] | None:
    """Validate an image input; return its pixel size for data URLs, None for http(s) URLs."""
    if not isinstance(value, str) or not value:
        raise InvalidParams(f"invalid params, {field_name} must be a non-empty string", field_name)
    if value[:5].lower() == "data:":
        return _check_data_url(value, field_name)
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidParams(
            f"invalid params, {field_name} must be a public http(s) URL or a data:image/...;base64, URL",
            field_name,
        )
    return None


def _check_data_url(value: str, field_name: str) -> tuple[int, int]:
    match = _DATA_URL.match(value)
    if not match:
        raise InvalidParams(
            f"invalid params, {field_name}: only data:image/jpeg, png or webp;base64 data URLs are supported",
            field_name,
        )
    payload = value[match.end() :]
    if len(payload) > (MAX_IMAGE_BYTES * 4) // 3 + 4:
        raise InvalidParams(f"invalid params, {field_name} is larger than 20MB", field_name)
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParams(f"invalid params, {field_name} is not valid base64", field_name) from None
    if len(raw) > MAX_IMAGE_BYTES:
        raise InvalidParams(f"invalid params, {field_name} is larger than 20MB", field_name)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(raw)) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidParams(f"invalid params, {field_name} cannot be decoded as an image", field_name) from None
    if image_format not in _PIL_FORMATS:
        raise InvalidParams(f"invalid params, {field_name} format {image_format} is not JPG, PNG or WebP", field_name)
    if min(width, height) <= MIN_SHORT_SIDE:
        raise InvalidParams(
            f"invalid params, {field_name} is {width}x{height}: the short side must be over 300px",
            field_name,
        )
    if not MIN_ASPECT <= width / height <= MAX_ASPECT:
        raise InvalidParams(
            f"invalid params, {field_name} is {width}x{height}: aspect ratio must be between 2:5 and 5:2",
            field_name,
        )
    return width, height


def _present(body: dict[str, Any], key: str) -> bool:
    return body.get(key) is not None


def _check_subject_reference(value: Any) -> None:
    name = "subject_reference"
    if not isinstance(value, list) or len(value) != 1:
        raise InvalidParams("invalid params, subject_reference must be a list with exactly one subject", name)
    subject = value[0]
    if not isinstance(subject, dict) or subject.get("type") != "character":
        raise InvalidParams("invalid params, subject_reference[0].type must be 'character'", name)
    images = subject.get("image")
    if not isinstance(images, list) or len(images) != 1:
        raise InvalidParams("invalid params, subject_reference[0].image must be a list of one image", name)
    check_image(images[0], "subject_reference[0].image[0]")


def validate_submit(vendor: str, body: dict[str, Any]) -> VideoRequest:
    """Validate a flat (MiniMax-shaped) submit body for ``vendor``.

    Modelverse bodies are flattened by the caller first.
    """
    model_name = body.get("model")
    if not isinstance(model_name, str) or not model_name:
        raise InvalidParams("invalid params, model is required", "model")
    spec = MODELS.get(model_name)
    if spec is None or model_name not in VENDOR_MODELS[vendor]:
        raise InvalidParams(f"invalid params, model {model_name} is not supported", "model")

    has_first = _present(body, "first_frame_image")
    has_last = _present(body, "last_frame_image")
    has_subject = _present(body, "subject_reference")

    if has_subject:
        if vendor == "modelverse":
            raise InvalidParams("invalid params, subject_reference is not supported", "subject_reference")
        if has_first or has_last:
            raise InvalidParams(
                "invalid params, subject_reference cannot be combined with frame images", "subject_reference"
            )
        mode = S2V
    elif has_last:
        if not has_first and vendor != "dmxapi":
            # MiniMax and Modelverse need the first frame with the last one; DMXAPI's FL2V
            # document says a last frame alone is accepted ("仅上传尾帧").
            raise InvalidParams(
                "invalid params, first_frame_image is required with last_frame_image", "first_frame_image"
            )
        mode = FL2V
    elif has_first:
        mode = I2V
    else:
        mode = T2V

    if mode not in spec.modes:
        if S2V in spec.modes:
            message, field_name = f"invalid params, {model_name} requires subject_reference", "subject_reference"
        elif mode == T2V:
            message, field_name = f"invalid params, {model_name} requires first_frame_image", "first_frame_image"
        elif mode == S2V:
            message = f"invalid params, {model_name} does not support subject_reference (S2V-01 only)"
            field_name = "subject_reference"
        elif mode == FL2V:
            message = f"invalid params, {model_name} does not support last_frame_image (MiniMax-Hailuo-02 only)"
            field_name = "last_frame_image"
        else:
            message = f"invalid params, {model_name} does not support first_frame_image"
            field_name = "first_frame_image"
        raise InvalidParams(message, field_name)

    prompt = body.get("prompt")
    if prompt is not None:
        if not isinstance(prompt, str):
            raise InvalidParams("invalid params, prompt must be a string", "prompt")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise InvalidParams(
                f"invalid params, prompt is {len(prompt)} characters, the limit is {MAX_PROMPT_CHARS}", "prompt"
            )
    prompt_required = mode == T2V or vendor == "modelverse"  # Modelverse: input.prompt is required
    if prompt_required and (prompt is None or not prompt.strip()):
        raise InvalidParams("invalid params, prompt is required", "prompt")

    first_size = check_image(body["first_frame_image"], "first_frame_image") if has_first else None
    last_size = check_image(body["last_frame_image"], "last_frame_image") if has_last else None
    if has_subject:
        _check_subject_reference(body["subject_reference"])

    duration_value = body.get("duration")
    resolution_value = body.get("resolution")
    if spec.fixed:
        for key, value in (("duration", duration_value), ("resolution", resolution_value)):
            if value is not None:
                raise InvalidParams(f"invalid params, {model_name} does not accept {key}", key)
        duration, resolution = FIXED_DURATION, spec.default_resolution
    else:
        if duration_value is None:
            duration = 6
        elif isinstance(duration_value, bool) or not isinstance(duration_value, int):
            raise InvalidParams("invalid params, duration must be an integer (6 or 10)", "duration")
        else:
            duration = duration_value
        if duration not in spec.options:
            raise InvalidParams(
                f"invalid params, duration {duration} is not supported by {model_name} (6 or 10)", "duration"
            )
        if resolution_value is None:
            resolution = spec.default_resolution
        elif not isinstance(resolution_value, str):
            raise InvalidParams("invalid params, resolution must be a string such as 768P", "resolution")
        else:
            resolution = resolution_value.upper()
        allowed = set().union(*spec.options.values())
        if resolution not in allowed:
            raise InvalidParams(
                f"invalid params, resolution {resolution_value} is not supported by {model_name}", "resolution"
            )
        if resolution not in spec.options[duration]:
            raise InvalidParams(
                f"invalid params, {model_name} at {resolution} does not support duration {duration}",
                "duration",
            )
        if resolution in spec.image_only_resolutions and mode != I2V:
            if mode == FL2V:
                raise InvalidParams(
                    f"invalid params, first+last frame generation does not support {resolution}", "resolution"
                )
            raise InvalidParams(
                f"invalid params, {resolution} on {model_name} requires first_frame_image", "resolution"
            )

    options: dict[str, Any] = {}
    for key in ("prompt_optimizer", "fast_pretreatment", "aigc_watermark"):
        value = body.get(key)
        if value is not None and not isinstance(value, bool):
            raise InvalidParams(f"invalid params, {key} must be a boolean", key)
        if value is not None:
            options[key] = value
    callback_url = body.get("callback_url")
    if callback_url is not None:
        parts = urlsplit(callback_url) if isinstance(callback_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidParams("invalid params, callback_url must be an http(s) URL", "callback_url")
        options["callback_url"] = callback_url

    width, height = output_size(resolution, first_size or last_size)
    images = {key: body[key] for key in ("first_frame_image", "last_frame_image") if _present(body, key)}
    if has_subject:
        images["subject"] = body["subject_reference"][0]["image"][0]
    return VideoRequest(
        model=model_name,
        mode=mode,
        prompt=prompt,
        duration=duration,
        resolution=resolution,
        width=width,
        height=height,
        options=options,
        images=images,
    )


def flatten_modelverse(body: dict[str, Any]) -> dict[str, Any]:
    """Turn a Modelverse ``{"model", "input", "parameters"}`` body into the flat MiniMax shape."""
    inputs = body.get("input")
    parameters = body.get("parameters", {})
    if not isinstance(inputs, dict):
        raise InvalidParams("invalid params, input must be an object with a prompt", "input")
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise InvalidParams("invalid params, parameters must be an object", "parameters")
    if any("subject_reference" in part for part in (body, inputs, parameters)):
        raise InvalidParams("invalid params, subject_reference is not supported", "subject_reference")
    flat: dict[str, Any] = {"model": body.get("model")}
    for key in ("prompt", "first_frame_image", "last_frame_image"):
        if key in inputs:
            flat[key] = inputs[key]
    for key in ("duration", "resolution", "prompt_optimizer", "fast_pretreatment", "aigc_watermark"):
        if key in parameters:
            flat[key] = parameters[key]
    return flat
