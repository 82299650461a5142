"""Which Hailuo model takes which mode, duration and resolution (prices: ``core.prices``).

The table is API_NOTES.md's, itself from the MiniMax documents (seeds 002 and 003). Checking it
here turns a request the vendor would reject (after a network round trip, or worse after minutes
of queueing) into an error raised before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_hailuo.core.models import Mode
from airflow_provider_hailuo.core.prices import MINIMAX_V1_CREDITS
from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError

T2V, I2V, FL2V, S2V = Mode.TEXT, Mode.IMAGE, Mode.FIRST_LAST_FRAME, Mode.SUBJECT_REFERENCE


@dataclass(frozen=True)
class ModelCapability:
    name: str
    modes: frozenset[Mode]
    #: duration -> resolutions allowed at that duration; empty for fixed-output models.
    durations: dict[int, tuple[str, ...]]
    default_resolution: str
    default_duration: int = 6
    #: 01-series and S2V-01 produce a fixed 6 s clip and reject ``duration``/``resolution``.
    fixed_output: bool = False
    #: Resolutions only available when an image drives the video (Hailuo-02's 512P).
    image_only_resolutions: frozenset[str] = frozenset()
    fast_pretreatment: bool = False


def _fixed(name: str, modes: frozenset[Mode]) -> ModelCapability:
    return ModelCapability(name, modes, {6: ("720P",)}, "720P", fixed_output=True)


MODELS: dict[str, ModelCapability] = {
    cap.name: cap
    for cap in (
        ModelCapability(
            "MiniMax-Hailuo-2.3", frozenset({T2V, I2V}), {6: ("768P", "1080P"), 10: ("768P",)}, "768P",
            fast_pretreatment=True,
        ),
        ModelCapability(
            "MiniMax-Hailuo-2.3-Fast", frozenset({I2V}), {6: ("768P", "1080P"), 10: ("768P",)}, "768P",
            fast_pretreatment=True,
        ),
        ModelCapability(
            "MiniMax-Hailuo-02",
            frozenset({T2V, I2V, FL2V}),
            {6: ("512P", "768P", "1080P"), 10: ("512P", "768P")},
            "768P",
            image_only_resolutions=frozenset({"512P"}),
            fast_pretreatment=True,
        ),
        _fixed("T2V-01", frozenset({T2V})),
        _fixed("T2V-01-Director", frozenset({T2V})),
        _fixed("I2V-01", frozenset({I2V})),
        _fixed("I2V-01-Director", frozenset({I2V})),
        _fixed("I2V-01-live", frozenset({I2V})),
        _fixed("S2V-01", frozenset({S2V})),
    )
}

#: MiniMax-H3 models: served by MiniMax's video API v2 only (their rules live in ``core.h3``).
V2_MODELS: tuple[str, ...] = ("MiniMax-H3", "MiniMax-H3-Max")

#: Pixel size of a 16:9 text-to-video clip at each resolution (what the vendors report).
PIXEL_SIZES: dict[str, tuple[int, int]] = {
    "512P": (910, 512),
    "720P": (1280, 720),
    "768P": (1366, 768),
    "1080P": (1920, 1080),
}



def get_capability(model: object) -> ModelCapability:
    if not isinstance(model, str) or not model.strip():
        raise HailuoInvalidRequestError(
            f"model must be a model name string; got {model!r}. Allowed: {', '.join(MODELS)}.",
            parameter="model",
            value=model,
        )
    cap = MODELS.get(model.strip())
    if cap is None and model.strip().lower() in {name.lower() for name in V2_MODELS}:
        raise HailuoInvalidRequestError(
            f"model {model!r} is a MiniMax-H3 model, served only by MiniMax's video API v2 (a MiniMax "
            f"connection); this request was built for the v1 (Hailuo) API, which offers: {', '.join(MODELS)}.",
            parameter="model",
            value=model,
        )
    if cap is None:
        by_lower = {name.lower(): c for name, c in MODELS.items()}
        hint = by_lower.get(model.strip().lower())
        suggestion = f" Did you mean {hint.name!r}?" if hint else ""
        raise HailuoInvalidRequestError(
            f"model {model!r} is not a known Hailuo video model.{suggestion} "
            f"Allowed: {', '.join(MODELS)}.",
            parameter="model",
            value=model,
        )
    return cap


def models_for_mode(mode: Mode) -> list[str]:
    return [name for name, cap in MODELS.items() if mode in cap.modes]


def normalise_resolution(resolution: object) -> str | None:
    """Accept ``"768P"``, ``"768p"``, ``"768"`` and ``768``; return the vendor's spelling."""
    if resolution is None:
        return None
    if isinstance(resolution, bool) or not isinstance(resolution, (str, int)):
        raise HailuoInvalidRequestError(
            f"resolution must be a string such as '768P'; got {resolution!r}. "
            f"Allowed: {', '.join(PIXEL_SIZES)}.",
            parameter="resolution",
            value=resolution,
        )
    text = str(resolution).strip().upper()
    if text.isdigit():
        text += "P"
    if text not in PIXEL_SIZES:
        raise HailuoInvalidRequestError(
            f"resolution {resolution!r} is not a Hailuo resolution. Allowed: {', '.join(PIXEL_SIZES)}.",
            parameter="resolution",
            value=resolution,
        )
    return text


