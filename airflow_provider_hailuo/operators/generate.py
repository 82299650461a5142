"""``HailuoGenerateVideoOperator``: one Hailuo video, from request to result dict.

Validate (nothing leaves on bad input) -> submit through the connection's hook -> remember the
vendor task id in ``task_state_store`` -> wait (deferred to ``HailuoVideoTrigger`` by default, or
polling in the worker) -> return the contract's video result dict.

No heavy imports at module level: DAG files import this at parse time, so hooks (aiohttp,
requests), Pillow and the trigger are imported inside the methods that need them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import ResumableJobMixin
from airflow.sdk import BaseOperator

from airflow_provider_hailuo import metrics
from airflow_provider_hailuo.core.facts import RequestFacts
from airflow_provider_hailuo.core.models import TaskState, TaskStatus
from airflow_provider_hailuo.exceptions import (
    HailuoError,
    HailuoModerationError,
    HailuoVendorInvalidRequestError,
)
from airflow_provider_hailuo.operators.resume import (
    TASK_STATE_KEY,
    refuse_unconfirmed,
    request_fingerprint,
    stored_facts,
    stored_task,
    submit_once,
    submitting_marker,
    superseded_because,
    warn_if_retries_resubmit,
)
from airflow_provider_hailuo.triggers.deferral import check_then_defer, default_deferrable
from airflow_provider_hailuo.vendors.registry import DEFAULT_CONN_ID
from airflow_provider_hailuo.waiting.decisions import (
    DEFAULT_INITIAL_DELAY,
    DEFAULT_MAX_TRANSIENT_ERRORS,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TIMEOUT,
    WaitDecisions,
    as_seconds,
)
from airflow_provider_hailuo.waiting.events import WaitEvent, event_from_dict

if TYPE_CHECKING:
    from airflow.sdk import Context
    from pydantic import JsonValue

    from airflow_provider_hailuo.core.h3 import H3Request
    from airflow_provider_hailuo.core.request import VideoRequest
    from airflow_provider_hailuo.hooks.base import HailuoHook

__all__ = ["DEFAULT_CONN_ID", "TASK_STATE_KEY", "HailuoGenerateVideoOperator", "request_fingerprint"]
_ACTIVE = frozenset({TaskState.QUEUED.value, TaskState.RUNNING.value})


# Why ResumableJobMixin in both modes, and how the id is kept: see operators/resume.py.
class HailuoGenerateVideoOperator(ResumableJobMixin, BaseOperator):
    """Generate one video with MiniMax Hailuo through MiniMax, DMXAPI or Modelverse.

    The mode follows from the inputs: text (``prompt`` only), image (``first_frame_image``),
    first+last frame (both frames, ``MiniMax-Hailuo-02``) or subject reference
    (``subject_reference``, ``S2V-01``). Images may be https URLs, ``data:`` URLs, local paths or
    object-storage URIs (read with ``ObjectStoragePath``, connection ``image_conn_id``).

    :param hailuo_conn_id: a Hailuo connection (one conn type per vendor API; see the README).
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
    :param ratio, reference_images, reference_videos, reference_audios, prompt_expansion_mode: MiniMax-H3
        only (``model="MiniMax-H3"``/``"MiniMax-H3-Max"`` on a MiniMax connection: video API v2; see the
        README's H3 section). A queued H3 task is cancelled (not charged) when this task is killed or times out.
    :param deferrable: wait in the triggerer instead of holding a worker slot. Default: Airflow's
        ``[operators] default_deferrable``, or True when that is not set.
    :param poll_interval: seconds between status queries (default 15; grows up to twice that). The
        *first* query comes ``initial_delay`` after submitting, not ``poll_interval``.
    :param initial_delay: seconds from the submit to the first status query. Unset: 30 s when deferred
        (apache/airflow#72716; no clip is ready sooner), ``poll_interval`` with ``deferrable=False``.
    :param timeout: how long to wait (seconds or timedelta, default 30 min); then ``HailuoTimeoutError``:
        a v1 task keeps running (a retry reconnects), a still-queued H3 task is cancelled (not charged).
    :param max_transient_errors: failed polls in a row tolerated while waiting (default 5).
    :param image_conn_id: connection for reading object-storage image URIs (``s3://...``).
    :param durable: keep the vendor task id in ``task_state_store`` so retries reconnect instead of
        paying for a new video (default True; Airflow 3.3+): see the README ("Retries").

    :param max_cost: refuse before sending when the estimate is over it, in the unit of its price (README "Spend").

    Returns (XCom) the video result dict (CONTRACT): ``vendor``, ``model``, ``video_task_id``, ``status``,
    ``file_id``, ``video_url``, ``video_width``, ``video_height``, ``duration``, ``resolution``, ``prompt``,
    ``api``, ``mode``, ``ratio``, ``usage``, ``estimated_cost`` (``{"amount", "unit"}`` or None: no known price);
    a pixel size the vendor does not report (Modelverse) is the one the request gives.
    """

    template_fields: Sequence[str] = (
        "hailuo_conn_id",
        "model",
        "prompt",
        "first_frame_image",
        "last_frame_image",
        "subject_reference",
        "ratio",
        "reference_images",
        "reference_videos",
        "reference_audios",
        "prompt_expansion_mode",
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
        ratio: str | None = None,
        reference_images: Any = None,
        reference_videos: Any = None,
        reference_audios: Any = None,
        prompt_expansion_mode: str | None = None,
        deferrable: bool | None = None,
        poll_interval: float | timedelta = DEFAULT_POLL_INTERVAL,
        timeout: float | timedelta = DEFAULT_TIMEOUT,
        initial_delay: float | timedelta | None = None,
        max_transient_errors: int = DEFAULT_MAX_TRANSIENT_ERRORS,
        image_conn_id: str | None = None,
        durable: bool | None = None,
        max_cost: float | None = None,
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
        self.ratio, self.prompt_expansion_mode = ratio, prompt_expansion_mode
        self.reference_images, self.reference_videos, self.reference_audios = (
            reference_images, reference_videos, reference_audios)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = as_seconds(poll_interval, "poll_interval")
        self.timeout = as_seconds(timeout, "timeout")
        #: None: DEFAULT_INITIAL_DELAY when deferred, ``poll_interval`` when polling in the worker.
        self.initial_delay = None if initial_delay is None else as_seconds(initial_delay, "initial_delay",
                                                                          allow_zero=True)
        self.max_transient_errors = int(max_transient_errors)
        self.image_conn_id = image_conn_id
        self.max_cost = max_cost  # checked, with the estimate, before anything is sent (operators/budget.py)
        self._request: VideoRequest | H3Request | None = None
        self._api = "v1"
        self._facts: RequestFacts | None = None
        self._fingerprint: str | None = None
        self._prior_status: TaskStatus | None = None
        self._result: dict[str, Any] | None = None
        self._video_task_id: str | None = None

    @cached_property
    def hook(self) -> HailuoHook:
        from airflow_provider_hailuo.hooks import get_hook

        return get_hook(self.hailuo_conn_id)

    @property
    def api_hook(self) -> HailuoHook:
        """The connection bound to the API this request goes to (v2 for MiniMax-H3 models)."""
        return self.hook.for_api(self._api, self.model)

    # -- request -----------------------------------------------------------------------------------
    def build_request(self) -> VideoRequest | H3Request:
        """Validate the rendered parameters; raises ``HailuoInvalidRequestError`` before any I/O to the vendor."""
        names = ("model", "prompt", "duration", "resolution", "first_frame_image", "last_frame_image",
                 "subject_reference", "prompt_optimizer", "fast_pretreatment", "aigc_watermark", "ratio",
                 "reference_images", "reference_videos", "reference_audios", "prompt_expansion_mode")
        from airflow_provider_hailuo.operators.video_request import build_video_request

        return build_video_request({name: getattr(self, name) for name in names}, self.image_conn_id)

    def execute(self, context: Context) -> dict[str, Any] | None:
        self._result = None
        self._prior_status = None
        from airflow_provider_hailuo.operators.video_request import describe_cost, facts_for, request_api

        request = self.build_request()
        self._api = request_api(request)
        hook = self.api_hook  # a vendor without this API refuses here (parameter model), before sending
        hook.check_request(request)  # type: ignore[arg-type]
        self._request = request
        self._facts = facts_for(request, hook, max_cost=self.max_cost)
        self._fingerprint = request_fingerprint(request)
        for warning in getattr(request, "warnings", ()):
            self.log.warning("%s", warning)
        self.log.info("Hailuo request: %s, via %s API %s (connection %s); estimated cost: %s", request.summary(),
                      hook.vendor, hook.api, self.hailuo_conn_id, describe_cost(self._facts))
        warn_if_retries_resubmit(self.log, durable=self.durable, context=context)
        self.execute_resumable(context)
        return self._result

    # -- ResumableJobMixin ---------------------------------------------------------------------------
    def submit_job(self, context: Context) -> JsonValue:
        request = self._request
        if request is None:  # pragma: no cover - execute() always builds it first
            raise HailuoError("the request was not built before submitting")
        video_task_id = submit_once(self, request, context)  # marker first: see operators/resume.py
        self._video_task_id = video_task_id
        from airflow_provider_hailuo.operators.video_request import describe_cost

        self.log.info("Submitted to %s (API %s): video task id %s (%s; estimated cost %s)", self.api_hook.vendor,
                      self._api, video_task_id, request.summary(), describe_cost(self._facts) if self._facts else "?")
        # The facts ride along: where defer(kwargs=...) does not reach execute_complete (dag.test()
        # drops them), the stored task still tells the result's duration, resolution and pixel size.
        return {"video_task_id": video_task_id, "vendor": self.api_hook.vendor, "request_sha256": self._fingerprint,
                "api": self._api, "facts": self._facts.to_dict() if self._facts else None}

    def get_job_status(self, external_id: JsonValue, context: Context) -> str:
        """Status of the vendor task an earlier try submitted, as a ``TaskState`` value.

        Returns ``"superseded"`` when it belongs to another request or vendor (the DAG or the
        connection changed and the task was cleared) and ``"unknown"`` when the vendor no longer
        knows it: both mean "submit anew", like a failed task.
        """
        stored = stored_task(external_id)
        if stored is None and (marker := submitting_marker(external_id)) is not None:
            return refuse_unconfirmed(marker, fingerprint=self._fingerprint, vendor=self.api_hook.vendor,
                                      context=context)
        if stored is None:
            self.log.warning("Unreadable %s in task_state_store (%r); submitting a new video.",
                             self.external_id_key, external_id)
            return "unknown"
        video_task_id = str(stored["video_task_id"])
        hook = self.hook.for_api(stored.get("api") or "v1", self.model)
        why = superseded_because(stored, vendor=hook.vendor, fingerprint=self._fingerprint,
                                 conn_id=self.hailuo_conn_id)
        if why:
            self.log.warning("%s", why)
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
        metrics.reconnected(hook.vendor, hook.api, self.model, status.state.value)
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
        stored = stored_task(external_id)
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
    def _decisions(self, video_task_id: str) -> WaitDecisions:
        return WaitDecisions(
            video_task_id=video_task_id, vendor=self.api_hook.vendor, deadline=time.time() + self.timeout,
            poll_interval=self.poll_interval, max_transient_errors=self.max_transient_errors, log=self.log,
        )

    def _check_then_defer(self, video_task_id: str, prior: TaskStatus | None) -> None:
        """Check once (a fast vendor may be done; a refused key fails here, not in the triggerer), then defer."""
        # A reconnect has just seen the task running; after a fresh submit no clip is ready soon, and a
        # trigger firing within seconds of the deferral meets apache/airflow#72716 (see DEFAULT_INITIAL_DELAY).
        wanted = DEFAULT_INITIAL_DELAY if self.initial_delay is None else self.initial_delay
        initial_delay = min(wanted, self.poll_interval) if prior is not None else wanted
        event = check_then_defer(
            self, self._decisions(video_task_id), lambda: self.api_hook.get_status(video_task_id),
            hailuo_conn_id=self.hailuo_conn_id, initial_delay=initial_delay,
            max_transient_errors=self.max_transient_errors, prior=prior,
            facts=self._facts.to_dict() if self._facts else None, api=self._api,
        )
        self._result = self._finish(event)

    def _wait_in_worker(self, video_task_id: str, prior: TaskStatus | None) -> dict[str, Any]:
        """Sync mode: the trigger's decisions, with ``time.sleep`` and the sync transport."""
        from airflow_provider_hailuo.waiting.loop import wait_in_worker

        # No deferral race in the worker: unless initial_delay was set, the first query comes after
        # poll_interval like every later one.
        wanted = self.poll_interval if self.initial_delay is None else self.initial_delay
        first = min(wanted, self.poll_interval) if prior is not None else wanted
        self.log.info("Polling video task %s in the worker: first query in %.3g s, then every %.3g s or more",
                      video_task_id, first, self.poll_interval)
        event = wait_in_worker(self._decisions(video_task_id), lambda: self.api_hook.get_status(video_task_id),
                               first_delay=first, prior=prior)
        if event.status == "timeout":
            from airflow_provider_hailuo.operators.cancel import cancel_if_queued

            cancel_if_queued(self.api_hook, video_task_id, self.log, f"Timed out after {self.timeout:g} s")
        return self._finish(event)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None,
                         facts: dict[str, Any] | None = None) -> dict[str, Any]:
        """Back from the trigger: the result dict, or the ``HailuoError`` the event describes.

        ``facts`` are the request's, carried through deferral; a task deferred by a release that
        did not carry them gets them from its rendered parameters, reading no image.
        """
        carried = facts if isinstance(facts, Mapping) else stored_facts(context, self.external_id_key)
        if carried is not None:
            self._facts = RequestFacts.from_dict(carried)
            self._api = self._facts.api
        if isinstance(event, Mapping) and isinstance(event.get("video_task_id"), str):
            self._video_task_id = event["video_task_id"]
        return self._finish(event_from_dict(event))

    def _finish(self, event: WaitEvent) -> dict[str, Any]:
        with metrics.counting_failures(self.api_hook.vendor, self._api, self.model):  # failures, by error class
            return self._result_for(event.outcome())  # raises the matching HailuoError for failed/timeout/error

    # -- result -------------------------------------------------------------------------------------
    def _result_for(self, status: TaskStatus) -> dict[str, Any]:
        facts = self._facts
        if facts is None:
            guessed = RequestFacts.from_parameters(
                model=self.model, duration=self.duration, resolution=self.resolution, prompt=self.prompt,
                first_frame_image=self.first_frame_image, last_frame_image=self.last_frame_image,
                subject_reference=self.subject_reference,
            )
            facts = dataclasses.replace(guessed, estimated_cost=self.api_hook.estimated_cost(
                guessed.model, guessed.resolution, guessed.duration))
        result = metrics.video_ready(facts.result_for(status))  # counts the video, its seconds and cost
        self.log.info(
            "Video ready: %s video task %s, %s x %s, file_id %s%s",
            result["vendor"], result["video_task_id"], result["video_width"], result["video_height"],
            result["file_id"], ", video_url given" if result["video_url"] else "",
        )
        return result

    def on_kill(self) -> None:
        if not self._video_task_id:
            self.log.info("Killed before any video task was submitted.")
            return
        from airflow_provider_hailuo.operators.cancel import cancel_if_queued

        cancel_if_queued(self.api_hook, self._video_task_id, self.log, "Task killed")
        if self._api == "v1":
            self.log.warning("A retry of this task reconnects to video task %s.", self._video_task_id)
