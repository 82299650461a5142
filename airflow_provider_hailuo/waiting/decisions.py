"""The decisions of a wait for one vendor task: when to poll next, and which answer ends the wait.

Pure: no I/O, no clock of its own, no Airflow. The trigger (asyncio), the operator's sync mode and
the sensor feed it the poll answers and sleep where it says, so the modes cannot drift apart.
Nothing heavy is imported here: it is imported at DAG parse time.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_hailuo.core.models import TaskState, TaskStatus
from airflow_provider_hailuo.exceptions import HailuoError, HailuoInvalidRequestError
from airflow_provider_hailuo.waiting.events import (
    ErrorData,
    VideoFailed,
    VideoSucceeded,
    WaitEvent,
    WaitTimedOut,
    event_for_error,
)

#: Seconds between status queries. A 6 s clip takes about 1 to 5 minutes; public clients poll every
#: 5 to 20 s. 15 s finds a finished video at most ~15 s late and keeps one task at 4 queries a
#: minute, so a handful of mapped tasks stays under the vendors' per-minute limits (5 RPM free,
#: 20 RPM paid at MiniMax; rate-limit answers are also retried with backoff by the transport).
DEFAULT_POLL_INTERVAL = 15.0
#: Seconds to wait after submitting before the first query: no generation finishes sooner.
DEFAULT_INITIAL_DELAY = 30.0
#: How long to wait for the vendor task. Generous against the 1 to 5 minutes a clip takes (10 s and
#: 1080P clips and busy queues take longer); reaching it does not cancel the vendor task, and a retry
#: of the Airflow task reconnects to it instead of paying for a new video.
DEFAULT_TIMEOUT = timedelta(minutes=30)
#: Poll failures in a row that are worth waiting out (network faults, 5xx, rate limits that the
#: transport's own retries did not get past) before the wait ends with an ``error`` event.
DEFAULT_MAX_TRANSIENT_ERRORS = 5
#: The gap between polls grows by this factor each poll, from ``poll_interval`` up to
#: ``MAX_INTERVAL_FACTOR * poll_interval``: early polls catch fast clips, a long wait costs fewer calls.
BACKOFF_GROWTH = 1.2
MAX_INTERVAL_FACTOR = 2.0
#: +/- share of random spread on each gap, so mapped tasks submitted together do not poll in lockstep.
JITTER = 0.1


def as_seconds(value: object, parameter: str, *, allow_zero: bool = False) -> float:
    """A number of seconds or a ``timedelta``, as float seconds; anything else raises naming the parameter."""
    seconds: float
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise HailuoInvalidRequestError(
            f"{parameter} must be a number of seconds or a timedelta; got {value!r}.",
            parameter=parameter,
            value=value,
        )
    if seconds < 0 or (seconds == 0 and not allow_zero) or seconds != seconds:
        allowed = "zero or more" if allow_zero else "more than zero"
        raise HailuoInvalidRequestError(
            f"{parameter} must be {allowed} seconds; got {value!r}.", parameter=parameter, value=value
        )
    return seconds


def deadline_to_epoch(deadline: object) -> float:
    """An absolute deadline (epoch seconds, ISO 8601 string or aware datetime) as epoch seconds."""
    if isinstance(deadline, (int, float)) and not isinstance(deadline, bool):
        return float(deadline)
    if isinstance(deadline, str):
        try:
            deadline = datetime.fromisoformat(deadline.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
    if isinstance(deadline, datetime):
        if deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=timezone.utc)
        return deadline.timestamp()
    raise HailuoInvalidRequestError(
        f"deadline must be epoch seconds or an ISO 8601 timestamp; got {deadline!r}.",
        parameter="deadline",
        value=deadline,
    )


def next_poll_delay(poll_interval: float, polls_done: int, remaining: float, jitter: float = 0.0) -> float | None:
    """Seconds to sleep before the next poll, or None when the deadline has passed.

    The gap is ``poll_interval * BACKOFF_GROWTH ** (polls_done - 1)``, capped at
    ``MAX_INTERVAL_FACTOR * poll_interval``, spread by ``jitter`` (a share, e.g. 0.05 for +5 %),
    and never longer than the time left, so the last poll happens at the deadline. Jitter never
    stretches a gap past the cap (at the cap it only shortens it): the cap bounds how late a
    finished video is noticed.
    """
    if remaining <= 0:
        return None
    exponent = max(0, polls_done - 1)
    cap = poll_interval * MAX_INTERVAL_FACTOR
    gap = min(poll_interval * BACKOFF_GROWTH**exponent, cap)
    spread = gap * (1.0 + jitter)
    if spread > cap:
        spread = cap * (1.0 - abs(jitter))
    return max(0.0, min(spread, remaining))


def random_jitter() -> float:
    return random.uniform(-JITTER, JITTER)


class WaitDecisions:
    """The decisions of one wait for one vendor task; the caller polls and sleeps.

    Report each poll answer with :meth:`on_status` or :meth:`on_error` (they return the event that
    ends the wait, or None), then ask :meth:`next_step`: seconds to sleep, or the timeout event.
    Status changes are logged at INFO, unchanged polls at DEBUG.
    """

    def __init__(self, *, video_task_id: str, vendor: str | None, deadline: float, poll_interval: float,
                 max_transient_errors: int = DEFAULT_MAX_TRANSIENT_ERRORS, log: Any = None) -> None:
        self.video_task_id = video_task_id
        self.vendor = vendor
        self.deadline = deadline
        self.poll_interval = poll_interval
        self.max_transient_errors = max_transient_errors
        self.log = log
        self.polls = 0
        self.transient_errors = 0
        self.last_status: TaskStatus | None = None

    def first_delay(self, initial_delay: float, now: float) -> float:
        """The wait before the first poll; the first poll happens even when the deadline has passed,
        because the task may have finished while nobody was looking (e.g. a triggerer outage)."""
        return max(0.0, min(initial_delay, self.deadline - now))

    def _log_change(self, status: TaskStatus, previous: TaskStatus | None) -> None:
        if self.log is None:
            return
        if previous is None or previous.state is not status.state or previous.raw_status != status.raw_status:
            self.log.info("%s video task %s: %s (%s)", status.vendor, self.video_task_id, status.state.value,
                          status.raw_status)
        else:
            self.log.debug("%s video task %s still %s", status.vendor, self.video_task_id, status.raw_status)

    def on_status(self, status: TaskStatus) -> WaitEvent | None:
        """A poll answer; returns the final event when the vendor task has ended."""
        self.polls += 1
        self.transient_errors = 0
        self._log_change(status, self.last_status)
        self.last_status = status
        vendor = status.vendor or self.vendor
        if status.state is TaskState.SUCCEEDED:
            return VideoSucceeded(self.video_task_id, vendor, f"video task {self.video_task_id} succeeded",
                                  task_status=status, trace_id=status.trace_id)
        if status.state is TaskState.FAILED:
            reason = status.error_message or "the vendor gave no reason"
            message = f"{vendor} video task {self.video_task_id} failed: {reason}"
            error = ErrorData("HailuoTaskFailedError", message,
                              {"vendor": vendor, "task_id": self.video_task_id, "reason": status.error_message})
            return VideoFailed(self.video_task_id, vendor, message, task_status=status, error=error,
                               code=status.error_code, trace_id=status.trace_id)
        return None

    def on_error(self, error: BaseException) -> WaitEvent | None:
        """A poll that raised. Retryable errors are waited out up to the budget; others end the wait."""
        self.polls += 1
        if isinstance(error, HailuoError) and error.retryable and self.transient_errors < self.max_transient_errors:
            self.transient_errors += 1
            if self.log is not None:
                self.log.warning(
                    "Polling video task %s failed (%d of %d tolerated in a row): %s",
                    self.video_task_id, self.transient_errors, self.max_transient_errors, error,
                )
            return None
        return event_for_error(error, self.video_task_id, self.vendor)

    def on_answer(self, answer: TaskStatus | BaseException) -> WaitEvent | None:
        """A poll's answer, whichever it was: a status or the error the query raised."""
        return self.on_error(answer) if isinstance(answer, BaseException) else self.on_status(answer)

    def next_delay(self, now: float, jitter: float = 0.0) -> float | None:
        return next_poll_delay(self.poll_interval, self.polls, self.deadline - now, jitter)

    def next_step(self, now: float, jitter: float = 0.0) -> float | WaitEvent:
        """Seconds to sleep before the next poll, or the timeout event when the deadline has passed."""
        delay = self.next_delay(now, jitter)
        return self.timeout_event() if delay is None else delay

    def timeout_event(self) -> WaitTimedOut:
        last = self.last_status
        seen = f"last status {last.raw_status} ({last.state.value})" if last else "no status seen yet"
        deadline = datetime.fromtimestamp(self.deadline, tz=timezone.utc).isoformat(timespec="seconds")
        message = (
            f"{self.vendor or 'vendor'} video task {self.video_task_id} did not finish by the deadline "
            f"{deadline} ({seen}). It may still be running at the vendor: a retry of this Airflow task "
            "waits for it again instead of submitting a new video."
        )
        error = ErrorData("HailuoTimeoutError", message, {"task_id": self.video_task_id})
        return WaitTimedOut(self.video_task_id, self.vendor, message, task_status=last, error=error)
