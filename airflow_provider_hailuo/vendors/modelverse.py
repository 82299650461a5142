"""Modelverse's task API (seed 004): ``/v1/tasks/submit`` and ``/v1/tasks/status``.

The body nests inputs under ``input`` and options under ``parameters``; the key goes raw in
``Authorization``; statuses are ``Pending``, ``Running``, ``Success``, ``Failure``; the finished
video is given directly as ``output.urls`` (there is no file id). Errors are HTTP errors with an
OpenAI-style ``error`` object (MiniMax's ``base_resp`` protocol is not used). The documents show no
``subject_reference``, so subject-reference requests are refused before sending.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_hailuo.core.models import DownloadLocation, Mode, TaskState, TaskStatus
from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.exceptions import (
    HailuoInvalidRequestError,
    HailuoModerationError,
    HailuoProtocolError,
    HailuoVendorError,
)
from airflow_provider_hailuo.vendors.base import (
    HttpRequest,
    HttpResponse,
    VendorDialect,
    as_str_id,
    check_download_url,
    map_status_word,
    optional_int,
)
from airflow_provider_hailuo.vendors.reseller_prices import PRICES, ResellerPricing
from airflow_provider_hailuo.vendors.spec import AuthStyle, VendorSpec

SPEC = VendorSpec(
    name="modelverse",
    display_name="Modelverse",
    conn_type="hailuo_modelverse",
    hook_name="Hailuo (Modelverse)",
    hook_class_path="airflow_provider_hailuo.hooks.modelverse.ModelverseHook",
    default_conn_id="hailuo_modelverse_default",
    default_base_url="https://api.modelverse.cn",
    auth=AuthStyle.RAW,
    extra_fields=(PRICES,),
)


class ModelverseDialect(ResellerPricing, VendorDialect):
    spec: ClassVar[VendorSpec] = SPEC
    trace_headers: ClassVar[tuple[str, ...]] = ("Trace-Id", "X-Trace-Id", "X-Request-Id")
    supported_modes: ClassVar[frozenset[Mode]] = frozenset({Mode.TEXT, Mode.IMAGE, Mode.FIRST_LAST_FRAME})
    video_by_file_id: ClassVar[bool] = False  # output.urls of the status answer instead

    #: Seed 004 documents the Hailuo models only, and ``input.prompt`` as required in every mode.
    supported_models: ClassVar[frozenset[str]] = frozenset(
        {"MiniMax-Hailuo-2.3", "MiniMax-Hailuo-2.3-Fast", "MiniMax-Hailuo-02"}
    )

    def check_supported(self, request: VideoRequest) -> None:
        super().check_supported(request)
        if request.model not in self.supported_models:
            raise HailuoInvalidRequestError(
                f"model {request.model!r} is not sold through Modelverse's task API; allowed there: "
                f"{', '.join(sorted(self.supported_models))}.",
                parameter="model",
                value=request.model,
            )
        if not request.prompt:
            raise HailuoInvalidRequestError(
                "prompt is required by Modelverse in every mode (input.prompt is mandatory in its API); "
                f"got {request.prompt!r}.",
                parameter="prompt",
                value=request.prompt,
            )

    def http_error(self, status: int, code: int | str | None) -> tuple[str, type[HailuoVendorError]]:
        # Flagged input comes back as HTTP 400 with a "sensitive" code: moderation, not bad parameters.
        if isinstance(code, str) and "sensitive" in code.lower():
            return "flagged as sensitive", HailuoModerationError
        return super().http_error(status, code)

    def build_submit(self, request: VideoRequest) -> HttpRequest:
        self.check_supported(request)
        inputs = {
            "prompt": request.prompt,
            "first_frame_image": request.first_frame_image,
            "last_frame_image": request.last_frame_image,
        }
        parameters = {
            "duration": request.duration,
            "resolution": request.resolution,
            "prompt_optimizer": request.prompt_optimizer,
            "fast_pretreatment": request.fast_pretreatment,
            "aigc_watermark": request.aigc_watermark,
        }
        body: dict[str, Any] = {
            "model": request.model,
            "input": {k: v for k, v in inputs.items() if v is not None},
        }
        sent_parameters = {k: v for k, v in parameters.items() if v is not None}
        if sent_parameters:
            body["parameters"] = sent_parameters
        return HttpRequest("POST", "/v1/tasks/submit", "submit", json=body, idempotent=False)

    def parse_submit(self, response: HttpResponse) -> str:
        data = self.decode_json(response, "submit")
        output = data.get("output")
        task_id = output.get("task_id") if isinstance(output, Mapping) else data.get("task_id")
        return as_str_id(task_id, self.name, "output.task_id", self.trace_id(response, data))

    def build_status(self, task_id: str) -> HttpRequest:
        return HttpRequest("GET", "/v1/tasks/status", "status", params={"task_id": task_id})

    def parse_status(self, response: HttpResponse, task_id: str) -> TaskStatus:
        data = self.decode_json(response, "status", task_id)
        output = data.get("output")
        if not isinstance(output, Mapping):
            raise self.error(HailuoProtocolError, "status answer has no 'output' object", response,
                             task_id=task_id, retryable=True)
        raw = output.get("task_status")
        state = map_status_word(raw)
        if state is None:
            raise self.error(HailuoProtocolError, f"status answer has an unknown task_status {raw!r}",
                             response, task_id=task_id)
        urls = output.get("urls") or []
        if not isinstance(urls, list):
            raise self.error(HailuoProtocolError, "output.urls is not a list", response, task_id=task_id)
        video_url = None
        if state is TaskState.SUCCEEDED:
            if not urls:
                raise self.error(HailuoProtocolError, "task_status is Success but output.urls is empty",
                                 response, task_id=task_id, retryable=True)
            video_url = check_download_url(urls[0], self.name, "output.urls[0]")
        usage = data.get("usage") if isinstance(data.get("usage"), Mapping) else {}
        error_message = None
        if state is TaskState.FAILED:
            error_message = str(output.get("error_message") or "the vendor gave no reason")
        return TaskStatus(
            vendor=self.name,
            task_id=str(output.get("task_id") or task_id),
            state=state,
            raw_status=str(raw),
            video_url=video_url,
            duration=optional_int((usage or {}).get("duration")),
            error_message=error_message,
            trace_id=self.trace_id(response, data),
        )

    def build_file_lookup(self, task_id: str | None, file_id: str | None) -> HttpRequest:
        # No files API: the status answer carries fresh URLs, so asking again is the lookup.
        if not task_id:
            raise HailuoProtocolError("Modelverse needs the video_task_id to find the video", vendor=self.name)
        return self.build_status(task_id)

    def parse_file_lookup(self, response: HttpResponse, task_id: str | None,
                          file_id: str | None) -> DownloadLocation:
        status = self.parse_status(response, task_id or "")
        if status.state is not TaskState.SUCCEEDED:
            raise self.error(HailuoProtocolError,
                             f"task is {status.raw_status}, not Success: no video to download yet",
                             response, task_id=task_id)
        data = self.decode_json(response, "status", task_id)
        urls = data["output"].get("urls") or []
        backup = check_download_url(urls[1], self.name, "output.urls[1]") if len(urls) > 1 else None
        return DownloadLocation(url=status.video_url, backup_url=backup)
