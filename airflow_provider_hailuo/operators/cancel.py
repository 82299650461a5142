"""Cancel instead of paying: a v2 task still queued is DELETEd (not charged); a running one is left.

Shared by the generate operator (on_kill and timeout in sync mode); the trigger does the same with
its async transport (``triggers/video.py``). Only dialects with ``can_cancel`` (MiniMax v2) have the call.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hailuo.core.models import TaskState
from airflow_provider_hailuo.exceptions import HailuoError


def cancel_if_queued(hook: Any, video_task_id: str, log: Any, why: str) -> bool:
    """DELETE the task when it is still queued; log what happened either way. True when cancelled."""
    if not hook.dialect.can_cancel:
        log.warning("%s: %s has no cancel call: video task %s keeps running and is charged if it succeeds.",
                    why, hook.dialect.display_name, video_task_id)
        return False
    try:
        status = hook.get_status(video_task_id)
        if status.state is not TaskState.QUEUED:
            log.warning("%s: video task %s is %s at %s, so it cannot be cancelled: it keeps running and is "
                        "charged.", why, video_task_id, status.raw_status, hook.vendor)
            return False
        outcome = hook.cancel(video_task_id)
    except HailuoError as exc:
        log.warning("%s: could not cancel video task %s (%s); it may still run and be charged.", why,
                    video_task_id, exc)
        return False
    log.warning("%s: video task %s was still queued and is now %s at %s: not charged.", why, video_task_id,
                outcome.status, hook.vendor)
    return True
