"""The provider's metrics, through Airflow's own (``[metrics]``: StatsD, Datadog or OpenTelemetry).

One function per thing counted, so the rest of the code makes one call where it happens. Every
name starts ``hailuo.``; tags are only ``vendor``, ``api``, ``model``, ``endpoint``, ``error`` (a
class name), ``state`` and ``unit``: never a key, a URL, a prompt or a task id. The list is in the README
("Metrics"). A metrics backend that fails never fails the task.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

SUBMITS = "hailuo.submits"
STATUS_QUERIES = "hailuo.status_queries"
RATE_LIMITED = "hailuo.rate_limited"
RETRIES = "hailuo.retries"
API_ERRORS = "hailuo.api_errors"
RECONNECTS = "hailuo.reconnects"
CANCELS = "hailuo.cancels"
FAILURES = "hailuo.failures"
VIDEOS = "hailuo.videos"
VIDEO_SECONDS = "hailuo.video_seconds"
COST = "hailuo.cost"
NAMES = (SUBMITS, STATUS_QUERIES, RATE_LIMITED, RETRIES, API_ERRORS, RECONNECTS, CANCELS, FAILURES, VIDEOS,
         VIDEO_SECONDS, COST)


@functools.cache  # looked up once: a triggerer counts a status query for every poll
def _stats() -> Any:
    """Airflow's Stats (task SDK location first, as the official providers import it)."""
    from airflow.providers.common.compat.sdk import Stats

    return Stats


def _incr(name: str, tags: Mapping[str, object], count: float = 1) -> None:
    try:
        # A float count (cost) is what statsd, Datadog and OpenTelemetry counters all accept.
        _stats().incr(name, count, tags={key: str(value) for key, value in tags.items() if value is not None})
    except Exception:  # noqa: BLE001 - a metrics backend must never fail a video
        log.debug("metric %s not emitted", name, exc_info=True)


def submitted(vendor: str, api: str, model: object) -> None:
    """A generation was accepted by the vendor (a video task now exists, and will be paid for)."""
    _incr(SUBMITS, {"vendor": vendor, "api": api, "model": model})


def status_queried(vendor: str, api: str) -> None:
    _incr(STATUS_QUERIES, {"vendor": vendor, "api": api})


def call_failed(labels: Mapping[str, str], error: BaseException, *, retrying: bool) -> None:
    """One failed attempt of an API call: a rate-limit answer, a retry, or (giving up) an API error."""
    from airflow_provider_hailuo.exceptions import HailuoRateLimitError

    if isinstance(error, HailuoRateLimitError):
        _incr(RATE_LIMITED, labels)
    _incr(RETRIES if retrying else API_ERRORS, {**labels, "error": type(error).__name__})


def reconnected(vendor: str, api: str, model: object, state: str) -> None:
    """A retried task looked up the video task an earlier try submitted (``state``: what it found; only a
    failed one is submitted anew) instead of paying for a new one blindly."""
    _incr(RECONNECTS, {"vendor": vendor, "api": api, "model": model, "state": state})


def cancelled(vendor: str, api: str) -> None:
    _incr(CANCELS, {"vendor": vendor, "api": api})


@contextmanager
def counting_failures(vendor: str, api: str, model: object) -> Iterator[None]:
    """Counts the error a finished wait raises (task failed, moderation, timeout...) by its class."""
    try:
        yield
    except Exception as error:
        _incr(FAILURES, {"vendor": vendor, "api": api, "model": model, "error": type(error).__name__})
        raise


def video_ready(result: dict[str, Any]) -> dict[str, Any]:
    """A video result dict, counted (videos, seconds, cost by vendor and model); returned as it is.

    Seconds and cost are the billed ones where the vendor reports usage (v2), else the request's."""
    from airflow_provider_hailuo.core.cost import billed_cost

    tags = {"vendor": result.get("vendor"), "api": result.get("api"), "model": result.get("model")}
    _incr(VIDEOS, tags)
    usage = result.get("usage") if isinstance(result.get("usage"), Mapping) else {}
    seconds = usage.get("output_seconds", result.get("duration"))  # type: ignore[union-attr]
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        _incr(VIDEO_SECONDS, tags, seconds)
    cost = billed_cost(result) or result.get("estimated_cost")
    if isinstance(cost, Mapping) and isinstance(cost.get("amount"), (int, float)):
        _incr(COST, {**tags, "unit": cost.get("unit")}, float(cost["amount"]))
    return result
