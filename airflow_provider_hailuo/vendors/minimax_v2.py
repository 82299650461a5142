"""MiniMax's video API v2 (MiniMax-H3, H3-Max): create, query, list, delete, Context-IR, regeneration.

Same ``hailuo_minimax`` connection, key and hosts as v1 (API_V2_NOTES "Hosts, auth, limits").
Sans-I/O like every dialect: :class:`H3Request` in, :class:`HttpRequest` out; an
:class:`HttpResponse` in, a task id, a :class:`V2Task`, a :class:`TaskPage`, a
:class:`DeleteOutcome` or an uploaded file id out. The video is at ``task.content.url`` (no file
lookup step): its "file lookup" is a fresh query, so an expired URL is refreshed, never resubmitted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote, urlparse

from airflow_provider_hailuo.core.cost import estimate_h3_cost
from airflow_provider_hailuo.core.h3 import H3Request
from airflow_provider_hailuo.core.media import MAX_BODY_BYTES, MediaUpload, MiB
from airflow_provider_hailuo.core.models import DownloadLocation, TaskStatus
from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError
from airflow_provider_hailuo.vendors.base import HttpRequest, HttpResponse, VendorDialect
from airflow_provider_hailuo.vendors.minimax import REGION, MiniMaxDialect
from airflow_provider_hailuo.vendors.minimax_v2_answers import (
    STATUS_WORDS,
    DeleteOutcome,
    TaskPage,
    V2Task,
    decode,
    parse_create,
    parse_delete,
    parse_list,
    parse_query,
    parse_task,
    parse_upload,
    protocol_error,
)

CREATE_PATH = "/v2/video_generation"
QUERY_PATH = "/v2/query/video_generation"
CONTEXT_IR_PATH = "/v2/h3_context_ir"
REGENERATION_PATH = "/v2/video_regeneration"
UPLOAD_PATH = "/v1/files/upload"


@dataclass(frozen=True)
class MultipartUpload:
    """``POST /v1/files/upload`` as multipart form data: ``purpose`` and the ``file`` part."""

    path: str
    fields: dict[str, str]
    file: MediaUpload
    method: str = "POST"
    endpoint: str = "upload"
    file_field: str = "file"
    #: A repeated upload makes a second file id, which costs nothing: safe to retry.
    idempotent: bool = True


# --- building -----------------------------------------------------------------------------------

def content_items(request: H3Request) -> list[dict[str, Any]]:
    """The ``content[]`` array: the prompt, then each medium with its role, in request order."""
    items: list[dict[str, Any]] = [{"type": "text", "text": request.prompt}]
    for media in request.media:
        if media.url is None:
            raise HailuoInvalidRequestError(
                f"{media.parameter}: {media.source} must be uploaded through {UPLOAD_PATH} before the create call "
                "(H3Request.pending_uploads, then with_uploaded).",
                parameter=media.parameter,
                value=media.source,
            )
        key = f"{media.kind}_url"
        items.append({"type": key, key: {"url": media.url}, "role": media.role})
    return items


def _check_body(body: dict[str, Any], request: H3Request) -> None:
    size = len(json.dumps(body).encode("utf-8"))
    if size > MAX_BODY_BYTES:
        biggest = max(request.media, key=lambda item: len(item.url or ""), default=None)
        parameter = biggest.parameter if biggest else "prompt"
        raise HailuoInvalidRequestError(
            f"{parameter}: the request body is {size / MiB:.1f} MB; MiniMax-H3 takes at most {MAX_BODY_BYTES // MiB}"
            " MB. Upload large media (mm_file://) or give https URLs instead of data: URLs.",
            parameter=parameter,
            value=size,
        )


def _quoted_id(task_id: object, parameter: str = "video_task_id") -> str:
    if isinstance(task_id, int) and not isinstance(task_id, bool):
        task_id = str(task_id)
    if not isinstance(task_id, str) or not task_id.strip():
        raise HailuoInvalidRequestError(f"{parameter} must be a non-empty task id; got {task_id!r}.",
                                        parameter=parameter, value=task_id)
    return quote(task_id.strip(), safe="")


def _callback(body: dict[str, Any], callback_url: str | None) -> dict[str, Any]:
    if callback_url is not None:
        parsed = urlparse(callback_url) if isinstance(callback_url, str) else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise HailuoInvalidRequestError(f"callback_url must be an http(s) URL; got {callback_url!r}.",
                                            parameter="callback_url", value=callback_url)
        body["callback_url"] = callback_url
    return body


def create_body(request: H3Request, callback_url: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"model": request.model, "content": content_items(request),
                            "resolution": request.resolution, "duration": request.duration, "ratio": request.ratio}
    if request.aigc_watermark is not None:
        body["aigc_watermark"] = request.aigc_watermark
    if request.prompt_expansion_mode is not None:
        body["extra"] = {"prompt_expansion_mode": request.prompt_expansion_mode}
    _check_body(body, request)
    return _callback(body, callback_url)


def build_create(request: H3Request, callback_url: str | None = None) -> HttpRequest:
    return HttpRequest("POST", CREATE_PATH, "submit", json=create_body(request, callback_url), idempotent=False)


def build_query(task_id: object) -> HttpRequest:
    return HttpRequest("GET", f"{QUERY_PATH}/{_quoted_id(task_id)}", "status")


def build_list(page_num: int = 1, page_size: int = 20, *, status: str | None = None,
               task_ids: Sequence[str] | str | None = None, model: str | None = None,
               task_type: str | None = None) -> HttpRequest:
    """One page of the last 7 days' tasks; filters as ``filter.<name>`` query parameters."""
    for name, number in (("page_num", page_num), ("page_size", page_size)):
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise HailuoInvalidRequestError(f"{name} must be a whole number from 1; got {number!r}.",
                                            parameter=name, value=number)
    if status is not None and str(status).strip().lower() not in STATUS_WORDS:
        raise HailuoInvalidRequestError(f"status filter {status!r} is not a v2 status; allowed: "
                                        f"{', '.join(sorted(set(STATUS_WORDS) - {'canceled'}))}.",
                                        parameter="status", value=status)
    params = {"page_num": str(page_num), "page_size": str(page_size)}
    ids = [task_ids] if isinstance(task_ids, str) else list(task_ids or [])
    filters = {"status": str(status).strip().lower() if status else None, "task_ids": ",".join(ids) or None,
               "model": model, "task_type": task_type}
    params.update({f"filter.{key}": value for key, value in filters.items() if value})
    return HttpRequest("GET", QUERY_PATH, "list", params=params)


