"""MiniMax's own video API v1 (seeds 002, 003): ``/v1/video_generation`` and friends.

China host ``https://api.minimaxi.com``; international host ``https://api.minimax.io`` (extra
``region: "global"``). Keys are not interchangeable between the two (a China key on the global
host answers 1004). Errors come as HTTP 200 with a non-zero ``base_resp.status_code``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_hailuo.core.capabilities import estimate_credits
from airflow_provider_hailuo.core.models import DownloadLocation, TaskState, TaskStatus
from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.exceptions import HailuoConfigurationError, HailuoProtocolError
from airflow_provider_hailuo.vendors.base import (
    HttpRequest,
    HttpResponse,
    VendorDialect,
    as_str_id,
    check_download_url,
    map_status_word,
    optional_int,
)

REGION_BASE_URLS = {"china": "https://api.minimaxi.com", "cn": "https://api.minimaxi.com",
                    "global": "https://api.minimax.io", "intl": "https://api.minimax.io"}


def flat_payload(request: VideoRequest) -> dict[str, Any]:
    """The flat JSON body MiniMax (and DMXAPI, which relays it) takes; unset fields are not sent."""
    fields: dict[str, Any] = {
        "model": request.model,
        "prompt": request.prompt,
        "duration": request.duration,
        "resolution": request.resolution,
        "first_frame_image": request.first_frame_image,
        "last_frame_image": request.last_frame_image,
        "subject_reference": request.subject_reference,
        "prompt_optimizer": request.prompt_optimizer,
        "fast_pretreatment": request.fast_pretreatment,
        "aigc_watermark": request.aigc_watermark,
    }
    return {key: value for key, value in fields.items() if value is not None}


class MiniMaxDialect(VendorDialect):
    name: ClassVar[str] = "minimax"
    display_name: ClassVar[str] = "MiniMax"
    default_base_url: ClassVar[str] = "https://api.minimaxi.com"

    def base_url(self, extra: Mapping[str, Any]) -> str:
        region = extra.get("region")
        if region in (None, ""):
            return self.default_base_url
        key = str(region).strip().lower()
        if key not in REGION_BASE_URLS:
            raise HailuoConfigurationError(
                f"connection extra region {region!r} is not known; allowed: 'china' (api.minimaxi.com) "
                "or 'global' (api.minimax.io).",
                parameter="region",
                value=region,
            )
        return REGION_BASE_URLS[key]

    # -- submit ------------------------------------------------------------------------------
    def build_submit(self, request: VideoRequest) -> HttpRequest:
        self.check_supported(request)
        return HttpRequest("POST", "/v1/video_generation", "submit", json=flat_payload(request),
                           idempotent=False)

    def parse_submit(self, response: HttpResponse) -> str:
        data = self.decode_json(response, "submit")
        self.check_base_resp(data, response, "submit")
        return as_str_id(data.get("task_id"), self.name, "task_id", self.trace_id(response, data))

    # -- status ------------------------------------------------------------------------------
    def build_status(self, task_id: str) -> HttpRequest:
        return HttpRequest("GET", "/v1/query/video_generation", "status", params={"task_id": task_id})

    def parse_status(self, response: HttpResponse, task_id: str) -> TaskStatus:
        data = self.decode_json(response, "status", task_id)
        self.check_base_resp(data, response, "status", task_id)
        raw = data.get("status")
        state = map_status_word(raw)
        trace = self.trace_id(response, data)
        if state is None:
            raise self.error(
                HailuoProtocolError,
                f"status answer has an unknown status {raw!r}",
                response,
                task_id=task_id,
            )
        file_id = data.get("file_id")
        if state is TaskState.SUCCEEDED and file_id in (None, ""):
            raise self.error(HailuoProtocolError, "status is Success but the answer has no file_id", response,
                             task_id=task_id, retryable=True)
        error_message = None
        if state is TaskState.FAILED:
            base_resp = data.get("base_resp") if isinstance(data.get("base_resp"), Mapping) else {}
            msg = (data.get("error_message") or data.get("fail_reason")
                   or (base_resp or {}).get("status_msg"))
            error_message = str(msg) if msg and str(msg).lower() != "success" else "the vendor gave no reason"
        return TaskStatus(
            vendor=self.name,
            task_id=str(data.get("task_id") or task_id),
            state=state,
            raw_status=str(raw),
            file_id=as_str_id(file_id, self.name, "file_id") if file_id not in (None, "") else None,
            video_width=optional_int(data.get("video_width")),
            video_height=optional_int(data.get("video_height")),
            error_message=error_message,
            trace_id=trace,
        )

    # -- files -------------------------------------------------------------------------------
    def build_file_lookup(self, task_id: str | None, file_id: str | None) -> HttpRequest:
        if not file_id:
            raise HailuoConfigurationError(
                f"{self.display_name} needs the file_id of a finished task to find its video; got "
                f"file_id={file_id!r} for video_task_id={task_id!r}.",
                parameter="file_id",
                value=file_id,
            )
        return HttpRequest("GET", "/v1/files/retrieve", "retrieve", params={"file_id": str(file_id)})

    def parse_file_lookup(self, response: HttpResponse, task_id: str | None,
                          file_id: str | None) -> DownloadLocation:
        data = self.decode_json(response, "retrieve", task_id)
        self.check_base_resp(data, response, "retrieve", task_id)
        file = data.get("file")
        if not isinstance(file, Mapping):
            raise self.error(HailuoProtocolError, "files/retrieve answer has no 'file' object", response,
                             task_id=task_id)
        url = check_download_url(file.get("download_url"), self.name, "file.download_url")
        backup = file.get("backup_download_url")
        size = optional_int(file.get("bytes"))
        return DownloadLocation(
            url=url,
            backup_url=check_download_url(backup, self.name, "file.backup_download_url") if backup else None,
            expected_bytes=size if size and size > 0 else None,  # "bytes" is often 0: unknown
            filename=str(file.get("filename") or "") or None,
        )

    def content_location(self, task_id: str | None, file_id: str | None) -> DownloadLocation | None:
        if not file_id:
            return None
        return DownloadLocation(content_path="/v1/files/retrieve_content",
                                content_params={"file_id": str(file_id)})

    def estimated_cost(self, model: str | None, resolution: str | None,
                       duration: int | None) -> dict[str, Any] | None:
        # Seed 002's price table is MiniMax's own (credits, China); resellers price differently.
        credits = estimate_credits(model, resolution, duration)
        return {"amount": credits, "unit": "credits"} if credits is not None else None
