"""Answers of MiniMax's video API v2, parsed: task ids, tasks, pages, delete outcomes, file ids.

Every field is checked for its type: a hostile or broken answer is a :class:`HailuoProtocolError`,
never a crash; an error answer becomes the exception of :mod:`minimax_v2_errors`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_hailuo.core.models import TaskState, TaskStatus
from airflow_provider_hailuo.exceptions import HailuoProtocolError
from airflow_provider_hailuo.vendors.base import (
    MAX_JSON_BYTES,
    HttpResponse,
    _body_excerpt,
    as_str_id,
    check_download_url,
    optional_int,
)
from airflow_provider_hailuo.vendors.minimax import MiniMaxDialect
from airflow_provider_hailuo.vendors.minimax_v2_errors import v2_error

#: The six statuses (``expired`` is undocumented but final in MiniMax's CLI). Cancelled and expired
#: map to FAILED, which every poller already treats as final; ``raw_status`` keeps the word.
STATUS_WORDS: dict[str, TaskState] = {
    "queued": TaskState.QUEUED,
    "running": TaskState.RUNNING,
    "succeeded": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
    "cancelled": TaskState.FAILED,
    "canceled": TaskState.FAILED,
    "expired": TaskState.FAILED,
}
_FINAL_REASONS = {"cancelled": "the task was cancelled before it started (not charged)",
                  "canceled": "the task was cancelled before it started (not charged)",
                  "expired": "the task expired at the vendor before it finished"}
TEXT_TASK_TYPES = frozenset({"h3_context_ir"})


@dataclass(frozen=True)
class V2Task:
    """One v2 task as the query, list and callback answers describe it."""

    task_id: str
    raw_status: str
    state: TaskState
    model: str | None = None
    task_type: str | None = None
    modality: str | None = None
    video_url: str | None = None
    expanded_prompt: str | None = None
    resolution: str | None = None
    duration: int | None = None
    ratio: str | None = None
    usage: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    trace_id: str | None = field(default=None, compare=False)

    @property
    def is_queued(self) -> bool:
        """Still waiting to start: a DELETE now cancels it and nothing is charged."""
        return self.state is TaskState.QUEUED

    def to_task_status(self) -> TaskStatus:
        return TaskStatus(
            vendor="minimax", task_id=self.task_id, state=self.state, raw_status=self.raw_status,
            video_url=self.video_url, duration=self.duration, error_message=self.error_message,
            error_code=self.error_code, trace_id=self.trace_id, api="v2", model=self.model,
            resolution=self.resolution, ratio=self.ratio, usage=self.usage, task_type=self.task_type,
            expanded_prompt=self.expanded_prompt,
        )


@dataclass(frozen=True)
class TaskPage:
    items: list[V2Task]
    total: int


@dataclass(frozen=True)
class DeleteOutcome:
    task_id: str
    action: str  # cancelled (a queued task: not charged) or deleted (a finished one)
    status: str

    @property
    def charged(self) -> bool:
        return self.action != "cancelled"


def protocol_error(message: str, trace_id: str | None = None, task_id: str | None = None,
              retryable: bool = False) -> HailuoProtocolError:
    return HailuoProtocolError(message, vendor="minimax", trace_id=trace_id, task_id=task_id, retryable=retryable)


def decode(response: HttpResponse, endpoint: str, task_id: str | None = None) -> dict[str, Any]:
    """A v2 JSON answer, or the exception its HTTP status and error body call for."""
    trace = response.header("Trace-Id") or response.header("X-Request-Id")
    if len(response.body) > MAX_JSON_BYTES:
        raise protocol_error(f"{endpoint} answer is {len(response.body):,} bytes, more than a JSON answer can be; "
                        "refusing it", trace, task_id)
    try:
        data: Any = json.loads(response.body.decode("utf-8")) if response.body else None
    except (ValueError, RecursionError):
        data = None
    if response.status >= 400 or (isinstance(data, Mapping) and data.get("type") == "error"):
        raise v2_error(response.status, data, endpoint, trace_id=trace, task_id=task_id,
                       body_excerpt=_body_excerpt(response.body))
    if not isinstance(data, dict):
        raise protocol_error(f"{endpoint} answer is not a JSON object: {_body_excerpt(response.body)!r}", trace,
                             task_id, retryable=True)
    base_resp = data.get("base_resp")  # only /v1/files/upload answers with one
    if base_resp is not None:
        MiniMaxDialect().check_base_resp(data, response, endpoint, task_id)
    return data


def _optional_str(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _usage(value: object) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    return {str(k): v for k, v in value.items()
            if isinstance(v, (int, float, str)) and not isinstance(v, bool)} or None


def parse_task(task: object, trace_id: str | None = None, task_id: str | None = None) -> V2Task:
    """One ``task`` object, checked field by field; a wrong type is a protocol error, never a crash."""
    if not isinstance(task, Mapping):
        raise protocol_error(f"answer has no 'task' object (got {type(task).__name__})", trace_id, task_id)
    found_id = as_str_id(task.get("id", task_id), "minimax", "task.id", trace_id)
    raw = task.get("status")
    word = raw.strip().lower() if isinstance(raw, str) else ""
    state = STATUS_WORDS.get(word)
    if state is None:
        raise protocol_error(f"task has an unknown status {raw!r}", trace_id, found_id)
    task_type = _optional_str(task.get("task_type"))
    raw_content = task.get("content")
    if raw_content is not None and not isinstance(raw_content, Mapping):
        raise protocol_error(f"task.content is a {type(raw_content).__name__}, not an object", trace_id, found_id)
    content: Mapping[str, Any] = raw_content or {}
    text_task = task_type in TEXT_TASK_TYPES or task.get("modality") == "text"
    video_url = expanded = None
    if state is TaskState.SUCCEEDED and text_task:
        expanded = content.get("prompt")
        if not isinstance(expanded, str) or not expanded.strip():
            raise protocol_error("succeeded Context-IR task has no content.prompt", trace_id, found_id, retryable=True)
    elif state is TaskState.SUCCEEDED:
        if content.get("url") in (None, ""):
            raise protocol_error("status is succeeded but task.content.url is missing", trace_id, found_id,
                                 retryable=True)
        video_url = check_download_url(content.get("url"), "minimax", "task.content.url")
    error: Mapping[str, Any] = task["error"] if isinstance(task.get("error"), Mapping) else {}
    raw_code = error.get("code")
    usable_code = isinstance(raw_code, (int, str)) and not isinstance(raw_code, bool) and str(raw_code).strip() != ""
    code = str(raw_code).strip() if usable_code else None
    message = None
    if state is TaskState.FAILED:
        message = _optional_str(error.get("message")) or _FINAL_REASONS.get(word, "the vendor gave no reason")
    return V2Task(
        task_id=found_id, raw_status=word, state=state, model=_optional_str(task.get("model")), task_type=task_type,
        modality=_optional_str(task.get("modality")), video_url=video_url, expanded_prompt=expanded,
        resolution=_optional_str(task.get("resolution")), duration=optional_int(task.get("duration")),
        ratio=_optional_str(task.get("ratio")), usage=_usage(task.get("usage")), error_code=code,
        error_message=message, created_at=optional_int(task.get("created_at")),
        updated_at=optional_int(task.get("updated_at")), trace_id=trace_id,
    )


def parse_create(response: HttpResponse) -> str:
    """``{"task_id": "..."}`` (also the answer of Context-IR and regeneration)."""
    data = decode(response, "submit")
    return as_str_id(data.get("task_id"), "minimax", "task_id", _optional_str(data.get("request_id")))


def parse_query(response: HttpResponse, task_id: str) -> V2Task:
    data = decode(response, "status", task_id)
    trace = _optional_str(data.get("request_id")) or response.header("Trace-Id")
    return parse_task(data.get("task"), trace, task_id)


def parse_list(response: HttpResponse) -> TaskPage:
    data = decode(response, "list")
    items, total = data.get("items"), data.get("total")
    if not isinstance(items, list):
        raise protocol_error(f"list answer has no 'items' list (got {type(items).__name__})")
    tasks = [parse_task(item) for item in items]
    count = optional_int(total)
    return TaskPage(tasks, count if count is not None and count >= 0 else len(tasks))


def parse_delete(response: HttpResponse, task_id: str) -> DeleteOutcome:
    data = decode(response, "delete", task_id)
    action = data.get("action")
    if action not in ("cancelled", "deleted"):
        raise protocol_error(f"delete answer has action {action!r}; expected 'cancelled' or 'deleted'", task_id=task_id)
    return DeleteOutcome(str(data.get("task_id") or task_id), str(action), str(data.get("status") or action))


def parse_upload(response: HttpResponse) -> str:
    """The ``file_id`` of ``/v1/files/upload``, to send as ``mm_file://<file_id>``."""
    data = decode(response, "upload")
    file = data.get("file")
    if not isinstance(file, Mapping):
        raise protocol_error("files/upload answer has no 'file' object")
    return as_str_id(file.get("file_id"), "minimax", "file.file_id")


