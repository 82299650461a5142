"""The JSON sidecar written at ``<dest>.json``: what the video is, where it came from, its hash.

Built from the video result dict and the transfer's own figures. It never holds a key, a header
or a signed URL: only the fields listed in :data:`SIDECAR_FIELDS`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from airflow_provider_hailuo.core.cost import billed_cost

SIDECAR_FIELDS = (
    "vendor", "api", "model", "video_task_id", "file_id", "prompt", "mode", "duration", "resolution", "ratio",
    "width", "height", "size", "sha256", "content_type", "uri", "created", "usage", "estimated_cost",
    "billed_cost",
)
CONTENT_TYPE = "video/mp4"


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _plain_mapping(value: object) -> dict[str, Any] | None:
    """A small JSON object (usage, cost) copied as is; anything else is left out."""
    if not isinstance(value, Mapping):
        return None
    return {str(key): item for key, item in value.items() if isinstance(item, (str, int, float, bool))}


def resolution_of(resolution: object, width: int | None, height: int | None) -> str | None:
    """The resolution label: the one given, else the short side of the pixel size (1366x768 -> 768P)."""
    label = _str_or_none(resolution)
    if label:
        return label.upper()
    if width and height:
        return f"{min(width, height)}P"
    return None


def build_sidecar(video: Mapping[str, Any], *, vendor: str, video_task_id: str, uri: str, size: int,
                  sha256: str, created: datetime | None = None) -> dict[str, Any]:
    """The sidecar's content (a plain dict, JSON-ready)."""
    width = _int_or_none(video.get("video_width", video.get("width")))
    height = _int_or_none(video.get("video_height", video.get("height")))
    mode = video.get("mode")
    stamp = (created or datetime.now(timezone.utc)).astimezone(timezone.utc)
    values: dict[str, Any] = {
        "vendor": vendor,
        "model": _str_or_none(video.get("model")),
        "video_task_id": video_task_id,
        "file_id": _str_or_none(video.get("file_id")),
        "prompt": video.get("prompt") if isinstance(video.get("prompt"), str) else None,
        "mode": _str_or_none(getattr(mode, "value", mode)),
        "duration": _int_or_none(video.get("duration")),
        "resolution": resolution_of(video.get("resolution"), width, height),
        "width": width,
        "height": height,
        "size": size,
        "sha256": sha256,
        "content_type": CONTENT_TYPE,
        "uri": uri,
        "created": stamp.isoformat(),
        "api": _str_or_none(video.get("api")),
        "ratio": _str_or_none(video.get("ratio")),
        "usage": _plain_mapping(video.get("usage")),
        "estimated_cost": _plain_mapping(video.get("estimated_cost")),
        # Beside the estimate: what the vendor's reported usage says was billed (v2), else None.
        "billed_cost": billed_cost(video),
    }
    return {key: values[key] for key in SIDECAR_FIELDS}


def sidecar_bytes(sidecar: Mapping[str, Any]) -> bytes:
    return (json.dumps(sidecar, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")
