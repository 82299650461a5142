"""``HailuoGenerateVideoOperator``: one Hailuo video, from request to result dict.

Validate (nothing leaves on bad input) -> submit through the connection's hook -> remember the
vendor task id in ``task_state_store`` -> wait (deferred to ``HailuoVideoTrigger`` by default, or
polling in the worker) -> return the contract's video result dict.

No heavy imports at module level: DAG files import this at parse time, so hooks (aiohttp,
requests), Pillow and the trigger are imported inside the methods that need them.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import ResumableJobMixin
from airflow.sdk import BaseOperator

from airflow_provider_hailuo.core.capabilities import (
    PIXEL_SIZES,
    check_model_options,
    get_capability,
    normalise_duration,
    normalise_resolution,
)
from airflow_provider_hailuo.core.models import Mode, TaskState, TaskStatus, VideoResult
from airflow_provider_hailuo.core.request import VideoRequest, infer_mode
from airflow_provider_hailuo.exceptions import (
    HailuoError,
    HailuoInvalidRequestError,
    HailuoModerationError,
    HailuoVendorInvalidRequestError,
)
from airflow_provider_hailuo.operators._common import (
    DEFAULT_INITIAL_DELAY,
    DEFAULT_MAX_TRANSIENT_ERRORS,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TIMEOUT,
    StatusPoller,
    as_seconds,
    default_deferrable,
    object_storage_reader,
    random_jitter,
    status_from_event,
)

if TYPE_CHECKING:
    from airflow.sdk import Context
    from pydantic import JsonValue

    from airflow_provider_hailuo.hooks.base import HailuoHook

DEFAULT_CONN_ID = "hailuo_minimax_default"
#: task_state_store key of the submitted vendor task. Renaming it breaks resuming in-flight retries.
TASK_STATE_KEY = "hailuo_video_task"
_ACTIVE = frozenset({TaskState.QUEUED.value, TaskState.RUNNING.value})


def request_fingerprint(request: VideoRequest) -> str:
    """A hash of everything that is sent, to tell whether a stored vendor task belongs to this request."""
    fields = asdict(request)
    for derived in ("warnings", "effective_duration", "effective_resolution"):
        fields.pop(derived, None)
    text = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _stored_task(value: object) -> dict[str, str | None] | None:
    """The stored vendor task, ``{"video_task_id", "vendor", "request_sha256"}``; a bare id is accepted."""
    if isinstance(value, str) and value:
        return {"video_task_id": value, "vendor": None, "request_sha256": None}
    if isinstance(value, Mapping) and isinstance(value.get("video_task_id"), str) and value["video_task_id"]:
        return {
            "video_task_id": value["video_task_id"],
            "vendor": value.get("vendor") if isinstance(value.get("vendor"), str) else None,
            "request_sha256": value.get("request_sha256") if isinstance(value.get("request_sha256"), str) else None,
        }
    return None


# Why ResumableJobMixin, in both modes: its execute_resumable() is exactly the decision this operator
# needs before it waits, whichever way it then waits: read the stored vendor task id, ask its status,
# and reconnect (queued/running), return its result (succeeded) or submit anew (failed). The id is
# persisted right after submit_job() returns and before poll_until_complete() starts waiting. Our
# poll_until_complete() either polls in the worker (deferrable=False) or checks once and defers to
# the trigger: the TaskDeferred it raises passes through the mixin untouched, and the id is already
# stored. One decision path for both modes, plus Airflow's own resumable-job logs, spans and
# metrics. On Airflow < 3.3 the compat stand-in submits on every try; execute() says so in the log.
class HailuoGenerateVideoOperator(ResumableJobMixin, BaseOperator):
    """Generate one video with MiniMax Hailuo through MiniMax, DMXAPI or Modelverse.

    The mode follows from the inputs: text (``prompt`` only), image (``first_frame_image``),
    first+last frame (both frames, ``MiniMax-Hailuo-02``) or subject reference
    (``subject_reference``, ``S2V-01``). Images may be https URLs, ``data:`` URLs, local paths or
    object-storage URIs (read with ``ObjectStoragePath``, connection ``image_conn_id``).

    :param hailuo_conn_id: a ``hailuo_minimax``, ``hailuo_dmxapi`` or ``hailuo_modelverse`` connection.
    :param model: e.g. ``MiniMax-Hailuo-2.3``, ``MiniMax-Hailuo-02``, ``S2V-01``.
    :param prompt: the description (templated), up to 2000 characters; camera commands in brackets.
    :param duration: seconds (6 or 10 where the model offers it); unset: the model's default.
    :param resolution: ``512P``, ``768P``, ``1080P`` where the model offers it; unset: its default.
    :param first_frame_image: image for image-to-video and first+last-frame (templated).
    :param last_frame_image: last frame for first+last-frame (templated).
    :param subject_reference: one image or ``[{"type": "character", "image": [...]}]`` (templated).
    :param prompt_optimizer: let the vendor rewrite the prompt (vendor default when unset).
    :param fast_pretreatment: shorter prompt optimisation (Hailuo-02 / 2.3 only).
    :param aigc_watermark: ask for the AI-generated watermark.
    :param deferrable: wait in the triggerer instead of holding a worker slot. Default: Airflow's
        ``[operators] default_deferrable``, or True when that is not set.
    :param poll_interval: seconds between status queries (default 15; grows up to twice that). The
        *first* query comes ``initial_delay`` after submitting, not ``poll_interval``.
    :param initial_delay: seconds from the submit to the first status query. Unset: 30 s when
        deferred (a trigger that fires within seconds of the deferral can get the resumed task failed
        in Airflow 3.3.2, apache/airflow#72716; no clip is ready that soon anyway), ``poll_interval``
        with ``deferrable=False`` (no such race in the worker). The deferring task logs the time of
        the first query.
    :param timeout: how long to wait for the vendor task, seconds or timedelta (default 30 min).
        Reaching it raises ``HailuoTimeoutError``; the vendor task keeps running and a retry of this
        task reconnects to it.
    :param max_transient_errors: failed polls in a row tolerated while waiting (default 5).
    :param image_conn_id: connection for reading object-storage image URIs (``s3://...``).
    :param durable: keep the vendor task id in ``task_state_store`` so retries reconnect instead of
        paying for a new video (default True; Airflow 3.3+). A try finds the task an earlier try
        submitted and reconnects while it runs, returns its video if it succeeded, and submits anew
        only if it failed, the vendor no longer knows it, or the request (model, prompt, images,
        options) or the connection's vendor changed since. Clearing a task that succeeded
        therefore returns the same video, unless ``[state_store] clear_on_success`` is set;
        ``durable=False`` submits on every try.

    Returns (XCom) the video result dict: ``vendor``, ``model``, ``video_task_id``, ``status``,
    ``file_id``, ``video_url``, ``video_width``, ``video_height``, ``duration``, ``resolution``,
    ``prompt``, ``api`` (``v1``), ``mode`` (``text``, ``image``, ``first_last_frame``,
    ``subject_reference``), ``ratio``, ``usage`` and ``estimated_cost`` (``{"amount", "unit"}`` at the
    vendor's published prices: MiniMax's credits; None for resellers without a price list). When a
    vendor does not report the pixel size (Modelverse), it is the size the requested resolution
    (and first frame) gives.
    """

    template_fields: Sequence[str] = (
        "hailuo_conn_id",
        "model",
        "prompt",
        "first_frame_image",
        "last_frame_image",
        "subject_reference",
    )
    template_fields_renderers = {"prompt": "txt", "subject_reference": "json"}
    ui_color = "#f0e4ff"
    external_id_key = TASK_STATE_KEY

    def __init__(
        self,
        *,
        model: str,
        hailuo_conn_id: str = DEFAULT_CONN_ID,
        prompt: str | None = None,
        duration: int | None = None,
        resolution: str | None = None,
        first_frame_image: str | None = None,
        last_frame_image: str | None = None,
        subject_reference: Any = None,
        prompt_optimizer: bool | None = None,
        fast_pretreatment: bool | None = None,
        aigc_watermark: bool | None = None,
        deferrable: bool | None = None,
        poll_interval: float | timedelta = DEFAULT_POLL_INTERVAL,
        timeout: float | timedelta = DEFAULT_TIMEOUT,
        initial_delay: float | timedelta | None = None,
        max_transient_errors: int = DEFAULT_MAX_TRANSIENT_ERRORS,
        image_conn_id: str | None = None,
        durable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        # Passed on only when given, so the < 3.3 stand-in (which warns on it) stays quiet by default.
        if durable is not None:
            kwargs["durable"] = durable
        super().__init__(**kwargs)
        self.hailuo_conn_id = hailuo_conn_id
        self.model = model
        self.prompt = prompt
        self.duration = duration
        self.resolution = resolution
        self.first_frame_image = first_frame_image
        self.last_frame_image = last_frame_image
        self.subject_reference = subject_reference
        self.prompt_optimizer = prompt_optimizer
        self.fast_pretreatment = fast_pretreatment
        self.aigc_watermark = aigc_watermark
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = as_seconds(poll_interval, "poll_interval")
        self.timeout = as_seconds(timeout, "timeout")
        #: None: DEFAULT_INITIAL_DELAY when deferred, ``poll_interval`` when polling in the worker.
        self.initial_delay = None if initial_delay is None else as_seconds(initial_delay, "initial_delay",
                                                                          allow_zero=True)
        self.max_transient_errors = int(max_transient_errors)
        self.image_conn_id = image_conn_id
        self._request: VideoRequest | None = None
        self._fingerprint: str | None = None
        self._prior_status: TaskStatus | None = None
        self._result: dict[str, Any] | None = None
        self._video_task_id: str | None = None

    @cached_property
    def hook(self) -> HailuoHook:
        from airflow_provider_hailuo.hooks import get_hook

        return get_hook(self.hailuo_conn_id)

    # -- request -----------------------------------------------------------------------------------
    def build_request(self) -> VideoRequest:
        """Validate the rendered parameters; raises ``HailuoInvalidRequestError`` before any I/O to the vendor."""
        return VideoRequest.build(
            model=self.model,
            prompt=self.prompt,
            duration=self.duration,
            resolution=self.resolution,
            first_frame_image=self.first_frame_image,
            last_frame_image=self.last_frame_image,
            subject_reference=self.subject_reference,
            prompt_optimizer=self.prompt_optimizer,
            fast_pretreatment=self.fast_pretreatment,
            aigc_watermark=self.aigc_watermark,
            read_object=object_storage_reader(self.image_conn_id),
        )

    def execute(self, context: Context) -> dict[str, Any] | None:
        self._result = None
        self._prior_status = None
        request = self.build_request()
        hook = self.hook
        hook.check_request(request)
        self._request = request
        self._fingerprint = request_fingerprint(request)
        for warning in request.warnings:
            self.log.warning("%s", warning)
        credits = request.estimated_credits
        self.log.info(
            "Hailuo request: %s, via %s (connection %s); estimated cost: %s",
            request.summary(), hook.vendor, self.hailuo_conn_id,
            f"{credits:g} credits" if credits is not None else "unknown",
        )
        self._log_crash_recovery(context)
        self.execute_resumable(context)
        return self._result

    def _log_crash_recovery(self, context: Context) -> None:
        store = context.get("task_state_store")  # type: ignore[call-overload]
        if self.durable:
            return  # with no store, ResumableJobMixin itself logs that crash recovery is disabled
        if store is None:
            self.log.warning(
                "No task_state_store in this Airflow (it arrived in 3.3): crash recovery is disabled, "
                "a retry of this task submits, and pays for, a new video."
            )
        else:
            self.log.warning("durable=False: every try of this task submits, and pays for, a new video.")

    # -- ResumableJobMixin ---------------------------------------------------------------------------
    def submit_job(self, context: Context) -> JsonValue:
        request = self._require_request()
        try:
            video_task_id = self.hook.submit(request)
        except HailuoError as exc:
            from airflow_provider_hailuo.transport.policy import safe_to_repeat

            if exc.retryable and not safe_to_repeat(exc):
                self.log.warning(
                    "The submit got no clear answer (%s): %s may have started a video this task cannot "
                    "track (it was not resubmitted, so it is not paid twice). Check the vendor's console "
                    "before retrying.", exc, self.hook.vendor,
                )
            raise
        self._video_task_id = video_task_id
        credits = request.estimated_credits
        self.log.info(
            "Submitted to %s: video task id %s (%s; estimated cost %s)",
            self.hook.vendor, video_task_id, request.summary(),
            f"{credits:g} credits" if credits is not None else "unknown",
        )
        return {"video_task_id": video_task_id, "vendor": self.hook.vendor, "request_sha256": self._fingerprint}

    def get_job_status(self, external_id: JsonValue, context: Context) -> str:
        """Status of the vendor task an earlier try submitted, as a ``TaskState`` value.

        Returns ``"superseded"`` when it belongs to another request or vendor (the DAG or the
        connection changed and the task was cleared) and ``"unknown"`` when the vendor no longer
        knows it: both mean "submit anew", like a failed task.
        """
        stored = _stored_task(external_id)
        hook = self.hook
        if stored is None:
            self.log.warning("Unreadable %s in task_state_store (%r); submitting a new video.",
                             self.external_id_key, external_id)
            return "unknown"
        video_task_id = str(stored["video_task_id"])
        if stored["vendor"] and stored["vendor"] != hook.vendor:
            self.log.warning(
                "An earlier try submitted video task %s to %s, but connection %s is now %s; submitting anew.",
                video_task_id, stored["vendor"], self.hailuo_conn_id, hook.vendor,
            )
            return "superseded"
        if stored["request_sha256"] and stored["request_sha256"] != self._fingerprint:
            self.log.warning(
                "An earlier try submitted video task %s for a different request (model, prompt, images or "
                "options changed since); submitting a new video for this one.",
                video_task_id,
            )
            return "superseded"
        try:
            status = hook.get_status(video_task_id)
        except HailuoModerationError as exc:
            self.log.warning("Video task %s from an earlier try was refused by moderation (%s); submitting anew.",
                             video_task_id, exc)
            return TaskState.FAILED.value
        except HailuoVendorInvalidRequestError as exc:
            self.log.warning("%s no longer knows video task %s from an earlier try (%s); submitting anew.",
                             hook.vendor, video_task_id, exc)
            return "unknown"
        self._prior_status = status
        self.log.info("Video task %s from an earlier try is %s (%s)", video_task_id, status.state.value,
                      status.raw_status)
        if status.state is TaskState.FAILED:
            self.log.warning("Video task %s failed (%s): submitting a new video.", video_task_id,
                             status.error_message or "no reason given")
        return status.state.value

    def is_job_active(self, status: str) -> bool:
        return status in _ACTIVE

    def is_job_succeeded(self, status: str) -> bool:
        return status == TaskState.SUCCEEDED.value

    def poll_until_complete(self, external_id: JsonValue, context: Context) -> None:
        stored = _stored_task(external_id)
        if stored is None:  # pragma: no cover - submit_job always returns a readable value
            raise HailuoError(f"no video task id to wait for (got {external_id!r})")
        video_task_id = str(stored["video_task_id"])
        self._video_task_id = video_task_id
        prior = self._prior_status if self._prior_status and self._prior_status.task_id == video_task_id else None
        if self.deferrable:
            self._check_then_defer(video_task_id, prior)
        else:
            self._result = self._wait_in_worker(video_task_id, prior)

    def get_job_result(self, external_id: JsonValue, context: Context) -> dict[str, Any] | None:
        if self._result is None and self._prior_status is not None:
            self._result = self._result_for(self._prior_status)
            self.log.info("Returning the video of video task %s (already finished; nothing submitted).",
                          self._prior_status.task_id)
        return self._result

    # -- waiting ------------------------------------------------------------------------------------
    def _poller(self, video_task_id: str) -> StatusPoller:
        return StatusPoller(
            video_task_id=video_task_id, vendor=self.hook.vendor, deadline=time.time() + self.timeout,
            poll_interval=self.poll_interval, max_transient_errors=self.max_transient_errors, log=self.log,
        )

    def _check_then_defer(self, video_task_id: str, prior: TaskStatus | None) -> None:
        """Check once (a fast vendor may be done; a refused key fails here, not in the triggerer), then defer."""
        poller = self._poller(video_task_id)
        try:
            status = prior if prior is not None else self.hook.get_status(video_task_id)
        except HailuoError as exc:
            event = poller.on_error(exc)
        else:
            event = poller.on_status(status)
        if event is not None:
            self._result = self._finish(event)
            return
        from airflow_provider_hailuo.triggers.video import HailuoVideoTrigger

        # A reconnect has just seen the task running; after a fresh submit no clip is ready soon, and a
        # trigger firing within seconds of the deferral meets apache/airflow#72716 (see DEFAULT_INITIAL_DELAY).
        wanted = DEFAULT_INITIAL_DELAY if self.initial_delay is None else self.initial_delay
        initial_delay = min(wanted, self.poll_interval) if prior is not None else wanted
        self.log.info(
            "Deferring: the triggerer polls video task %s, first in about %.3g s (initial_delay), then every "
            "%.3g s or more, until it ends or until %s",
            video_task_id, initial_delay, self.poll_interval,
            datetime.fromtimestamp(poller.deadline, tz=timezone.utc).isoformat(timespec="seconds"),
        )
        # No defer(timeout=...): that would end the task without execute_complete. The trigger gets
        # the absolute deadline and sends a "timeout" event, so the failure names the vendor task.
        self.defer(
            trigger=HailuoVideoTrigger(
                hailuo_conn_id=self.hailuo_conn_id,
                video_task_id=video_task_id,
                deadline=poller.deadline,
                poll_interval=self.poll_interval,
                initial_delay=initial_delay,
                max_transient_errors=self.max_transient_errors,
            ),
            method_name="execute_complete",
        )

    def _wait_in_worker(self, video_task_id: str, prior: TaskStatus | None) -> dict[str, Any]:
        """Sync mode: the trigger's loop, with ``time.sleep`` and the sync transport."""
        hook = self.hook
        poller = self._poller(video_task_id)
        event = poller.on_status(prior) if prior is not None else None
        if event is None:
            # No deferral race in the worker: unless initial_delay was set, the first query comes after
            # poll_interval like every later one.
            wanted = self.poll_interval if self.initial_delay is None else self.initial_delay
            first = min(wanted, self.poll_interval) if prior is not None else wanted
            self.log.info("Polling video task %s in the worker: first query in %.3g s, then every %.3g s or more",
                          video_task_id, poller.first_delay(first, time.time()), self.poll_interval)
            time.sleep(poller.first_delay(first, time.time()))
            while True:
                try:
                    status = hook.get_status(video_task_id)
                except HailuoError as exc:
                    event = poller.on_error(exc)
                else:
                    event = poller.on_status(status)
                if event is not None:
                    break
                delay = poller.next_delay(time.time(), random_jitter())
                if delay is None:
                    event = poller.timeout_event()
                    break
                time.sleep(delay)
        return self._finish(event)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Back from the trigger: the result dict, or the ``HailuoError`` the event describes."""
        if isinstance(event, Mapping) and isinstance(event.get("video_task_id"), str):
            self._video_task_id = event["video_task_id"]
        return self._finish(event)

    def _finish(self, event: object) -> dict[str, Any]:
        status = status_from_event(event)  # raises the matching HailuoError for failed/timeout/error
        return self._result_for(status)

    # -- result -------------------------------------------------------------------------------------
    def _result_for(self, status: TaskStatus) -> dict[str, Any]:
        model, duration, resolution = self._expected_output()
        result = VideoResult.from_status(
            status, model=model, duration=duration, resolution=resolution, prompt=self._rendered_prompt(),
            mode=self._mode(), estimated_cost=self.hook.estimated_cost(model, resolution, duration),
        ).to_dict()
        if result["video_width"] is None or result["video_height"] is None:
            size = self._expected_size(resolution)
            if size is not None:
                result["video_width"], result["video_height"] = size
        self.log.info(
            "Video ready: %s video task %s, %s x %s, file_id %s%s",
            result["vendor"], result["video_task_id"], result["video_width"], result["video_height"],
            result["file_id"], ", video_url given" if result["video_url"] else "",
        )
        return result

    def _rendered_prompt(self) -> str | None:
        if self._request is not None:
            return self._request.prompt
        return self.prompt if isinstance(self.prompt, str) and self.prompt.strip() else None

    def _mode(self) -> Mode | None:
        if self._request is not None:
            return self._request.mode
        try:
            return infer_mode(self.first_frame_image, self.last_frame_image, self.subject_reference)
        except HailuoInvalidRequestError:
            return None

    def _expected_output(self) -> tuple[str | None, int | None, str | None]:
        """(model, duration, resolution) the request asks for, worked out without reading any image."""
        if self._request is not None:
            return self._request.model, self._request.effective_duration, self._request.effective_resolution
        mode = self._mode()
        try:
            capability = get_capability(self.model)
            if mode is None:
                return capability.name, None, None
            duration, resolution = check_model_options(
                capability, mode, normalise_duration(self.duration), normalise_resolution(self.resolution)
            )
        except HailuoInvalidRequestError:
            return str(self.model) if self.model else None, None, None
        return capability.name, duration, resolution

    def _expected_size(self, resolution: str | None) -> tuple[int, int] | None:
        """The pixel size for vendors that do not report it: from the resolution, or the first frame."""
        mode = self._mode()
        if mode in (Mode.TEXT, Mode.SUBJECT_REFERENCE):
            return PIXEL_SIZES.get(resolution or "")
        request = self._request
        if request is None:  # back from the trigger: read the first frame again, best effort
            try:
                request = self.build_request()
            except Exception as exc:
                self.log.info("Pixel size unknown (first frame not readable now: %s)", exc)
                return None
        return request.expected_size()

    def _require_request(self) -> VideoRequest:
        if self._request is None:  # pragma: no cover - execute() always builds it first
            raise HailuoError("the request was not built before submitting")
        return self._request

    def on_kill(self) -> None:
        if self._video_task_id:
            self.log.warning(
                "The Hailuo video APIs (v1) have no cancel call: video task %s keeps running at %s and is "
                "charged if it succeeds. A retry of this task reconnects to it.",
                self._video_task_id, self.hailuo_conn_id,
            )
        else:
            self.log.info("Killed before any video task was submitted.")
