"""What the generate operator, the sensor and the trigger share: the poll loop's decisions,
the trigger event shape, and turning an event back into a result or a ``HailuoError``.

The poll loop runs in two places: asynchronously in the triggerer (``HailuoVideoTrigger``) and
synchronously in the worker (``deferrable=False``). Both drive the same :class:`StatusPoller`,
which does no I/O: it is told each poll answer (or error) and answers with "keep going, sleep this
long" or with the one event that ends the wait. Sync mode then hands that event to the same
handler ``execute_complete`` uses, so the two modes cannot drift apart.

Nothing heavy is imported here: this module is imported at DAG parse time.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_hailuo import exceptions as hailuo_exceptions
from airflow_provider_hailuo.core.models import TaskState, TaskStatus
from airflow_provider_hailuo.exceptions import (
    HailuoError,
    HailuoInvalidRequestError,
    HailuoModerationError,
    HailuoTaskFailedError,
    HailuoTimeoutError,
)

if TYPE_CHECKING:
    from airflow_provider_hailuo.core.images import ReadObject

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

EVENT_STATUSES = ("success", "failed", "timeout", "error")


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


def default_deferrable() -> bool:
    """``deferrable`` when the DAG does not say: ``[operators] default_deferrable`` if the deployment set
    it (airflow.cfg, ``AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE``, ``_CMD`` or ``_SECRET``), else True.

    Official providers read ``conf.getboolean("operators", "default_deferrable", fallback=...)``, but
    Airflow ships that option with a default of False, so the fallback never applies and a stock
    deployment would turn every wait into a worker slot held for minutes. A value the deployment
    chose is followed either way; Airflow's own default is not taken for a choice.
    """
    import configparser
    import os

    from airflow.providers.common.compat.sdk import conf

    section, key = "operators", "default_deferrable"
    variable = f"AIRFLOW__{section.upper()}__{key.upper()}"
    chosen = any(os.environ.get(variable + suffix) for suffix in ("", "_CMD", "_SECRET")) or (
        configparser.RawConfigParser.has_option(conf, section, key)  # airflow.cfg only, not the defaults
    )
    return conf.getboolean(section, key, fallback=True) if chosen else True


def deadline_to_epoch(deadline: object) -> float:
    """An absolute deadline (epoch seconds, ISO 8601 string or aware datetime) as epoch seconds."""
    if isinstance(deadline, (int, float)) and not isinstance(deadline, bool):
        return float(deadline)
    if isinstance(deadline, str):
        try:
            parsed = datetime.fromisoformat(deadline.strip().replace("Z", "+00:00"))
        except ValueError:
            raise HailuoInvalidRequestError(
                f"deadline must be epoch seconds or an ISO 8601 timestamp; got {deadline!r}.",
                parameter="deadline",
                value=deadline,
            ) from None
        deadline = parsed
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


def _event(status: str, video_task_id: str, vendor: str | None, message: str, *,
           error_class: str | None = None, task_status: TaskStatus | None = None,
           code: int | str | None = None, trace_id: str | None = None) -> dict[str, Any]:
    """The trigger event payload: JSON only, never a key, a header or the prompt."""
    return {
        "status": status,
        "video_task_id": video_task_id,
        "vendor": vendor,
        "message": message,
        "error_class": error_class,
        "code": code,
        "trace_id": trace_id,
        "task_status": task_status.to_dict() if task_status is not None else None,
    }


def event_for_error(error: BaseException, video_task_id: str, vendor: str | None) -> dict[str, Any]:
    """An event for an error that ends the wait.

    ``failed`` when the vendor says the generation itself failed (moderation of the input or the
    video); ``error`` when we could not learn the outcome (key refused, balance, unknown answers,
    too many transient faults): the vendor task may then still be running.
    """
    status = "failed" if isinstance(error, (HailuoModerationError, HailuoTaskFailedError)) else "error"
    if isinstance(error, HailuoError):
        error_class = type(error).__name__
        message = str(error)
    else:  # a bug or an unexpected library error: still end with one clear event
        error_class = "HailuoError"
        message = f"unexpected {type(error).__name__} while polling: {error}"
    return _event(status, video_task_id, vendor or getattr(error, "vendor", None), message,
                  error_class=error_class, code=getattr(error, "code", None),
                  trace_id=getattr(error, "trace_id", None))


class StatusPoller:
    """The decisions of one wait for one vendor task, without I/O or clocks of its own.

    The caller polls, reports each answer with :meth:`on_status` or :meth:`on_error`, and sleeps
    :meth:`next_delay` seconds (None: the deadline has passed, send :meth:`timeout_event`).
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

    def _info(self, message: str, *args: object) -> None:
        if self.log is not None:
            self.log.info(message, *args)

    def first_delay(self, initial_delay: float, now: float) -> float:
        """The wait before the first poll; the first poll happens even when the deadline has passed,
        because the task may have finished while nobody was looking (e.g. a triggerer outage)."""
        return max(0.0, min(initial_delay, self.deadline - now))

    def on_status(self, status: TaskStatus) -> dict[str, Any] | None:
        """A poll answer; returns the final event when the vendor task has ended."""
        self.polls += 1
        self.transient_errors = 0
        previous = self.last_status
        self.last_status = status
        if previous is None or previous.state is not status.state or previous.raw_status != status.raw_status:
            self._info("%s video task %s: %s (%s)", status.vendor, self.video_task_id, status.state.value,
                       status.raw_status)
        elif self.log is not None:
            self.log.debug("%s video task %s still %s", status.vendor, self.video_task_id, status.raw_status)
        vendor = status.vendor or self.vendor
        if status.state is TaskState.SUCCEEDED:
            return _event("success", self.video_task_id, vendor, f"video task {self.video_task_id} succeeded",
                          task_status=status, trace_id=status.trace_id)
        if status.state is TaskState.FAILED:
            reason = status.error_message or "the vendor gave no reason"
            return _event(
                "failed", self.video_task_id, vendor,
                f"{vendor} video task {self.video_task_id} failed: {reason}",
                error_class="HailuoTaskFailedError", task_status=status, code=status.error_code,
                trace_id=status.trace_id,
            )
        return None

    def on_error(self, error: BaseException) -> dict[str, Any] | None:
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

    def next_delay(self, now: float, jitter: float = 0.0) -> float | None:
        return next_poll_delay(self.poll_interval, self.polls, self.deadline - now, jitter)

    def timeout_event(self) -> dict[str, Any]:
        last = self.last_status
        seen = f"last status {last.raw_status} ({last.state.value})" if last else "no status seen yet"
        deadline = datetime.fromtimestamp(self.deadline, tz=timezone.utc).isoformat(timespec="seconds")
        message = (
            f"{self.vendor or 'vendor'} video task {self.video_task_id} did not finish by the deadline "
            f"{deadline} ({seen}). It may still be running at the vendor: a retry of this Airflow task "
            "waits for it again instead of submitting a new video."
        )
        return _event("timeout", self.video_task_id, self.vendor, message, error_class="HailuoTimeoutError",
                      task_status=last)


