"""The events that end a wait, typed and frozen (h11's events are the model), and their JSON form.

``HailuoVideoTrigger`` yields exactly one of them as a dict; the operator and the sensor read it
back with :func:`event_from_dict`. The dict keeps every key the trigger has always sent
(``status``, ``video_task_id``, ``vendor``, ``message``, ``error_class``, ``code``, ``trace_id``,
``task_status``), so events written by an older release still resume, and adds ``error``: the
error as data (its class, the message its constructor was given and the constructor's other
arguments), so the receiving side raises the same exception class with the same attributes.

JSON only: never a key, a header or the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from airflow_provider_hailuo import exceptions as hailuo_exceptions
from airflow_provider_hailuo.core.models import TaskState, TaskStatus
from airflow_provider_hailuo.exceptions import (
    HailuoError,
    HailuoModerationError,
    HailuoTaskFailedError,
    HailuoTimeoutError,
    HailuoVendorError,
)

#: The constructor arguments an error may carry across (all JSON values).
ERROR_FIELDS = ("vendor", "code", "meaning", "trace_id", "http_status", "task_id", "parameter", "value", "reason")
_VALUE_LIMIT = 300


def _json_value(value: object) -> object:
    """A parameter's value as JSON: plain values as they are, long text cut, anything else by repr."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else repr(value)
    if text.startswith("data:"):
        return text.split(",", 1)[0] + ",..."  # never a whole data: URL
    return text if len(text) <= _VALUE_LIMIT else text[:_VALUE_LIMIT] + "..."


def _error_class(name: object, default: type[HailuoError]) -> type[HailuoError]:
    """Only ``HailuoError`` subclasses of :mod:`airflow_provider_hailuo.exceptions`, by name."""
    found = getattr(hailuo_exceptions, name, None) if isinstance(name, str) else None
    return found if isinstance(found, type) and issubclass(found, HailuoError) else default


def _constructor_keywords(cls: type[HailuoError]) -> set[str]:
    import inspect  # only when an error is rebuilt: inspect is not worth its import at DAG parse time

    return {name for name, p in inspect.signature(cls.__init__).parameters.items() if p.kind is p.KEYWORD_ONLY}


#: The parts HailuoVendorError.__init__ appends to its message, parsed back out of old events.
_VENDOR_SUFFIXES = (
    (re.compile(r"^code (?P<code>\S+)(?: \((?P<meaning>.*)\))?$"), ("code", "meaning")),
    (re.compile(r"^HTTP (?P<http_status>\d+)$"), ("http_status",)),
    (re.compile(r"^video_task_id (?P<task_id>.+)$"), ("task_id",)),
    (re.compile(r"^Trace-Id (?P<trace_id>.+)$"), ("trace_id",)),
)


def _split_vendor_message(message: str, vendor: str) -> tuple[str, dict[str, Any]]:
    """An old event's formatted vendor message -> (the constructor's message, its other arguments)."""
    parts = message.split("; ")
    found: dict[str, Any] = {}
    while len(parts) > 1:
        for pattern, names in _VENDOR_SUFFIXES:
            match = pattern.match(parts[-1])
            if match and not any(name in found for name in names):
                found.update({name: match.group(name) for name in names if match.group(name) is not None})
                parts.pop()
                break
        else:
            break
    if "http_status" in found:
        found["http_status"] = int(found["http_status"])
    if isinstance(found.get("code"), str) and found["code"].lstrip("-").isdigit():
        found["code"] = int(found["code"])
    return "; ".join(parts).removeprefix(f"{vendor}: "), found


@dataclass(frozen=True)
class ErrorData:
    """An error as data: enough to raise it again as the same class with the same attributes."""

    error_class: str
    detail: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, error: BaseException) -> ErrorData:
        if not isinstance(error, HailuoError):  # a bug or a library error: still one clear HailuoError
            return cls("HailuoError", f"unexpected {type(error).__name__} while polling: {error}")
        fields = {name: _json_value(getattr(error, name)) for name in ERROR_FIELDS
                  if getattr(error, name, None) is not None}
        return cls(type(error).__name__, getattr(error, "detail", str(error)), fields)

    def to_dict(self) -> dict[str, Any]:
        return {"error_class": self.error_class, "detail": self.detail, "fields": dict(self.fields)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ErrorData:
        fields = data.get("fields")
        return cls(str(data.get("error_class") or "HailuoError"), str(data.get("detail") or ""),
                   dict(fields) if isinstance(fields, Mapping) else {})

    def rebuild(self, video_task_id: str, default: type[HailuoError] = HailuoError) -> HailuoError:
        """The error, through its own constructor; it always names the video task."""
        cls = _error_class(self.error_class, default)
        accepted = _constructor_keywords(cls)
        kwargs = {name: value for name, value in self.fields.items() if name in accepted}
        if "task_id" in accepted and not kwargs.get("task_id"):
            kwargs["task_id"] = video_task_id
        if issubclass(cls, HailuoVendorError):
            kwargs.setdefault("vendor", "vendor")
        error = cls(self.detail, **kwargs)
        if video_task_id in str(error):
            return error
        return cls(f"{self.detail} (video_task_id {video_task_id})", **kwargs)


@dataclass(frozen=True)
class WaitEvent:
    """The one event that ends a wait. Subclasses name the outcome; ``status`` is its JSON word."""

    status: ClassVar[str]
    default_error: ClassVar[type[HailuoError]] = HailuoError

    video_task_id: str
    vendor: str | None
    message: str
    task_status: TaskStatus | None = None
    error: ErrorData | None = None
    code: int | str | None = None
    trace_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "video_task_id": self.video_task_id,
            "vendor": self.vendor,
            "message": self.message,
            "error_class": self.error.error_class if self.error else None,
            "code": self.code,
            "trace_id": self.trace_id,
            "task_status": self.task_status.to_dict() if self.task_status is not None else None,
            "error": self.error.to_dict() if self.error else None,
        }

    def raise_error(self) -> HailuoError:
        """The exception this event stands for (``VideoSucceeded`` stands for none)."""
        error = self.error or ErrorData(self.default_error.__name__, self.message)
        return error.rebuild(self.video_task_id, self.default_error)

    def outcome(self) -> TaskStatus:
        """The finished ``TaskStatus``; any event but success raises its ``HailuoError``."""
        raise self.raise_error()


