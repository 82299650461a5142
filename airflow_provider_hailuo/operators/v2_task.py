"""What the prompt enhancer and the 2K re-render share: submit one v2 task, wait, turn it into a result.

Both wait like the generate operator (``waiting/``: checked once then deferred to
``HailuoVideoTrigger`` with ``api="v2"``, or polled in the worker), and cancel a task still queued
when they are killed or time out (``operators/cancel.py``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

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

    from airflow_provider_hailuo.core.models import TaskStatus
    from airflow_provider_hailuo.hooks.base import HailuoHook


class V2TaskOperator(BaseOperator):
    """Base of the operators that run one MiniMax v2 task; subclasses submit and shape the result."""

    ui_color = "#f0e4ff"

    def __init__(self, *, hailuo_conn_id: str = DEFAULT_CONN_ID, deferrable: bool | None = None,
                 poll_interval: float | timedelta = DEFAULT_POLL_INTERVAL,
                 timeout: float | timedelta = DEFAULT_TIMEOUT, initial_delay: float | timedelta | None = None,
                 max_transient_errors: int = DEFAULT_MAX_TRANSIENT_ERRORS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hailuo_conn_id = hailuo_conn_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = as_seconds(poll_interval, "poll_interval")
        self.timeout = as_seconds(timeout, "timeout")
        self.initial_delay = None if initial_delay is None else as_seconds(initial_delay, "initial_delay",
                                                                          allow_zero=True)
        self.max_transient_errors = int(max_transient_errors)
        self._video_task_id: str | None = None

    @cached_property
    def hook(self) -> HailuoHook:
        """The connection bound to video API v2 (a connection of a vendor without it refuses here)."""
        from airflow_provider_hailuo.hooks import get_hook

        return get_hook(self.hailuo_conn_id).for_api("v2", getattr(self, "model", None))

    # -- subclasses --------------------------------------------------------------------------------
    def submit(self, context: Context) -> str:
        raise NotImplementedError

    def result_for(self, status: TaskStatus, facts: Mapping[str, Any] | None) -> dict[str, Any]:
        raise NotImplementedError

    def facts(self) -> dict[str, Any] | None:
        """JSON carried to ``execute_complete`` through deferral (no secrets)."""
        return None

    # -- the wait ----------------------------------------------------------------------------------
    def execute(self, context: Context) -> dict[str, Any]:
        video_task_id = self._video_task_id = self.submit(context)
        decisions = WaitDecisions(video_task_id=video_task_id, vendor=self.hook.vendor,
                                  deadline=time.time() + self.timeout, poll_interval=self.poll_interval,
                                  max_transient_errors=self.max_transient_errors, log=self.log)
        if self.deferrable:
            event = check_then_defer(
                self, decisions, lambda: self.hook.get_status(video_task_id), hailuo_conn_id=self.hailuo_conn_id,
                initial_delay=DEFAULT_INITIAL_DELAY if self.initial_delay is None else self.initial_delay,
                max_transient_errors=self.max_transient_errors, facts=self.facts(), api="v2",
            )
        else:
            from airflow_provider_hailuo.operators.cancel import cancel_if_queued
            from airflow_provider_hailuo.waiting.loop import wait_in_worker

            first = self.poll_interval if self.initial_delay is None else self.initial_delay
            event = wait_in_worker(decisions, lambda: self.hook.get_status(video_task_id), first_delay=first)
            if event.status == "timeout":
                cancel_if_queued(self.hook, video_task_id, self.log, f"Timed out after {self.timeout:g} s")
        return self._finish(event, self.facts())

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None,
                         facts: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._finish(event_from_dict(event), facts)

    def _finish(self, event: WaitEvent, facts: Mapping[str, Any] | None) -> dict[str, Any]:
        return self.result_for(event.outcome(), facts)  # raises the matching HailuoError unless it succeeded

    def on_kill(self) -> None:
        if self._video_task_id:
            from airflow_provider_hailuo.operators.cancel import cancel_if_queued

            cancel_if_queued(self.hook, self._video_task_id, self.log, "Task killed")
