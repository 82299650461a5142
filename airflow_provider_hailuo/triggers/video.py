"""``HailuoVideoTrigger``: waits in the triggerer for one vendor video task to end.

It only reads: it never submits, so two triggerers running the same trigger (HA, a restart)
cost two status queries and nothing else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

# The hooks (aiohttp, the vendor dialects) are imported with the trigger class rather than on the
# first poll, where a first import would block the triggerer's event loop. Operators import this
# module only when they defer, so DAG parsing does not pay for it.
from airflow_provider_hailuo import hooks
from airflow_provider_hailuo.core.models import TaskState, TaskStatus
from airflow_provider_hailuo.exceptions import HailuoError
from airflow_provider_hailuo.hooks.base import hook_class_for
from airflow_provider_hailuo.hooks.polling import polling_hook
from airflow_provider_hailuo.vendors.registry import BUILTIN_DIALECTS
from airflow_provider_hailuo.waiting.decisions import (
    DEFAULT_INITIAL_DELAY,
    DEFAULT_MAX_TRANSIENT_ERRORS,
    DEFAULT_POLL_INTERVAL,
    WaitDecisions,
    as_seconds,
    deadline_to_epoch,
    random_jitter,
)
from airflow_provider_hailuo.waiting.events import WaitEvent, event_for_error

CLASSPATH = "airflow_provider_hailuo.triggers.video.HailuoVideoTrigger"
for _dialect in BUILTIN_DIALECTS:
    hook_class_for(_dialect)  # imports each built-in hook module now, not in the event loop


class HailuoVideoTrigger(BaseTrigger):
    """Poll one vendor task until it succeeds, fails or the absolute ``deadline`` passes.

    :param hailuo_conn_id: the connection (any Hailuo conn type), read with the async-safe API
        when the trigger runs.
    :param video_task_id: the vendor's task id.
    :param deadline: absolute deadline, epoch seconds (or an ISO 8601 string). Absolute, so a
        triggerer restart does not extend the wait; at the deadline the trigger sends a ``timeout``
        event instead of being killed, so the task can say which vendor task is still running.
    :param poll_interval: seconds between status queries, growing by 20 % a poll up to twice this
        (plus or minus 10 % jitter). Default 15 s: fits a 1 to 5 minute generation and keeps one task
        at about 4 queries a minute, within the vendors' per-minute limits.
    :param initial_delay: seconds before the first query. Default 30 s: no clip is ready sooner.
    :param max_transient_errors: failed polls in a row worth waiting out (beyond the retries the
        transport already does inside each poll) before the trigger gives up with an ``error`` event.
    :param api: the vendor API of the task: ``"v1"`` (default: rows written before v2 existed hold no
        ``api``) or ``"v2"`` (MiniMax-H3). A v2 task still queued at the deadline, or when the task is
        killed, is cancelled (DELETE, not charged).

    It yields exactly one event, a JSON dict (:mod:`airflow_provider_hailuo.waiting.events`):
    ``{"status": "success"|"failed"|"timeout"|"error", "video_task_id", "vendor", "message",
    "error_class", "code", "trace_id", "task_status", "error"}``. Its serialised kwargs hold only the
    connection id, the task id, the deadline and the poll settings: never a key or a header.
    """

    def __init__(
        self,
        *,
        hailuo_conn_id: str,
        video_task_id: str,
        deadline: float | str,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        initial_delay: float = DEFAULT_INITIAL_DELAY,
        max_transient_errors: int = DEFAULT_MAX_TRANSIENT_ERRORS,
        api: str = "v1",
    ) -> None:
        super().__init__()
        # No I/O here: the operator builds this in the worker, the triggerer rebuilds it from kwargs.
        self.hailuo_conn_id = hailuo_conn_id
        self.video_task_id = str(video_task_id)
        self.deadline = deadline_to_epoch(deadline)
        self.poll_interval = as_seconds(poll_interval, "poll_interval")
        self.initial_delay = as_seconds(initial_delay, "initial_delay", allow_zero=True)
        self.max_transient_errors = int(max_transient_errors)
        self.api = str(api or "v1")

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            CLASSPATH,
            {
                "hailuo_conn_id": self.hailuo_conn_id,
                "video_task_id": self.video_task_id,
                "deadline": self.deadline,
                "poll_interval": self.poll_interval,
                "initial_delay": self.initial_delay,
                "max_transient_errors": self.max_transient_errors,
                # Only v2 rows carry "api": a v1 row stays exactly what the last release wrote and reads.
                **({"api": self.api} if self.api != "v1" else {}),
            },
        )

    @property
    def wait_log(self) -> Any:
        """The logger of the wait's status lines: the class's one logger, not one built per trigger.

        The triggerer routes a line to its trigger's log by the context it binds around each
        trigger's run, not by the logger object; a logger per trigger cost thousands of waiting
        triggers a handful of objects each (and a bind per line)."""
        return type(self).logger()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        event = await self._wait()
        yield TriggerEvent(event.to_dict())

    async def _wait(self) -> WaitEvent:
        """Everything up to the one event; the session is given back before the event is sent."""
        decisions = WaitDecisions(
            video_task_id=self.video_task_id, vendor=None, deadline=self.deadline,
            poll_interval=self.poll_interval, max_transient_errors=self.max_transient_errors, log=self.wait_log,
        )
        try:
            # Sleep first, spread by jitter like every later gap: triggers created together (mapped
            # tasks, a triggerer restart adopting a thousand rows) then do not all read their
            # connection, open a session and poll in the same instant, and no session is held while
            # no clip can be ready yet (measured in benchmarks/triggerer_scale.py: event-loop lag).
            first_delay = decisions.first_delay(self.initial_delay * (1.0 + random_jitter()), time.time())
            # DEBUG: the deferring task has already logged this at INFO, and a thousand triggers
            # adopted together would otherwise write a thousand lines in the same second.
            decisions.log.debug(
                "Waiting for video task %s (connection %s): first query in %.3g s, then every %.3g s or more",
                self.video_task_id, self.hailuo_conn_id, first_delay, self.poll_interval,
            )
            await asyncio.sleep(first_delay)
            hook = await polling_hook(self.hailuo_conn_id, self.api)  # shared by the loop's triggers
            decisions.vendor = hook.vendor
            # The connection is re-read before every poll (a rotated key counts at the next poll);
            # the HTTP session is shared by the loop's triggers of this connection and key.
            async with hook.polling_client() as client:
                step: float | WaitEvent | None = None
                while not isinstance(step, WaitEvent):
                    if step is not None:
                        await asyncio.sleep(step)
                    answer: TaskStatus | HailuoError
                    try:
                        answer = await hook.aget_status(self.video_task_id, await client.transport())
                    except HailuoError as exc:
                        answer = exc
                    step = decisions.on_answer(answer) or decisions.next_step(time.time(), random_jitter())
                if step.status == "timeout" and self.api != "v1":
                    last = answer if isinstance(answer, TaskStatus) else None
                    await self._cancel_if_queued(hook, await client.transport(), last, "Timed out")
                return step
        except Exception as exc:  # configuration errors, bugs: still exactly one event, never a crash
            if isinstance(exc, HailuoError):
                self.log.error("Waiting for video task %s failed: %s", self.video_task_id, exc)
            else:
                self.log.exception("Waiting for video task %s failed", self.video_task_id)
            return event_for_error(exc, self.video_task_id, decisions.vendor)

    async def _cancel_if_queued(self, hook: Any, transport: Any, last: TaskStatus | None, why: str) -> None:
        """DELETE the v2 task if it is still queued (not charged); log what happens either way."""
        try:
            status = last if last is not None else await hook.aget_status(self.video_task_id, transport)
            if status.state is not TaskState.QUEUED:
                self.log.warning("%s: video task %s is %s, so it cannot be cancelled: it keeps running and is "
                                 "charged.", why, self.video_task_id, status.raw_status)
                return
            outcome = await hook.acancel(self.video_task_id, transport)
        except HailuoError as exc:
            self.log.warning("%s: could not cancel video task %s (%s); it may still run and be charged.", why,
                             self.video_task_id, exc)
            return
        self.log.warning("%s: video task %s was still queued and is now %s at %s: not charged.", why,
                         self.video_task_id, outcome.status, hook.vendor)

    async def on_kill(self) -> None:
        """The task was killed while deferred: cancel a still-queued v2 task; v1 has no cancel call."""
        if self.api == "v1":
            self.log.warning(
                "The Hailuo video APIs (v1) have no cancel call: video task %s keeps running at the vendor "
                "and is charged if it succeeds.",
                self.video_task_id,
            )
            return
        try:
            hook = (await hooks.aget_hook(self.hailuo_conn_id)).for_api(self.api)
            async with await hook.async_transport() as transport:
                await self._cancel_if_queued(hook, transport, None, "Task killed")
        except HailuoError as exc:
            self.log.warning("Task killed: could not cancel video task %s (%s).", self.video_task_id, exc)
