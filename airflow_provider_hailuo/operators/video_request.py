"""From the generate operator's parameters to a checked request: v1 (``VideoRequest``) or v2 (``H3Request``).

The one place the API is chosen: by the model (``core.h3.api_for_model``: MiniMax-H3 models go to
video API v2, every other model to v1). Options of the other API are refused first, then the
request of the chosen API checks everything else; nothing here sends a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_hailuo.core.facts import RequestFacts
from airflow_provider_hailuo.core.h3 import H3Request, api_for_model, check_options_for_model
from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.operators.budget import enforce_max_cost
from airflow_provider_hailuo.operators.image_reader import object_storage_reader


def request_api(request: object) -> str:
    """Which vendor API a built request goes to."""
    return "v2" if isinstance(request, H3Request) else "v1"


def build_video_request(params: Mapping[str, Any], image_conn_id: str | None) -> VideoRequest | H3Request:
    """``params`` are the operator's rendered parameters (the contract's names)."""
    model = params["model"]
    check_options_for_model(model, params)
    read_object = object_storage_reader(image_conn_id)
    if api_for_model(model) == "v2":
        return H3Request.build(
            model=model, prompt=params.get("prompt"), duration=params.get("duration"),
            resolution=params.get("resolution"), ratio=params.get("ratio"),
            first_frame_image=params.get("first_frame_image"), last_frame_image=params.get("last_frame_image"),
            reference_images=params.get("reference_images"), reference_videos=params.get("reference_videos"),
            reference_audios=params.get("reference_audios"),
            prompt_expansion_mode=params.get("prompt_expansion_mode"),
            aigc_watermark=params.get("aigc_watermark"), read_object=read_object,
        )
    return VideoRequest.build(
        model=model, prompt=params.get("prompt"), duration=params.get("duration"),
        resolution=params.get("resolution"), first_frame_image=params.get("first_frame_image"),
        last_frame_image=params.get("last_frame_image"), subject_reference=params.get("subject_reference"),
        prompt_optimizer=params.get("prompt_optimizer"), fast_pretreatment=params.get("fast_pretreatment"),
        aigc_watermark=params.get("aigc_watermark"), read_object=read_object,
    )


def facts_for(request: VideoRequest | H3Request, hook: Any, *, max_cost: object = None) -> RequestFacts:
    """The request's facts with its estimated cost at the connection's prices; over ``max_cost`` (or
    unpriced with one set) raises before anything is sent (``operators.budget``)."""
    if isinstance(request, H3Request):
        currency = getattr(hook.priced_dialect(), "currency", None)  # the region, from the connection
        facts = RequestFacts.of_h3(request, estimated_cost=request.estimated_cost(currency))
    else:
        facts = RequestFacts.of(request, estimated_cost=hook.estimated_cost(
            request.model, request.effective_resolution, request.effective_duration))
    enforce_max_cost(max_cost, facts.estimated_cost, f"{request.summary()} via {hook.vendor}")
    return facts


def describe_cost(facts: RequestFacts) -> str:
    cost = facts.estimated_cost
    return f"{cost['amount']:g} {cost['unit']}" if cost else "unknown"
