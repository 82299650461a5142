""""Check once, then defer", written once for the generate operator and the sensor.

A fast vendor may be done already, and a refused key should fail in the worker rather than in the
triggerer, so both check the status once before handing the wait to ``HailuoVideoTrigger``.
Light: the trigger (and with it aiohttp) is imported only when a task really defers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from airflow_provider_hailuo.core.models import TaskStatus
from airflow_provider_hailuo.waiting.decisions import WaitDecisions
from airflow_provider_hailuo.waiting.events import WaitEvent
from airflow_provider_hailuo.waiting.loop import check_once


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


def check_then_defer(task: Any, decisions: WaitDecisions, get_status: Callable[[], TaskStatus], *,
                     hailuo_conn_id: str, initial_delay: float, max_transient_errors: int,
                     prior: TaskStatus | None = None, facts: Mapping[str, Any] | None = None) -> WaitEvent:
    """The event when the first check already ends the wait; otherwise defers (raises TaskDeferred).

    ``facts`` (JSON, no secrets) go to ``execute_complete`` through ``defer(kwargs=...)``, so
    nothing has to be worked out again after the trigger fires.
    """
    event = check_once(decisions, get_status, prior)
    if event is not None:
        return event
    from airflow_provider_hailuo.triggers.video import HailuoVideoTrigger

    task.log.info(
        "Deferring: the triggerer polls video task %s, first in about %.3g s (initial_delay), then every "
        "%.3g s or more, until it ends or until %s", decisions.video_task_id, initial_delay, decisions.poll_interval,
        datetime.fromtimestamp(decisions.deadline, tz=timezone.utc).isoformat(timespec="seconds"),
    )
    # No defer(timeout=...): that would end the task without execute_complete. The trigger gets
    # the absolute deadline and sends a "timeout" event, so the failure names the vendor task.
    task.defer(
        trigger=HailuoVideoTrigger(
            hailuo_conn_id=hailuo_conn_id,
            video_task_id=decisions.video_task_id,
            deadline=decisions.deadline,
            poll_interval=decisions.poll_interval,
            initial_delay=initial_delay,
            max_transient_errors=max_transient_errors,
        ),
        method_name="execute_complete",
        kwargs={"facts": dict(facts)} if facts else None,
    )
    raise AssertionError("defer() returned")  # pragma: no cover - defer always raises TaskDeferred