def build_delete(task_id: object) -> HttpRequest:
    """Cancels a queued task (not charged) or deletes a finished one; a running task answers an error."""
    return HttpRequest("DELETE", f"{CREATE_PATH}/{_quoted_id(task_id)}", "delete")


def build_context_ir(request: H3Request, callback_url: str | None = None) -> HttpRequest:
    """H3-Context-IR: the prompt enhancer. Same content rules as create; answers a text task."""
    body: dict[str, Any] = {"model": request.model, "content": content_items(request),
                            "duration": request.duration, "ratio": request.ratio}
    _check_body(body, request)
    return HttpRequest("POST", CONTEXT_IR_PATH, "context_ir", json=_callback(body, callback_url),
                       idempotent=False)


def _check_regeneration_model(model: object) -> str:
    if model != "MiniMax-H3":
        raise HailuoInvalidRequestError(f"model {model!r} cannot be re-rendered at 2K; only MiniMax-H3 results can.",
                                        parameter="model", value=model)
    return model


def build_regeneration_from_task(model: object, source_task_id: object) -> HttpRequest:
    """The ``source_task_id`` form (access on request; a succeeded 768P task of this account, < 7 days)."""
    _quoted_id(source_task_id, "source_task_id")
    body = {"model": _check_regeneration_model(model), "source_task_id": str(source_task_id).strip(),
            "resolution": "2K"}
    return HttpRequest("POST", REGENERATION_PATH, "regeneration", json=body, idempotent=False)


def build_regeneration_from_video(request: H3Request, base_video_url: object) -> HttpRequest:
    """The ``base_video`` form: the original inputs with the final prompt, plus the 768P video."""
    url_ok = isinstance(base_video_url, str) and (
        base_video_url.startswith("mm_file://") or urlparse(base_video_url).scheme in ("http", "https"))
    if not url_ok:
        raise HailuoInvalidRequestError(f"base_video must be an https URL or an mm_file:// id; got {base_video_url!r}.",
                                        parameter="base_video", value=base_video_url)
    content = [*content_items(request), {"type": "video_url", "video_url": {"url": base_video_url},
                                         "role": "base_video"}]
    body = {"model": _check_regeneration_model(request.model), "content": content, "resolution": "2K"}
    _check_body(body, request)
    return HttpRequest("POST", REGENERATION_PATH, "regeneration", json=body, idempotent=False)


def build_upload(upload: MediaUpload) -> MultipartUpload:
    return MultipartUpload(UPLOAD_PATH, {"purpose": upload.purpose}, upload)


def upload_request(upload: MediaUpload) -> HttpRequest:
    """:func:`build_upload` as the transports' HttpRequest (multipart form)."""
    plan = build_upload(upload)
    return HttpRequest(plan.method, plan.path, plan.endpoint, idempotent=plan.idempotent, form=dict(plan.fields),
                       files=((plan.file_field, upload.filename, upload.data, upload.mime),))


