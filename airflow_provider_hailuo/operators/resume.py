"""What a retry needs to find the vendor task an earlier try submitted (``task_state_store``).

Why ResumableJobMixin, in both modes: its execute_resumable() is exactly the decision this operator
needs before it waits, whichever way it then waits: read the stored vendor task id, ask its status,
and reconnect (queued/running), return its result (succeeded) or submit anew (failed). The id is
persisted right after submit_job() returns and before poll_until_complete() starts waiting. Our
poll_until_complete() either polls in the worker (deferrable=False) or checks once and defers to
the trigger: the TaskDeferred it raises passes through the mixin untouched, and the id is already
stored. Before the request goes out, a marker is stored in its place (``submit_once``): a retry
that finds it knows an earlier try may have paid for a video it lost, and refuses to pay again
(``refuse_unconfirmed``). One decision path for both modes, plus Airflow's own resumable-job logs, spans and
metrics. On Airflow < 3.3 the compat stand-in submits on every try; execute() says so in the log.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_hailuo.exceptions import HailuoError, HailuoInvalidRequestError, HailuoVendorError

#: task_state_store key of the submitted vendor task. Renaming it breaks resuming in-flight retries.
TASK_STATE_KEY = "hailuo_video_task"


def request_fingerprint(request: Any) -> str:
    """A hash of everything that is sent, to tell whether a stored vendor task belongs to this request."""
    fields = asdict(request)
    for derived in ("warnings", "effective_duration", "effective_resolution"):
        fields.pop(derived, None)
    text = json.dumps(fields, sort_keys=True, default=_printable, ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _printable(value: object) -> str:
    """Bytes to upload (v2 media) are hashed, not spelled out, in the fingerprint."""
    if isinstance(value, (bytes, bytearray)):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    return str(value)


def stored_task(value: object) -> dict[str, str | None] | None:
    """The stored vendor task, ``{"video_task_id", "vendor", "request_sha256", "api"}``; a bare id is accepted.

    ``api`` is "v1" for values stored before video API v2 was wired (they hold no ``api``)."""
    if isinstance(value, str) and value:
        return {"video_task_id": value, "vendor": None, "request_sha256": None, "api": "v1"}
    if isinstance(value, Mapping) and isinstance(value.get("video_task_id"), str) and value["video_task_id"]:
        return {
            "video_task_id": value["video_task_id"],
            "vendor": value.get("vendor") if isinstance(value.get("vendor"), str) else None,
            "request_sha256": value.get("request_sha256") if isinstance(value.get("request_sha256"), str) else None,
            "api": value["api"] if value.get("api") in ("v1", "v2") else "v1",
        }
    return None


def superseded_because(stored: Mapping[str, str | None], *, vendor: str, fingerprint: str | None,
                       conn_id: str) -> str | None:
    """Why the stored task is not this request's (connection's vendor or request changed), or None."""
    video_task_id = stored["video_task_id"]
    if stored["vendor"] and stored["vendor"] != vendor:
        return (f"An earlier try submitted video task {video_task_id} to {stored['vendor']}, but connection "
                f"{conn_id} is now {vendor}; submitting anew.")
    if stored["request_sha256"] and stored["request_sha256"] != fingerprint:
        return (f"An earlier try submitted video task {video_task_id} for a different request (model, prompt, "
                "images or options changed since); submitting a new video for this one.")
    return None


def stored_facts(context: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """The request facts stored with the submitted task (where defer kwargs did not reach execute_complete)."""
    store = context.get("task_state_store")
    try:
        stored = store.get(key) if store is not None else None
    except Exception:  # a store that cannot be read only costs the facts
        return None
    facts = stored.get("facts") if isinstance(stored, Mapping) else None
    return facts if isinstance(facts, Mapping) else None


def warn_if_retries_resubmit(log: Any, *, durable: bool, context: Mapping[str, Any]) -> None:
    """Say so when a retry of the task would pay for a second video (no store, or durable=False)."""
    if durable:
        return  # with no store, ResumableJobMixin itself logs that crash recovery is disabled
    if context.get("task_state_store") is None:
        log.warning("No task_state_store in this Airflow (it arrived in 3.3): crash recovery is disabled, "
                    "a retry of this task submits, and pays for, a new video.")
    else:
        log.warning("durable=False: every try of this task submits, and pays for, a new video.")


# -- the submit window -------------------------------------------------------------------------------
# Between the vendor accepting a submit and the mixin storing the task id, a killed worker (SIGKILL,
# OOM, a lost node) leaves a retry with nothing to reconnect to, and the v1 APIs cannot look a task
# up without its id. A marker written before the request goes out tells that retry "an earlier try
# may have paid for a video": it refuses to submit again (no video paid twice) and says how to find
# or release it. The mixin overwrites the marker with the task id as soon as the submit returns.

#: Key of the marker inside the stored value: ``{"submitting": {...}, "request_sha256", "vendor", "api"}``.
SUBMITTING = "submitting"


class HailuoSubmitUnconfirmedError(HailuoError, AirflowFailException):
    """An earlier try sent this request and died before recording the vendor's answer.

    An ``AirflowFailException``: every retry would find the same marker, so the task fails at once
    instead of spending its retries on the same refusal."""


def submitting_marker(value: object) -> Mapping[str, Any] | None:
    """The "about to submit" marker an earlier try stored, or None (nothing stored, or a task id)."""
    if isinstance(value, Mapping) and isinstance(value.get(SUBMITTING), Mapping) and not value.get("video_task_id"):
        return value
    return None


def submit_once(operator: Any, request: Any, context: Mapping[str, Any]) -> str:
    """Submit ``request`` with the marker around it; returns the vendor task id.

    The marker stays when the outcome is unknown (no answer, a timeout, a kill); it is removed when
    the vendor clearly refused, since then nothing was started and a retry may submit again."""
    hook = operator.api_hook
    store = context.get("task_state_store") if operator.durable else None
    between_attempts = None
    if store is not None:
        ti = context.get("ti")
        marker = {SUBMITTING: {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               "try_number": getattr(ti, "try_number", None), "summary": request.summary()},
                  "request_sha256": operator._fingerprint, "vendor": hook.vendor, "api": operator._api}

        def between_attempts(seconds: float) -> None:
            """Waiting out a refusal (a rate limit) nothing is in flight: a kill then costs no marker."""
            store.delete(TASK_STATE_KEY)
            time.sleep(seconds)
            store.set(TASK_STATE_KEY, marker)

        store.set(TASK_STATE_KEY, marker)
    try:
        return str(hook.submit(request, between_attempts=between_attempts))
    except HailuoError as exc:
        from airflow_provider_hailuo.transport.policy import safe_to_repeat

        started_nothing = safe_to_repeat(exc) or (isinstance(exc, HailuoInvalidRequestError)
                                                  and not isinstance(exc, HailuoVendorError))
        if not started_nothing:
            operator.log.warning(
                "The submit got no clear answer (%s): %s may have started a video this task cannot track. It is "
                "not resubmitted (so not paid twice); a retry of this task will refuse to submit it again.",
                exc, hook.vendor)
        elif store is not None:
            store.delete(TASK_STATE_KEY)  # refused: nothing was started, a retry may submit
        raise


def refuse_unconfirmed(marker: Mapping[str, Any], *, fingerprint: str | None, vendor: str,
                       context: Mapping[str, Any]) -> str:
    """What a retry does with an earlier try's marker: "superseded" for another request, else raise."""
    if marker.get("request_sha256") and marker["request_sha256"] != fingerprint:
        return "superseded"  # the DAG changed since: this is a new request, submitting it is what was asked
    info = marker[SUBMITTING]
    ti = context.get("ti")
    where = (f"/api/v2/dags/{ti.dag_id}/dagRuns/{ti.run_id}/taskInstances/{ti.task_id}/state-store/"
             f"{TASK_STATE_KEY}?map_index={ti.map_index}") if ti is not None else f"key {TASK_STATE_KEY}"
    raise HailuoSubmitUnconfirmedError(
        f"Try {info.get('try_number')} of this task sent this request ({info.get('summary')}) to "
        f"{marker.get('vendor') or vendor} at {info.get('at')} and stopped before it recorded the answer "
        "(the worker was killed, or the submit timed out). The vendor may have started, and charged for, a video "
        "whose task id is lost: the vendor's API cannot look it up without it. Not submitting again, so it is not "
        "paid twice. Look in the vendor's console for a task created then; if there is one, fetch it with "
        "HailuoVideoSensor or HailuoToObjectStorageOperator(video_task_id=...). To submit a new video instead, "
        f"delete this task instance's state-store entry (REST API: DELETE {where}) and clear the task.")
