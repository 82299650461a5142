"""What a retry needs to find the vendor task an earlier try submitted (``task_state_store``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

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


def superseded_because(stored: Mapping[str, str | None], *, vendor: str, fingerprint: str | None,
                       conn_id: str) -> str | None:
    """Why the stored task is not this request's (connection's vendor or request changed), or None."""
    video_task_id = stored["video_task_id"]
    if stored["vendor"] and stored["vendor"] != vendor:
        return (f"An earlier try submitted video task {video_task_id} to {stored['vendor']}, but connection "
                f"{conn_id} is now {vendor}; submitting anew.")
    if stored["request_sha256"] and stored["request_sha256"] != fingerprint:
        return (f"An earlier try submitted video task {video_task_id} for a different request (model, prompt, "
                "images or options changed since); submitting a new video for this one.")
    return None


def stored_facts(context: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """The request facts stored with the submitted task (where defer kwargs did not reach execute_complete)."""
    store = context.get("task_state_store")
    try:
        stored = store.get(key) if store is not None else None
    except Exception:  # a store that cannot be read only costs the facts
        return None
    facts = stored.get("facts") if isinstance(stored, Mapping) else None
    return facts if isinstance(facts, Mapping) else None


def warn_if_retries_resubmit(log: Any, *, durable: bool, context: Mapping[str, Any]) -> None:
    """Say so when a retry of the task would pay for a second video (no store, or durable=False)."""
    if durable:
        return  # with no store, ResumableJobMixin itself logs that crash recovery is disabled
    if context.get("task_state_store") is None:
        log.warning("No task_state_store in this Airflow (it arrived in 3.3): crash recovery is disabled, "
                    "a retry of this task submits, and pays for, a new video.")
    else:
        log.warning("durable=False: every try of this task submits, and pays for, a new video.")
