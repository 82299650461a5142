"""Run-time behaviour options of the emulator.

The same keys are accepted by the ``EmulatorServer`` constructor, by ``EmulatorServer.configure``
and by ``POST /_emulator/config``.
"""

from __future__ import annotations

import math
from typing import Any

from .v2_config import V2_DEFAULTS, normalize_v2_option

DEFAULT_GENERATION_SECONDS = 20.0
DEFAULT_FAIL_REASON = "video generation failed (emulated failure)"
DEFAULT_DOWNLOAD_URL_TTL = 9 * 3600
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024

DEFAULTS: dict[str, Any] = {
    "generation_seconds": DEFAULT_GENERATION_SECONDS,
    "final_status": "success",
    "fail_reason": DEFAULT_FAIL_REASON,
    "moderation": None,
    "rate_limit": None,
    "insufficient_balance": False,
    "download_url_ttl": DEFAULT_DOWNLOAD_URL_TTL,
    "synthetic_video_bytes": None,
    "max_body_bytes": DEFAULT_MAX_BODY_BYTES,
    **V2_DEFAULTS,
}

CONFIG_KEYS = frozenset(DEFAULTS)


class ConfigError(ValueError):
    """An unknown option or a value of the wrong kind."""


def _number(key: str, value: Any, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} must be a number, got {value!r}")
    number = float(value)
    if math.isnan(number) or math.isinf(number) or number < minimum:
        raise ConfigError(f"{key} must be a finite number >= {minimum}, got {value!r}")
    return number


def _integer(key: str, value: Any, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{key} must be >= {minimum}, got {value!r}")
    return value


def normalize_option(key: str, value: Any) -> Any:
    """Check one option and return its canonical value."""
    if key not in CONFIG_KEYS:
        raise ConfigError(f"unknown emulator option {key!r}; known: {', '.join(sorted(CONFIG_KEYS))}")
    if key in V2_DEFAULTS:
        try:
            return normalize_v2_option(key, value)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if key == "generation_seconds":
        if isinstance(value, (list, tuple)):
            # [min, max]: each task gets its own time in that range, fixed by its prompt (state.py).
            if len(value) != 2:
                raise ConfigError(f"generation_seconds must be a number or [min, max], got {value!r}")
            low, high = (_number(key, item) for item in value)
            if low > high:
                raise ConfigError(f"generation_seconds [min, max] needs min <= max, got {value!r}")
            return [low, high]
        return _number(key, value)
    if key == "final_status":
        if not isinstance(value, str) or value.lower() not in ("success", "fail"):
            raise ConfigError(f"final_status must be 'success' or 'fail', got {value!r}")
        return value.lower()
    if key == "fail_reason":
        if not isinstance(value, str) or not value:
            raise ConfigError("fail_reason must be a non-empty string")
        return value
    if key == "moderation":
        if value is None:
            return None
        if not isinstance(value, str) or value.lower() not in ("input", "output"):
            raise ConfigError(f"moderation must be null, 'input' or 'output', got {value!r}")
        return value.lower()
    if key == "rate_limit":
        if value is None:
            return None
        if not isinstance(value, dict) or set(value) - {"submits", "window_seconds"}:
            raise ConfigError("rate_limit must be null or {'submits': N, 'window_seconds': W}")
        submits = _integer("rate_limit.submits", value.get("submits"), minimum=0)
        window = _number("rate_limit.window_seconds", value.get("window_seconds", 60.0))
        if window <= 0:
            raise ConfigError("rate_limit.window_seconds must be > 0")
        return {"submits": submits, "window_seconds": window}
    if key == "insufficient_balance":
        if not isinstance(value, bool):
            raise ConfigError(f"insufficient_balance must be a boolean, got {value!r}")
        return value
    if key == "download_url_ttl":
        return _number(key, value)
    if key == "synthetic_video_bytes":
        if value is None:
            return None
        return _integer(key, value, minimum=1)
    if key == "max_body_bytes":
        return _integer(key, value, minimum=1)
    raise AssertionError(key)  # pragma: no cover


def normalize_options(options: dict[str, Any]) -> dict[str, Any]:
    """Check several options at once; nothing is applied when one is wrong."""
    if not isinstance(options, dict):
        raise ConfigError("options must be a JSON object")
    return {key: normalize_option(key, value) for key, value in options.items()}


def make_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    config = dict(DEFAULTS)
    if overrides:
        config.update(normalize_options(overrides))
    return config
