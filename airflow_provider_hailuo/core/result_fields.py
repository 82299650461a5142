"""The keys the contract adds to every video result dict: ``api``, ``mode``, ``ratio``, ``usage``,
``estimated_cost`` (CONTRACT "Added to every video result dict"), and the prompt enhancer's result.

Kept apart from :class:`~core.models.VideoResult` so the operator and the sensor merge them into
the dict they already return (``{**VideoResult.to_dict(), **fields}``) without changing v1's shape
until the wiring lands.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hailuo.core.cost import cost_from_usage, estimate_v1_cost
from airflow_provider_hailuo.core.h3 import H3Request
from airflow_provider_hailuo.core.models import TaskStatus
from airflow_provider_hailuo.core.request import VideoRequest


def v1_result_fields(request: VideoRequest | None) -> dict[str, Any]:
    """v1 reports no usage and has no ratio; its estimate is the seed-002 credits of the clip."""
    if request is None:  # the sensor knows only a task id
        return {"api": "v1", "mode": None, "ratio": None, "usage": None, "estimated_cost": None}
    return {
        "api": "v1",
        "mode": request.mode.value,
        "ratio": None,
        "usage": None,
        "estimated_cost": estimate_v1_cost(request.model, request.effective_resolution, request.effective_duration),
    }


def v2_result_fields(status: TaskStatus, request: H3Request | None = None, region: str | None = None) -> dict[str, Any]:
    """From the finished task (what was billed) and, when known, the request that made it.

    The cost comes from the task's ``usage`` when the vendor reported it, else from the request.
    """
    model = status.model or (request.model if request else None)
    resolution = status.resolution or (request.resolution if request else None)
    estimated = cost_from_usage(model, resolution, status.usage, region) if model else None
    if estimated is None and request is not None:
        estimated = request.estimated_cost(region)
    return {
        "api": "v2",
        "mode": request.mode.value if request else None,
        "ratio": status.ratio or (request.ratio if request else None),
        "usage": dict(status.usage) if status.usage else None,
        "estimated_cost": estimated,
    }


def enhanced_prompt_result(status: TaskStatus) -> dict[str, Any]:
    """``HailuoEnhancePromptOperator``'s return value (CONTRACT): the H3-Context-IR answer."""
    return {"prompt": status.expanded_prompt, "video_task_id": status.task_id,
            "usage": dict(status.usage) if status.usage else None}
