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


def v2_estimated_cost(status: TaskStatus, request: H3Request | None = None,
                      region: str | None = None) -> Cost | None:
    """From what the vendor reports as billed (``usage``) when it does, else from the request."""
    model = status.model or (request.model if request else None)
    resolution = status.resolution or (request.resolution if request else None)
    estimated = cost_from_usage(model, resolution, status.usage, region) if model else None
    if estimated is None and request is not None:
        estimated = request.estimated_cost(region)
    return estimated


def v2_video_result(status: TaskStatus, request: H3Request | None = None, region: str | None = None) -> VideoResult:
    """The video result of a succeeded v2 task; ``request`` is None for a sensor that knows only the id."""
    return VideoResult.from_status(
        status,
        model=status.model or (request.model if request else None),
        duration=request.duration if request else None,
        resolution=status.resolution or (request.resolution if request else None),
        prompt=request.prompt if request else None,
        mode=request.mode if request else None,
        ratio=request.ratio if request else None,
        estimated_cost=v2_estimated_cost(status, request, region),
    )


def enhanced_prompt_result(status: TaskStatus) -> dict[str, Any]:
    """``HailuoEnhancePromptOperator``'s return value (CONTRACT): the H3-Context-IR answer."""
    return {"prompt": status.expanded_prompt, "video_task_id": status.task_id,
            "usage": dict(status.usage) if status.usage else None}
