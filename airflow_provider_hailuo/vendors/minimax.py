"""MiniMax's own video API v1 (seeds 002, 003): ``/v1/video_generation`` and friends.

China host ``https://api.minimaxi.com``; international host ``https://api.minimax.io`` (extra
``region: "global"``). Keys are not interchangeable between the two (a China key on the global
host answers 1004). Errors come as HTTP 200 with a non-zero ``base_resp.status_code``: that
protocol (the code table, :meth:`MiniMaxDialect.check_base_resp`, the ``Trace-Id`` header) lives
here, and DMXAPI, which relays this API, builds on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_hailuo.core.capabilities import estimate_credits
from airflow_provider_hailuo.core.models import DownloadLocation, TaskState, TaskStatus
from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.exceptions import (
    HailuoAuthenticationError,
    HailuoConfigurationError,
    HailuoInsufficientBalanceError,
    HailuoModerationError,
    HailuoProtocolError,
    HailuoRateLimitError,
    HailuoTransientError,
    HailuoVendorError,
    HailuoVendorInvalidRequestError,
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
from airflow_provider_hailuo.vendors.spec import AuthStyle, Choice, ExtraField, VendorSpec

REGION_BASE_URLS = {"china": "https://api.minimaxi.com", "global": "https://api.minimax.io"}
REGION = ExtraField(
    name="region",
    label="Region",
    description="china: api.minimaxi.com (default); global: api.minimax.io. Keys are per region.",
    choices=(Choice("china", "api.minimaxi.com", aliases=("cn",)),
             Choice("global", "api.minimax.io", aliases=("intl",))),
    default="china",
)
SPEC = VendorSpec(
    name="minimax",
    display_name="MiniMax",
    conn_type="hailuo_minimax",
    hook_name="Hailuo (MiniMax)",
    hook_class_path="airflow_provider_hailuo.hooks.minimax.MiniMaxHook",
    default_conn_id="hailuo_minimax_default",
    default_base_url=REGION_BASE_URLS["china"],
    extra_fields=(REGION,),
    base_url_field="region",
    base_urls=REGION_BASE_URLS,
    auth=AuthStyle.BEARER,
    doc_url="https://platform.minimaxi.com/docs",
)
#: Answer headers holding MiniMax's request id (quoted in every error as its Trace-Id).
TRACE_HEADERS = ("Trace-Id", "X-Trace-Id", "Minimax-Request-Id", "X-Request-Id")

#: base_resp.status_code -> (meaning, error class). From API_NOTES.md and seed 002.
BASE_RESP_CODES: dict[int, tuple[str, type[HailuoVendorError]]] = {
    1000: ("unknown error", HailuoTransientError),
    1001: ("timeout", HailuoTransientError),
    1002: ("rate limited (requests per minute)", HailuoRateLimitError),
    1004: ("authentication failed (check the key; a China key does not work on the global host)",
           HailuoAuthenticationError),
    1008: ("insufficient balance", HailuoInsufficientBalanceError),
    1024: ("internal error", HailuoTransientError),
    1026: ("input (prompt or image) flagged as sensitive", HailuoModerationError),
    1027: ("generated video flagged as sensitive", HailuoModerationError),
    1033: ("system error", HailuoTransientError),
    1039: ("token limit", HailuoRateLimitError),
    1041: ("connection limit", HailuoRateLimitError),
    1042: ("invisible characters in input", HailuoVendorInvalidRequestError),
    2013: ("invalid parameters", HailuoVendorInvalidRequestError),
    2045: ("rate growth limit", HailuoRateLimitError),
    2049: ("invalid API key", HailuoAuthenticationError),
    2056: ("usage limit reached", HailuoInsufficientBalanceError),
}


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
    spec: ClassVar[VendorSpec] = SPEC
    trace_headers: ClassVar[tuple[str, ...]] = TRACE_HEADERS

    # -- the base_resp protocol ------------------------------------------------------------------
    def check_base_resp(self, data: Mapping[str, Any], response: HttpResponse, endpoint: str,
                        task_id: str | None = None) -> None:
        """MiniMax (and DMXAPI) answer errors with HTTP 200 and a non-zero base_resp.status_code."""
        base_resp = data.get("base_resp")
        if base_resp is None:
            return
        if not isinstance(base_resp, Mapping):
            raise self.error(HailuoProtocolError, f"{endpoint} answer has a malformed base_resp", response,
                             task_id=task_id)
        raw_code = base_resp.get("status_code", 0)
        try:
            code = int(raw_code)
        except (TypeError, ValueError):
            raise self.error(HailuoProtocolError, f"{endpoint} answer has base_resp.status_code {raw_code!r}",
                             response, task_id=task_id) from None
        if code == 0:
            return
        meaning, cls = BASE_RESP_CODES.get(code, ("unknown vendor error code", HailuoVendorError))
        message = str(base_resp.get("status_msg") or "").strip() or meaning
        raise self.error(cls, f"{endpoint} failed: {message}", response, code=code, meaning=meaning,
                         task_id=task_id)

    def error_detail(self, data: Any) -> str | None:
        base_resp = data.get("base_resp") if isinstance(data, Mapping) else None
        if super().error_detail(data) is None and isinstance(base_resp, Mapping) and base_resp.get("status_msg"):
            return str(base_resp["status_msg"])
        return super().error_detail(data)

    def error_code(self, data: Any) -> int | str | None:
        code = super().error_code(data)
        base_resp = data.get("base_resp") if isinstance(data, Mapping) else None
        if code is None and isinstance(base_resp, Mapping) and base_resp.get("status_code"):
            raw = base_resp["status_code"]
            return raw if isinstance(raw, (int, str)) else str(raw)
        return code

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
