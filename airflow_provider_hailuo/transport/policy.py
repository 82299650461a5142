"""One retry policy for the sync and the async transport, so the two pollers cannot drift apart.

Retried: transient vendor errors (the dialects map their codes to HailuoTransientError), HTTP
5xx/408, connection failures and rate limits (HailuoRateLimitError, HTTP 429), with exponential
backoff and full jitter. Rate limits get their own, longer backoff and a budget in seconds,
because a burst of mapped tasks against a 5-per-minute limit must wait minutes, not give up
after five quick tries.
Never retried: authentication, balance, moderation, invalid parameters.

A submit is not idempotent (a repeat may pay for a second video), so after a failure where the
vendor gave no clear answer (reset, read timeout, cut body, or a gateway's 500/502/504, which can
come after the vendor accepted the task) it is not repeated: only refusals (a vendor error code, HTTP
4xx, 503) and connections that never opened are safe to repeat.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

from airflow_provider_hailuo import metrics
from airflow_provider_hailuo.exceptions import (
    HailuoConnectError,
    HailuoError,
    HailuoRateLimitError,
    HailuoVendorError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    initial_backoff: float = 1.0
    max_backoff: float = 30.0
    rate_limit_initial_backoff: float = 5.0
    #: Short enough that a slot the vendor frees is used soon: with 60 s, 50 mapped submits against
    #: 5 per 10 s took 172 s instead of ~100 s (the last tasks slept up to a minute past free slots);
    #: 15 s: ~108 s, at the price of about 1.4x the 1002 answers (benchmarks/rate_limits.py).
    rate_limit_max_backoff: float = 15.0
    #: Seconds a call may spend waiting out rate limits before it gives up.
    rate_limit_budget: float = 600.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    # -- decisions (plain functions of the error, testable without I/O) ---------------------------
    def should_retry(self, error: BaseException, *, idempotent: bool, attempt: int, elapsed: float) -> bool:
        if not isinstance(error, HailuoError) or not error.retryable:
            return False
        if not idempotent and not safe_to_repeat(error):
            return False
        if isinstance(error, HailuoRateLimitError):
            return elapsed < self.rate_limit_budget
        return attempt < self.max_attempts

    def backoff(self, error: BaseException | None, attempt: int) -> float:
        """Full-jitter exponential backoff (AWS architecture blog), longer for rate limits."""
        if isinstance(error, HailuoRateLimitError):
            ceiling = min(self.rate_limit_max_backoff, self.rate_limit_initial_backoff * 2 ** (attempt - 1))
            return random.uniform(ceiling / 2, ceiling)  # never hammer a rate limit right away
        ceiling = min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)

    def next_retry(self, error: BaseException, *, idempotent: bool, attempt: int, started: float,
                   what: str) -> float | None:
        """Seconds to wait before repeating a failed call, or None to give up (the caller re-raises).

        The sync and the async transport both loop on this, so they cannot drift apart. (A plain
        loop, not tenacity: measured in benchmarks/triggerer_scale.py, tenacity's per-call state left
        reference cycles that made the garbage collector pause a 1,000-trigger event loop for 250 ms.)
        """
        elapsed = time.monotonic() - started
        if not self.should_retry(error, idempotent=idempotent, attempt=attempt, elapsed=elapsed):
            return None
        delay = self.backoff(error, attempt)
        log.warning("%s: %s; retrying in %.1f s (attempt %d)", what, error, delay, attempt + 1)
        return delay

    def attempts(self, *, idempotent: bool, what: str, labels: Mapping[str, str] | None = None) -> RetryAttempts:
        """The retry loop of one call, for the sync and the async client alike (see RetryAttempts)."""
        return RetryAttempts(self, idempotent=idempotent, what=what, labels=labels)


class RetryAttempts:
    """The attempts of one call. Each ``with attempts:`` block is one try: a ``HailuoError`` the
    policy allows to repeat is swallowed and ``delay`` says how long to sleep; any other error
    leaves the block as it is. So both clients' loops are three lines::

        while True:
            with attempts:
                return parse(send(request))
            sleep(attempts.delay)
    """

    def __init__(self, policy: RetryPolicy, *, idempotent: bool, what: str,
                 labels: Mapping[str, str] | None = None) -> None:
        self.policy = policy
        #: vendor and endpoint, the tags of the retry and rate-limit metrics (never a URL or a key).
        self.labels = dict(labels or {})
        self.idempotent = idempotent
        self.what = what
        self.started = time.monotonic()
        self.attempt = 0
        self.delay = 0.0

    def __enter__(self) -> RetryAttempts:
        self.attempt += 1
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if not isinstance(exc, HailuoError):
            return False
        delay = self.policy.next_retry(exc, idempotent=self.idempotent, attempt=self.attempt,
                                       started=self.started, what=self.what)
        metrics.call_failed(self.labels, exc, retrying=delay is not None)
        if delay is None:
            return False
        self.delay = delay
        return True


#: HTTP statuses a gateway may send after the vendor already accepted the request (its answer was
#: lost or late): a submit that got one of these may have created a task, so it is not repeated.
AMBIGUOUS_HTTP_STATUSES = frozenset({500, 502, 504})


def safe_to_repeat(error: HailuoError) -> bool:
    """True when the failed call certainly created nothing at the vendor."""
    if isinstance(error, HailuoConnectError):
        return True
    if isinstance(error, HailuoVendorError):
        if error.code is not None and error.http_status is None:
            return True  # the vendor's own base_resp error: it refused the request
        status = error.http_status or 0
        return status >= 400 and status not in AMBIGUOUS_HTTP_STATUSES
    return False


DEFAULT_POLICY = RetryPolicy()