class MiniMaxV2Dialect(MiniMaxDialect):
    """The v2 API behind the same connection; the VendorDialect methods the pollers already call."""

    display_name: ClassVar[str] = "MiniMax (video API v2)"
    video_by_file_id: ClassVar[bool] = False
    api: ClassVar[str] = "v2"
    can_cancel: ClassVar[bool] = True

    def __init__(self, region: str | None = None) -> None:
        #: The connection's ``region`` extra: global bills USD, China (the default host) CNY.
        self.region = region

    @property
    def currency(self) -> str:
        """The connection's region picks the price list: global (api.minimax.io) bills USD, China CNY."""
        return "USD" if str(self.region or "").strip().lower() in ("global", "intl") else "CNY"

    def for_api(self, api: str, model: object = None) -> VendorDialect:
        if api == "v1":
            return MiniMaxDialect()
        return super().for_api(api, model)

    def configure(self, extra: Any, conn_id: str | None = None) -> None:
        self.region = REGION.parse(extra)

    def build_upload(self, upload: MediaUpload) -> HttpRequest:
        return upload_request(upload)

    def parse_upload(self, response: HttpResponse) -> str:
        return parse_upload(response)

    def build_cancel(self, task_id: str) -> HttpRequest:
        return build_delete(task_id)

    def parse_cancel(self, response: HttpResponse, task_id: str) -> DeleteOutcome:
        return parse_delete(response, task_id)

    def build_list(self, **filters: Any) -> HttpRequest:
        return build_list(**filters)

    def build_context_ir(self, request: H3Request) -> HttpRequest:
        return build_context_ir(request)

    def build_regeneration(self, model: str, *, source_task_id: str | None = None, request: Any = None,
                           base_video_url: str | None = None) -> HttpRequest:
        """The ``source_task_id`` form when given, else the ``base_video`` form (request + the 768P video)."""
        if source_task_id is not None:
            return build_regeneration_from_task(model, source_task_id)
        return build_regeneration_from_video(request, base_video_url)

    def is_access_refusal(self, error: BaseException) -> bool:
        """MiniMax grants the source_task_id form of regeneration on request; without it: a 400 saying so."""
        from airflow_provider_hailuo.exceptions import HailuoVendorInvalidRequestError

        text = str(error).lower()
        return isinstance(error, HailuoVendorInvalidRequestError) and "access" in text

    def parse_list(self, response: HttpResponse) -> TaskPage:
        return parse_list(response)

    def estimated_cost(self, model: str | None, resolution: str | None,
                       duration: int | None) -> dict[str, Any] | None:
        """Output seconds only; ``H3Request.estimated_cost`` adds images and reference video."""
        if model is None or resolution is None or duration is None:
            return None
        return estimate_h3_cost(model, resolution, duration, currency=self.currency)

    def build_submit(self, request: VideoRequest | H3Request) -> HttpRequest:
        if not isinstance(request, H3Request):
            raise HailuoInvalidRequestError(f"model {request.model!r} is not served by MiniMax's video API v2; "
                                            "only MiniMax-H3 models are.", parameter="model", value=request.model)
        return build_create(request)

    def parse_submit(self, response: HttpResponse) -> str:
        return parse_create(response)

    def build_status(self, task_id: str) -> HttpRequest:
        return build_query(task_id)

    def parse_status(self, response: HttpResponse, task_id: str) -> TaskStatus:
        return parse_query(response, task_id).to_task_status()

    def build_file_lookup(self, task_id: str | None, file_id: str | None) -> HttpRequest:
        return build_query(task_id)  # the URL is in the task itself; a new query gives a fresh one

    def parse_file_lookup(self, response: HttpResponse, task_id: str | None,
                          file_id: str | None) -> DownloadLocation:
        task = parse_query(response, task_id or "")
        if task.video_url is None:
            raise protocol_error(f"task is {task.raw_status}, it has no video to download", task.trace_id, task.task_id)
        return DownloadLocation(url=task.video_url, filename="output.mp4")

    def content_location(self, task_id: str | None, file_id: str | None) -> DownloadLocation | None:
        return None


__all__ = ["STATUS_WORDS", "DeleteOutcome", "MiniMaxV2Dialect", "MultipartUpload", "TaskPage", "V2Task",
           "build_context_ir", "build_create", "build_delete", "build_list", "build_query",
           "build_regeneration_from_task", "build_regeneration_from_video", "build_upload", "content_items",
           "create_body", "decode", "parse_create", "parse_delete", "parse_list", "parse_query", "parse_task",
           "parse_upload", "upload_request"]
