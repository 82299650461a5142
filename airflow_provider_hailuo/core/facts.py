"""What a request says about the video it will give, carried from submit to result.

Worked out once, when the request is built (the images are read then), and carried through
deferral as JSON (``defer(kwargs=...)``), so ``execute_complete`` reads nothing again: no
request is rebuilt and no first-frame image is fetched a second time only to know a pixel size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from airflow_provider_hailuo.core.capabilities import (
    PIXEL_SIZES,
    check_model_options,
    get_capability,
    normalise_duration,
    normalise_resolution,
)
from airflow_provider_hailuo.core.models import Mode, TaskStatus, VideoResult
from airflow_provider_hailuo.core.request import VideoRequest, infer_mode
from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError


@dataclass(frozen=True)
class RequestFacts:
    """JSON-safe facts of one request: no key, no image, no ``data:`` URL."""

    model: str | None
    duration: int | None = None
    resolution: str | None = None
    mode: str | None = None
    #: (width, height) the video should have when the vendor does not say; None when unknown.
    expected_size: tuple[int, int] | None = None
    prompt: str | None = None
    #: ``{"amount", "unit"}`` at the vendor's published prices, or None.
    estimated_cost: dict[str, Any] | None = None
    #: Which vendor API the request went to, and the requested ratio (v2 only).
    api: str = "v1"
    ratio: str | None = None

    @classmethod
    def of(cls, request: VideoRequest, *, estimated_cost: dict[str, Any] | None = None) -> RequestFacts:
        return cls(request.model, request.effective_duration, request.effective_resolution, request.mode.value,
                   request.expected_size(), request.prompt, estimated_cost)

    @classmethod
    def of_h3(cls, request: Any, *, estimated_cost: dict[str, Any] | None = None) -> RequestFacts:
        """The facts of an :class:`~core.h3.H3Request` (video API v2)."""
        from airflow_provider_hailuo.core.h3_results import h3_expected_size

        return cls(request.model, request.duration, request.resolution, request.mode.value,
                   h3_expected_size(request), request.prompt, estimated_cost, api="v2", ratio=request.ratio)

    @classmethod
    def from_parameters(cls, *, model: object, duration: object, resolution: object, prompt: object,
                        first_frame_image: object, last_frame_image: object,
                        subject_reference: object) -> RequestFacts:
        """Best effort from the rendered parameters, reading no image (a task deferred by a release
        that did not carry facts): the pixel size is known only where no first frame decides it."""
        text = prompt if isinstance(prompt, str) and prompt.strip() else None
        try:
            mode = infer_mode(first_frame_image, last_frame_image, subject_reference)
            capability = get_capability(model)
            seconds, size_name = check_model_options(capability, mode, normalise_duration(duration),
                                                     normalise_resolution(resolution))
        except HailuoInvalidRequestError:
            return cls(str(model) if model else None, prompt=text)
        size = PIXEL_SIZES.get(size_name or "") if mode in (Mode.TEXT, Mode.SUBJECT_REFERENCE) else None
        return cls(capability.name, seconds, size_name, mode.value, size, text)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["expected_size"] = list(self.expected_size) if self.expected_size else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RequestFacts:
        size = data.get("expected_size")
        return cls(data.get("model"), data.get("duration"), data.get("resolution"), data.get("mode"),
                   (int(size[0]), int(size[1])) if isinstance(size, (list, tuple)) and len(size) == 2 else None,
                   data.get("prompt"),
                   dict(data["estimated_cost"]) if isinstance(data.get("estimated_cost"), Mapping) else None,
                   api=str(data.get("api") or "v1"), ratio=data.get("ratio"))

    def result_for(self, status: TaskStatus) -> dict[str, Any]:
        """The contract's video result dict; the pixel size from the facts where the vendor gave none."""
        # The estimate stays the one made before sending (what max_cost was checked against); the billed
        # cost, from the vendor's usage, is worked out beside it where the result is recorded (core.cost).
        result = VideoResult.from_status(status, model=self.model, duration=self.duration,
                                         resolution=self.resolution, prompt=self.prompt, mode=self.mode,
                                         estimated_cost=self.estimated_cost, ratio=self.ratio).to_dict()
        if (result["video_width"] is None or result["video_height"] is None) and self.expected_size:
            result["video_width"], result["video_height"] = self.expected_size
        return result
