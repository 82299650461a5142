"""The one synchronous wait loop, and the one check every mode starts with.

The operator's ``deferrable=False`` path waits with :func:`wait_in_worker`; the operator and the
sensor check once with :func:`check_once` before deferring, and the sensor's ``poke`` is that same
check. The status query is passed in, so this module does no I/O of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from airflow_provider_hailuo.core.models import TaskStatus
from airflow_provider_hailuo.exceptions import HailuoError
from airflow_provider_hailuo.waiting.decisions import WaitDecisions, random_jitter
from airflow_provider_hailuo.waiting.events import WaitEvent


def check_once(decisions: WaitDecisions, get_status: Callable[[], TaskStatus],
               prior: TaskStatus | None = None) -> WaitEvent | None:
    """One status query (or an answer already at hand), reported: the event when the wait is over."""
    answer: TaskStatus | HailuoError
    if prior is not None:
        answer = prior
    else:
        try:
            answer = get_status()
        except HailuoError as exc:
            answer = exc
    return decisions.on_answer(answer)


def wait_in_worker(decisions: WaitDecisions, get_status: Callable[[], TaskStatus], *, first_delay: float,
                   prior: TaskStatus | None = None, sleep: Callable[[float], None] | None = None,
                   clock: Callable[[], float] = time.time) -> WaitEvent:
    """Poll until the wait ends, sleeping where the decisions say; returns the event that ended it."""
    sleep = sleep or time.sleep  # looked up per call, so a patched time.sleep is the one used
    event = decisions.on_status(prior) if prior is not None else None
    if event is None:
        sleep(decisions.first_delay(first_delay, clock()))
    while event is None:
        event = check_once(decisions, get_status)
        if event is None:
            step = decisions.next_step(clock(), random_jitter())
            if isinstance(step, WaitEvent):
                return step
            sleep(step)
    return event
