"""``HailuoVideoSensor``: wait for a vendor video task that was submitted elsewhere."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_hailuo.core.models import TaskStatus, VideoResult
from airflow_provider_hailuo.exceptions import HailuoError, HailuoInvalidRequestError
from airflow_provider_hailuo.operators._common import (
    DEFAULT_MAX_TRANSIENT_ERRORS,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TIMEOUT,
    StatusPoller,
    as_seconds,
    default_deferrable,
    status_from_event,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_hailuo.hooks.base import HailuoHook

DEFAULT_CONN_ID = "hailuo_minimax_default"


class HailuoVideoSensor(BaseSensorOperator):
    """Wait until a Hailuo video task (submitted elsewhere) succeeds; return the video result dict.

    :param hailuo_conn_id: the connection of the vendor that holds the task.
    :param video_task_id: the vendor's task id (templated), e.g. from another system's output.
    :param model: the model name, only copied into the result dict (None when unset).
    :param deferrable: wait in the triggerer instead of holding a worker slot. Default: Airflow's
        ``[operators] default_deferrable``, or True when that is not set. The trigger gets an absolute
        deadline of now + ``timeout`` and polls every ``poke_interval``.
    :param initial_delay: seconds from deferring to the trigger's first query (deferrable only).
        Unset: ``poke_interval``. The sensor has just checked once before deferring; keep this above
        ~15 s if the task may end soon after (a trigger firing within seconds of the deferral can get
        the resumed task failed in Airflow 3.3.2, apache/airflow#72716).
    :param max_transient_errors: failed polls in a row tolerated while deferred (default 5).

    Sensor timing as usual: ``poke_interval`` (default 15 s here: the gap between queries, growing
    up to twice that when deferred), ``timeout`` (default 30 min here), ``mode``. A failed or
    moderated task raises its ``HailuoError`` at once; waiting longer would not change it.
    """

    template_fields: Sequence[str] = ("hailuo_conn_id", "video_task_id")
    ui_color = "#f0e4ff"

    def __init__(
        self,
        *,
        video_task_id: str,
        hailuo_conn_id: str = DEFAULT_CONN_ID,
        model: str | None = None,
        deferrable: bool | None = None,
        initial_delay: float | None = None,
        max_transient_errors: int = DEFAULT_MAX_TRANSIENT_ERRORS,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", DEFAULT_POLL_INTERVAL)
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        super().__init__(**kwargs)
        self.hailuo_conn_id = hailuo_conn_id
        self.video_task_id = video_task_id
        self.model = model
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.initial_delay = None if initial_delay is None else as_seconds(initial_delay, "initial_delay",
                                                                          allow_zero=True)
        self.max_transient_errors = int(max_transient_errors)
        self._last_status: TaskStatus | None = None

    @cached_property
    def hook(self) -> HailuoHook:
        from airflow_provider_hailuo.hooks import get_hook

        return get_hook(self.hailuo_conn_id)

    def _task_id(self) -> str:
        """The rendered ``video_task_id``, checked before any request (an empty id would be sent as is)."""
        value = self.video_task_id
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            raise HailuoInvalidRequestError(
                f"video_task_id must be the vendor's task id (a non-empty string); got {value!r}.",
                parameter="video_task_id",
                value=value,
            )
        return str(value).strip()

    def _poller(self) -> StatusPoller:
        return StatusPoller(
            video_task_id=self._task_id(), vendor=self.hook.vendor, deadline=time.time() + self.timeout,
            poll_interval=max(float(self.poke_interval), 0.001), max_transient_errors=self.max_transient_errors,
            log=self.log,
        )

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        poller = self._poller()
        # Check once: the task may be long finished.
        try:
            event = poller.on_status(self.hook.get_status(poller.video_task_id))
        except HailuoInvalidRequestError:
            raise  # a bad connection or task id: raised as it is, parameter and all
        except HailuoError as exc:
            event = poller.on_error(exc)
        if event is not None:
            return self._result_for(status_from_event(event))
        from airflow_provider_hailuo.triggers.video import HailuoVideoTrigger

        self.defer(
            trigger=HailuoVideoTrigger(
                hailuo_conn_id=self.hailuo_conn_id,
                video_task_id=poller.video_task_id,
                deadline=poller.deadline,
                poll_interval=poller.poll_interval,
                initial_delay=poller.poll_interval if self.initial_delay is None else self.initial_delay,
                max_transient_errors=self.max_transient_errors,
            ),
            method_name="execute_complete",
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        video_task_id = self._task_id()
        status = self.hook.get_status(video_task_id)
        poller = StatusPoller(video_task_id=video_task_id, vendor=self.hook.vendor, deadline=0.0,
                              poll_interval=1.0, log=self.log)
        poller.last_status = self._last_status  # log only changes across pokes
        event = poller.on_status(status)
        self._last_status = status
        if event is None:
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._result_for(status_from_event(event)))

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._result_for(status_from_event(event))

    def _result_for(self, status: TaskStatus) -> dict[str, Any]:
        result = VideoResult.from_status(status, model=self.model).to_dict()
        self.log.info("Video ready: %s video task %s, %s x %s", result["vendor"], result["video_task_id"],
                      result["video_width"], result["video_height"])
        return result

    def on_kill(self) -> None:
        self.log.info("Stopped waiting; video task %s is not affected (the vendor APIs have no cancel call).",
                      self.video_task_id)