@dataclass(frozen=True)
class VideoSucceeded(WaitEvent):
    status: ClassVar[str] = "success"

    def outcome(self) -> TaskStatus:
        assert self.task_status is not None  # checked when built from a dict
        return self.task_status


@dataclass(frozen=True)
class VideoFailed(WaitEvent):
    """The vendor says the generation failed (or moderation refused it): waiting longer cannot help."""

    status: ClassVar[str] = "failed"
    default_error: ClassVar[type[HailuoError]] = HailuoTaskFailedError


@dataclass(frozen=True)
class WaitTimedOut(WaitEvent):
    status: ClassVar[str] = "timeout"
    default_error: ClassVar[type[HailuoError]] = HailuoTimeoutError


@dataclass(frozen=True)
class WaitErrored(WaitEvent):
    """The outcome could not be learnt (key refused, unknown answers, too many faults): the task may run on."""

    status: ClassVar[str] = "error"


EVENT_TYPES: dict[str, type[WaitEvent]] = {kind.status: kind for kind in
                                           (VideoSucceeded, VideoFailed, WaitTimedOut, WaitErrored)}
EVENT_STATUSES = tuple(EVENT_TYPES)


def event_for_error(error: BaseException, video_task_id: str, vendor: str | None) -> WaitEvent:
    """``failed`` for a generation that failed (moderation, task failure); ``error`` for the rest."""
    kind = VideoFailed if isinstance(error, (HailuoModerationError, HailuoTaskFailedError)) else WaitErrored
    data = ErrorData.of(error)
    message = str(error) if isinstance(error, HailuoError) else data.detail
    return kind(video_task_id, vendor or getattr(error, "vendor", None), message, error=data,
                code=getattr(error, "code", None), trace_id=getattr(error, "trace_id", None))


def _malformed(event: object, why: str) -> HailuoError:
    return HailuoError(f"the trigger sent a malformed event ({why}): {str(event)[:300]!r}")


def _legacy_error(event: Mapping[str, Any], kind: type[WaitEvent], video_task_id: str) -> ErrorData | None:
    """An event from a release without the ``error`` key: the error from its message and keys."""
    if kind is VideoSucceeded:
        return None
    cls = _error_class(event.get("error_class"), kind.default_error)
    message = str(event.get("message") or f"video task {video_task_id} ended with status {kind.status}")
    vendor = event.get("vendor") if isinstance(event.get("vendor"), str) else None
    fields: dict[str, Any] = {"vendor": vendor, "task_id": video_task_id}
    task_status = event.get("task_status")
    if isinstance(task_status, Mapping) and task_status.get("error_message"):
        fields["reason"] = task_status["error_message"]
    if issubclass(cls, HailuoVendorError) and vendor and message.startswith(f"{vendor}: "):
        message, parsed = _split_vendor_message(message, vendor)
        fields.update(parsed)
    fields.update({name: event[name] for name in ("code", "trace_id") if event.get(name) is not None})
    return ErrorData(cls.__name__, message, {k: v for k, v in fields.items() if v is not None})


def event_from_dict(event: object) -> WaitEvent:
    """Read a trigger event (this release's or an older one's); a malformed one raises ``HailuoError``."""
    if not isinstance(event, Mapping):
        raise _malformed(event, "not a dict")
    kind = EVENT_TYPES.get(event.get("status"))  # type: ignore[arg-type]
    if kind is None:
        raise _malformed(event, f"status {event.get('status')!r} is not one of {', '.join(EVENT_STATUSES)}")
    video_task_id = event.get("video_task_id")
    if not isinstance(video_task_id, str) or not video_task_id:
        raise _malformed(event, "no video_task_id")
    raw_status = event.get("task_status")
    if kind is VideoSucceeded and not isinstance(raw_status, Mapping):
        raise _malformed(event, "success without task_status")
    task_status = None
    if isinstance(raw_status, Mapping):
        try:
            task_status = TaskStatus.from_dict(dict(raw_status))
        except (TypeError, ValueError, KeyError) as exc:
            raise _malformed(event, f"unreadable task_status: {exc}") from None
    if kind is VideoSucceeded and task_status is not None and task_status.state is not TaskState.SUCCEEDED:
        raise _malformed(event, f"success with task state {task_status.state.value}")
    error_dict = event.get("error")
    error = (ErrorData.from_dict(error_dict) if isinstance(error_dict, Mapping)
             else _legacy_error(event, kind, video_task_id))
    vendor = event.get("vendor")
    return kind(video_task_id, vendor if isinstance(vendor, str) else None, str(event.get("message") or ""),
                task_status=task_status, error=error, code=event.get("code"),
                trace_id=event.get("trace_id") if isinstance(event.get("trace_id"), str) else None)
