"""Plain values the layers pass to each other: modes, task states, poll answers, results."""

from __future__ import annotations

import copy
import enum
from dataclasses import asdict, dataclass, field, fields
from typing import Any


class Mode(str, enum.Enum):
    """What kind of generation a request is; follows from which inputs are given."""

    TEXT = "text"
    IMAGE = "image"
    FIRST_LAST_FRAME = "first_last_frame"
    SUBJECT_REFERENCE = "subject_reference"
    #: MiniMax-H3 (v2) with reference images, videos or audios.
    REFERENCE = "reference"

    @property
    def label(self) -> str:
        return _MODE_LABELS[self]


_MODE_LABELS = {
    Mode.TEXT: "text-to-video",
    Mode.IMAGE: "image-to-video",
    Mode.FIRST_LAST_FRAME: "first+last-frame",
    Mode.SUBJECT_REFERENCE: "subject-reference",
    Mode.REFERENCE: "reference-to-video",
}


class TaskState(str, enum.Enum):
    """One vocabulary for every vendor's task status."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in (TaskState.SUCCEEDED, TaskState.FAILED)


@dataclass(frozen=True)
class TaskStatus:
    """One poll answer, parsed. ``raw_status`` keeps the vendor's own word for logs."""

    vendor: str
    task_id: str
    state: TaskState
    raw_status: str
    file_id: str | None = None
    video_url: str | None = None
    video_width: int | None = None
    video_height: int | None = None
    duration: int | None = None
    error_message: str | None = None
    error_code: int | str | None = None
    trace_id: str | None = None
    #: Filled by the v2 (MiniMax-H3) dialect; v1 answers leave the defaults (old event dicts inflate).
    api: str = "v1"
    model: str | None = None
    resolution: str | None = None
    ratio: str | None = None
    usage: dict[str, Any] | None = None
    task_type: str | None = None
    #: H3-Context-IR tasks answer text, not a video: the expanded prompt.
    expanded_prompt: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # Field by field rather than dataclasses.asdict, which deep-copies every value: one event per
        # trigger, a thousand in the same seconds. Only ``usage`` is a container, and it is copied.
        data = {name: getattr(self, name) for name in _STATUS_FIELDS}
        data["state"] = self.state.value
        if self.usage is not None:
            data["usage"] = copy.deepcopy(self.usage)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskStatus:
        values = dict(data)
        values["state"] = TaskState(values["state"])
        return cls(**values)


_STATUS_FIELDS = tuple(one.name for one in fields(TaskStatus))


@dataclass(frozen=True)
class DownloadLocation:
    """Where the finished video can be fetched from right now.

    ``url`` and ``backup_url`` are signed links that need no key (never send the key to them);
    when ``content_path`` is set instead, the bytes come from the vendor's own API with the key.
    ``expected_bytes`` is None when the vendor did not say (MiniMax often says ``bytes: 0``).
    """

    url: str | None = None
    backup_url: str | None = None
    content_path: str | None = None
    content_params: dict[str, str] = field(default_factory=dict)
    expected_bytes: int | None = None
    filename: str | None = None


@dataclass(frozen=True)
class VideoResult:
    """The contract's video result dict (XCom value of the generate operator and the sensor)."""

    vendor: str
    model: str | None
    video_task_id: str
    status: str = "succeeded"
    file_id: str | None = None
    video_url: str | None = None
    video_width: int | None = None
    video_height: int | None = None
    duration: int | None = None
    resolution: str | None = None
    prompt: str | None = None
    #: Which vendor API served it: "v1" (the Hailuo models) or "v2" (MiniMax-H3).
    api: str = "v1"
    #: ``Mode`` value (text, image, first_last_frame, subject_reference, reference); None when unknown
    #: (a sensor waiting for a task submitted elsewhere does not know the request).
    mode: str | None = None
    ratio: str | None = None
    #: What the vendor reports as billed, e.g. ``{"output_seconds": 6}``; None when it reports nothing.
    usage: dict[str, Any] | None = None
    #: ``{"amount": float, "unit": "credits"|"USD"|"CNY"}``, or None where no price is known.
    estimated_cost: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_status(
        cls,
        status: TaskStatus,
        *,
        model: str | None = None,
        duration: int | None = None,
        resolution: str | None = None,
        prompt: str | None = None,
        mode: Mode | str | None = None,
        estimated_cost: dict[str, Any] | None = None,
        ratio: str | None = None,
    ) -> VideoResult:
        """``api``, ``ratio`` and ``usage`` come from the status (v2 reports them; v1 leaves the
        defaults); ``ratio`` given here is the request's, used when the answer does not say."""
        return cls(
            vendor=status.vendor,
            model=model,
            video_task_id=status.task_id,
            status="succeeded",
            file_id=status.file_id,
            video_url=status.video_url,
            video_width=status.video_width,
            video_height=status.video_height,
            duration=status.duration if status.duration is not None else duration,
            resolution=resolution,
            prompt=prompt,
            mode=mode.value if isinstance(mode, Mode) else mode,
            estimated_cost=estimated_cost,
            api=status.api,
            ratio=status.ratio or ratio,
            usage=dict(status.usage) if status.usage else None,
        )
