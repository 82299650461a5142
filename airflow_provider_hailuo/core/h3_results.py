"""What finished MiniMax-H3 tasks hand back: the video result dict and the prompt enhancer's answer.

The contract's video result dict gains ``api``, ``mode``, ``ratio``, ``usage`` and
``estimated_cost`` for every model (CONTRACT "Added to every video result dict");
:class:`~core.models.VideoResult` carries them, and this module fills them for v2 tasks.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hailuo.core.cost import Cost, cost_from_usage
from airflow_provider_hailuo.core.h3 import H3Request
from airflow_provider_hailuo.core.models import TaskStatus, VideoResult

#: The short side of each H3 resolution; the long side follows the ratio (or the first frame's shape).
#: The emulator renders these sizes (emulator/v2_video.py); MiniMax publishes none.
SHORT_SIDE = {"480P": 480, "768P": 768, "2K": 1440}


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def h3_expected_size(request: H3Request) -> tuple[int, int] | None:
    """(width, height) the video should have: from the ratio, or an adaptive first frame's aspect."""
    short = SHORT_SIDE.get(request.resolution)
    aspect: float | None = None
    if request.ratio != "adaptive":
        width, height = (int(part) for part in request.ratio.split(":"))
        aspect = width / height
    else:
        frame = next((item for item in request.media if item.role == "first_frame"), None)
        if frame is not None and frame.width and frame.height:
            aspect = frame.width / frame.height
    if short is None or aspect is None:
        return None
    return (_even(short * aspect), short) if aspect >= 1 else (short, _even(short / aspect))


def v2_estimated_cost(status: TaskStatus, request: H3Request | None = None,
                      currency: str | None = None) -> Cost | None:
    """The request's estimate; a sensor that knows only the task id estimates from the reported usage."""
    if request is not None:
        return request.estimated_cost(currency)
    model, resolution = status.model, status.resolution
    return cost_from_usage(model, resolution, status.usage, currency) if model else None


def v2_video_result(status: TaskStatus, request: H3Request | None = None, currency: str | None = None) -> VideoResult:
    """The video result of a succeeded v2 task; ``request`` is None for a sensor that knows only the id."""
    return VideoResult.from_status(
        status,
        model=status.model or (request.model if request else None),
        duration=request.duration if request else None,
        resolution=status.resolution or (request.resolution if request else None),
        prompt=request.prompt if request else None,
        mode=request.mode if request else None,
        ratio=request.ratio if request else None,
        estimated_cost=v2_estimated_cost(status, request, currency),
    )


def enhanced_prompt_result(status: TaskStatus) -> dict[str, Any]:
    """``HailuoEnhancePromptOperator``'s return value (CONTRACT): the H3-Context-IR answer."""
    return {"prompt": status.expanded_prompt, "video_task_id": status.task_id,
            "usage": dict(status.usage) if status.usage else None}
