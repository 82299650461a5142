"""Behaviour options of the MiniMax v2 (H3) surface, merged into the emulator's options.

Kept apart from ``config.py`` so the v2 surface stays one set of modules; ``config.py`` adds these
defaults and hands these keys here. Errors are plain ``ValueError`` (``config.py`` rewraps them).
"""

from __future__ import annotations

import math
from typing import Any

KEY_TYPES = {"pay_as_you_go": "pay-as-you-go", "token_plan": "Token Plan", "video_package": "Video Package"}

V2_DEFAULTS: dict[str, Any] = {
    # more MiniMax keys, each its own account: {"<key>": "pay_as_you_go"|"token_plan"|"video_package"}
    "v2_keys": {},
    "v2_rpm": 300,  # create requests per account per sliding minute; None: unlimited
    "v2_max_in_flight": 30,  # queued + running H3 tasks per account; None: unlimited
    "v2_queue_seconds": None,  # seconds queued before running; None: 40% of generation_seconds
    "v2_task_lifetime": 86_400.0,  # a succeeded task reads `expired` this long after it finished
    "v2_query_window": 7 * 86_400.0,  # tasks older than this answer `invalid task_id`
    "v2_regeneration_access": False,  # the source_task_id form of /v2/video_regeneration
}


def _seconds(key: str, value: Any, *, nullable: bool = False) -> float | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number of seconds, got {value!r}")
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(f"{key} must be a finite number >= 0, got {value!r}")
    return float(value)


def _count(key: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{key} must be null or an integer >= 1, got {value!r}")
    return value


def normalize_v2_option(key: str, value: Any) -> Any:
    """Check one v2 option and return its canonical value."""
    if key == "v2_keys":
        if not isinstance(value, dict):
            raise ValueError("v2_keys must be an object {key: key type}")
        for api_key, key_type in value.items():
            if not api_key or not isinstance(api_key, str):
                raise ValueError("v2_keys: every key must be a non-empty string")
            if key_type not in KEY_TYPES:
                raise ValueError(f"v2_keys: key type must be one of {', '.join(KEY_TYPES)}, got {key_type!r}")
        return dict(value)
    if key in ("v2_rpm", "v2_max_in_flight"):
        return _count(key, value)
    if key == "v2_queue_seconds":
        return _seconds(key, value, nullable=True)
    if key in ("v2_task_lifetime", "v2_query_window"):
        return _seconds(key, value)
    if key == "v2_regeneration_access":
        if not isinstance(value, bool):
            raise ValueError(f"v2_regeneration_access must be a boolean, got {value!r}")
        return value
    raise AssertionError(key)  # pragma: no cover
