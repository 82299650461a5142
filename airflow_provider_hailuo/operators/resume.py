"""What a retry needs to find the vendor task an earlier try submitted (``task_state_store``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict

from airflow_provider_hailuo.core.request import VideoRequest

#: task_state_store key of the submitted vendor task. Renaming it breaks resuming in-flight retries.
TASK_STATE_KEY = "hailuo_video_task"


def request_fingerprint(request: VideoRequest) -> str:
    """A hash of everything that is sent, to tell whether a stored vendor task belongs to this request."""
    fields = asdict(request)
    for derived in ("warnings", "effective_duration", "effective_resolution"):
        fields.pop(derived, None)
    text = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stored_task(value: object) -> dict[str, str | None] | None:
    """The stored vendor task, ``{"video_task_id", "vendor", "request_sha256"}``; a bare id is accepted."""
    if isinstance(value, str) and value:
        return {"video_task_id": value, "vendor": None, "request_sha256": None}
    if isinstance(value, Mapping) and isinstance(value.get("video_task_id"), str) and value["video_task_id"]:
        return {
            "video_task_id": value["video_task_id"],
            "vendor": value.get("vendor") if isinstance(value.get("vendor"), str) else None,
            "request_sha256": value.get("request_sha256") if isinstance(value.get("request_sha256"), str) else None,
        }
    return None
