"""Retry decisions and URL helpers, with plain values."""

from __future__ import annotations

import pytest

from airflow_provider_hailuo.exceptions import (
    HailuoAuthenticationError,
    HailuoConnectError,
    HailuoProtocolError,
    HailuoRateLimitError,
    HailuoTransientError,
)
from airflow_provider_hailuo.transport.policy import RetryPolicy, safe_to_repeat
from airflow_provider_hailuo.transport.urls import is_loopback_host, join_url, redact_url

POLICY = RetryPolicy(max_attempts=4, rate_limit_budget=100)


def test_transient_errors_retry_up_to_max_attempts() -> None:
    error = HailuoTransientError("x", vendor="minimax", code=1000)
    assert POLICY.should_retry(error, idempotent=True, attempt=3, elapsed=1)
    assert not POLICY.should_retry(error, idempotent=True, attempt=4, elapsed=1)


def test_rate_limits_retry_within_a_time_budget_not_attempts() -> None:
    error = HailuoRateLimitError("x", vendor="minimax", code=1002)
    assert POLICY.should_retry(error, idempotent=False, attempt=40, elapsed=99)
    assert not POLICY.should_retry(error, idempotent=False, attempt=2, elapsed=101)


def test_never_retries_authentication() -> None:
    error = HailuoAuthenticationError("x", vendor="minimax", code=1004)
    assert not POLICY.should_retry(error, idempotent=True, attempt=1, elapsed=0)


def test_submit_is_not_repeated_after_an_ambiguous_failure() -> None:
    reset = HailuoTransientError("reset", vendor="minimax")
    assert not safe_to_repeat(reset)
    assert not POLICY.should_retry(reset, idempotent=False, attempt=1, elapsed=0)
    assert POLICY.should_retry(reset, idempotent=True, attempt=1, elapsed=0)
    garbled = HailuoProtocolError("bad json", vendor="minimax", http_status=200, retryable=True)
    assert not POLICY.should_retry(garbled, idempotent=False, attempt=1, elapsed=0)
    refused = HailuoConnectError("could not connect", vendor="minimax")
    assert POLICY.should_retry(refused, idempotent=False, attempt=1, elapsed=0)
    for status in (500, 502, 504):  # a gateway may say this after the vendor accepted the task
        gateway = HailuoTransientError(str(status), vendor="minimax", http_status=status)
        assert not POLICY.should_retry(gateway, idempotent=False, attempt=1, elapsed=0)
        assert POLICY.should_retry(gateway, idempotent=True, attempt=1, elapsed=0)
    unavailable = HailuoTransientError("503", vendor="minimax", http_status=503)
    assert POLICY.should_retry(unavailable, idempotent=False, attempt=1, elapsed=0)
    limited = HailuoRateLimitError("429", vendor="modelverse", http_status=429, code="RateLimit")
    assert POLICY.should_retry(limited, idempotent=False, attempt=1, elapsed=0)
    refused = HailuoTransientError("1024", vendor="minimax", code=1024)
    assert POLICY.should_retry(refused, idempotent=False, attempt=1, elapsed=0)


def test_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(initial_backoff=1, max_backoff=8, rate_limit_initial_backoff=5, rate_limit_max_backoff=20)
    transient = HailuoTransientError("x", vendor="v")
    delays = [policy.backoff(transient, 10) for _ in range(200)]
    assert max(delays) <= 8 and min(delays) >= 0 and len(set(delays)) > 100
    limited = HailuoRateLimitError("x", vendor="v")
    assert all(10 <= policy.backoff(limited, 3) <= 20 for _ in range(100))


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [("http://127.0.0.1:8089/dmx", "/v1/x", "http://127.0.0.1:8089/dmx/v1/x"),
     ("https://api.minimaxi.com/", "v1/x", "https://api.minimaxi.com/v1/x")],
)
def test_join_url_keeps_path_prefix(base: str, path: str, expected: str) -> None:
    assert join_url(base, path) == expected


def test_redact_url_hides_signatures() -> None:
    url = ("https://oss.example/video.mp4?Expires=1763510682&OSSAccessKeyId=LTAI5tAm&"
           "Signature=9Z9J8h5b%2B3QI8&X-Amz-Signature=abc&other=1")
    redacted = redact_url(url)
    assert "LTAI5tAm" not in redacted and "9Z9J8h5b" not in redacted and "abc" not in redacted
    assert "Expires=1763510682" in redacted and "other=1" in redacted


def test_loopback_detection() -> None:
    assert is_loopback_host("127.0.0.1") and is_loopback_host("localhost") and is_loopback_host("[::1]")
    assert not is_loopback_host("10.0.0.1") and not is_loopback_host("api.minimaxi.com")