def normalise_duration(duration: object) -> int | None:
    if duration is None:
        return None
    if isinstance(duration, str) and duration.strip().isdigit():
        duration = int(duration.strip())
    if isinstance(duration, float) and duration.is_integer():
        duration = int(duration)
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise HailuoInvalidRequestError(
            f"duration must be a whole number of seconds (6 or 10); got {duration!r}.",
            parameter="duration",
            value=duration,
        )
    return duration


def check_model_options(
    cap: ModelCapability, mode: Mode, duration: int | None, resolution: str | None
) -> tuple[int, str]:
    """Check mode, duration and resolution against the model; return the effective (duration, resolution)."""
    if mode not in cap.modes:
        allowed_modes = ", ".join(sorted(m.label for m in cap.modes))
        raise HailuoInvalidRequestError(
            f"model {cap.name!r} does not support {mode.label} generation (it supports: {allowed_modes}). "
            f"Models for {mode.label}: {', '.join(models_for_mode(mode))}.",
            parameter="model",
            value=cap.name,
        )
    if cap.fixed_output:
        # The 01-series and S2V-01 reject these fields; a value equal to the fixed output is
        # harmless (it is simply not sent), anything else is a mistake worth stopping.
        if duration is not None and duration != cap.default_duration:
            raise HailuoInvalidRequestError(
                f"duration {duration!r} is not available for {cap.name!r}: it always makes a "
                f"{cap.default_duration} s clip. Leave duration unset.",
                parameter="duration",
                value=duration,
            )
        if resolution is not None and resolution != cap.default_resolution:
            raise HailuoInvalidRequestError(
                f"resolution {resolution!r} is not available for {cap.name!r}: it always makes "
                f"{cap.default_resolution}. Leave resolution unset.",
                parameter="resolution",
                value=resolution,
            )
        return cap.default_duration, cap.default_resolution

    effective_duration = duration if duration is not None else cap.default_duration
    if effective_duration not in cap.durations:
        raise HailuoInvalidRequestError(
            f"duration {duration!r} is not available for {cap.name!r}. "
            f"Allowed: {', '.join(str(d) for d in sorted(cap.durations))} seconds.",
            parameter="duration",
            value=duration,
        )
    allowed = [
        r for r in cap.durations[effective_duration]
        if not (r in cap.image_only_resolutions and mode is not Mode.IMAGE)
    ]
    effective_resolution = resolution if resolution is not None else cap.default_resolution
    if effective_resolution not in allowed:
        reason = ""
        if effective_resolution in cap.image_only_resolutions:
            reason = f" ({effective_resolution} is only available for image-to-video)"
        elif any(effective_resolution in rs for rs in cap.durations.values()):
            reason = f" at {effective_duration} s"
        raise HailuoInvalidRequestError(
            f"resolution {effective_resolution!r} is not available for {cap.name!r} "
            f"{mode.label}{reason}. Allowed at {effective_duration} s: {', '.join(allowed)}.",
            parameter="resolution",
            value=resolution if resolution is not None else effective_resolution,
        )
    return effective_duration, effective_resolution


def estimate_credits(model: str | None, resolution: str | None, duration: int | None) -> float | None:
    """Credits one clip costs on MiniMax China, or None when the price table does not say."""
    return MINIMAX_V1_CREDITS.price(model, resolution, duration)