# -- the receiving side -----------------------------------------------------------------------------

def _malformed(event: object, why: str) -> HailuoError:
    return HailuoError(f"the trigger sent a malformed event ({why}): {str(event)[:300]!r}")


def validate_event(event: object) -> dict[str, Any]:
    """Check the shape of a trigger event; a malformed one raises ``HailuoError``."""
    if not isinstance(event, Mapping):
        raise _malformed(event, "not a dict")
    status = event.get("status")
    if status not in EVENT_STATUSES:
        raise _malformed(event, f"status {status!r} is not one of {', '.join(EVENT_STATUSES)}")
    video_task_id = event.get("video_task_id")
    if not isinstance(video_task_id, str) or not video_task_id:
        raise _malformed(event, "no video_task_id")
    if status == "success" and not isinstance(event.get("task_status"), Mapping):
        raise _malformed(event, "success without task_status")
    return dict(event)


def error_from_event(event: Mapping[str, Any]) -> HailuoError:
    """Rebuild the ``HailuoError`` the trigger reported, message and class unchanged.

    The class is looked up by name in :mod:`airflow_provider_hailuo.exceptions` (only
    ``HailuoError`` subclasses). The instance is made without calling ``__init__``: the message
    was already formatted by the original error (vendor, code, meaning, ``Trace-Id``), and running
    it through ``HailuoVendorError.__init__`` again would prefix it twice.
    """
    status = event.get("status")
    video_task_id = str(event.get("video_task_id"))
    defaults: dict[str, type[HailuoError]] = {"failed": HailuoTaskFailedError, "timeout": HailuoTimeoutError}
    cls: type[HailuoError] = defaults.get(str(status), HailuoError)
    name = event.get("error_class")
    found = getattr(hailuo_exceptions, name, None) if isinstance(name, str) else None
    if isinstance(found, type) and issubclass(found, HailuoError):
        cls = found
    message = str(event.get("message") or f"video task {video_task_id} ended with status {status}")
    if video_task_id not in message:
        message = f"{message} (video_task_id {video_task_id})"
    error = cls.__new__(cls, message)
    error.args = (message,)
    task_status = event.get("task_status") if isinstance(event.get("task_status"), Mapping) else {}
    attributes = {
        "vendor": event.get("vendor"),
        "code": event.get("code"),
        "trace_id": event.get("trace_id"),
        "task_id": video_task_id,
        "meaning": None,
        "http_status": None,
        "reason": (task_status or {}).get("error_message"),
        "parameter": None,
        "value": None,
    }
    for attribute, value in attributes.items():
        setattr(error, attribute, value)
    return error


def status_from_event(event: object) -> TaskStatus:
    """The finished ``TaskStatus`` of a success event; any other event raises its ``HailuoError``."""
    checked = validate_event(event)
    if checked["status"] != "success":
        raise error_from_event(checked)
    try:
        status = TaskStatus.from_dict(dict(checked["task_status"]))
    except (TypeError, ValueError, KeyError) as exc:
        raise _malformed(event, f"unreadable task_status: {exc}") from None
    if status.state is not TaskState.SUCCEEDED:
        raise _malformed(event, f"success with task state {status.state.value}")
    return status


# -- images from object storage -------------------------------------------------------------------

def object_storage_reader(conn_id: str | None) -> ReadObject:
    """``read_object(uri, max_bytes)`` for ``core.images``, through Airflow's ``ObjectStoragePath``.

    Reads at most ``max_bytes + 1`` bytes, so an oversized object is detected without being read whole.
    """

    def read_object(uri: str, max_bytes: int) -> bytes:
        from airflow.sdk import ObjectStoragePath

        path = ObjectStoragePath(uri, conn_id=conn_id) if conn_id else ObjectStoragePath(uri)
        with path.open("rb") as handle:
            chunks = []
            left = max_bytes + 1
            while left > 0:
                chunk = handle.read(min(left, 1024 * 1024))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)

    return read_object
