"""The one send path: typed "not sent" errors from both clients, and no requests in the async one."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import pytest

from airflow_provider_hailuo.exceptions import HailuoConnectError, HailuoTransientError
from airflow_provider_hailuo.transport.aio import AsyncTransport
from airflow_provider_hailuo.transport.policy import RetryPolicy, safe_to_repeat
from airflow_provider_hailuo.transport.sync import SyncTransport
from airflow_provider_hailuo.vendors.base import HttpRequest

ONE_TRY = RetryPolicy(max_attempts=1, connect_timeout=2, read_timeout=2)
SUBMIT = HttpRequest("POST", "/v1/video_generation", "submit", json={}, idempotent=False)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_sync_refused_connection_is_a_typed_not_sent_error() -> None:
    transport = SyncTransport(f"http://127.0.0.1:{closed_port()}", {}, vendor="minimax", policy=ONE_TRY)
    with pytest.raises(HailuoConnectError, match="submit: could not connect") as caught:
        transport.send(SUBMIT)
    assert safe_to_repeat(caught.value)  # a submit that never left may be repeated


def test_async_refused_connection_is_a_typed_not_sent_error() -> None:
    async def send() -> None:
        async with AsyncTransport(f"http://127.0.0.1:{closed_port()}", {}, vendor="minimax",
                                  policy=ONE_TRY) as transport:
            await transport.send(SUBMIT)

    with pytest.raises(HailuoConnectError, match="submit: could not connect") as caught:
        asyncio.run(send())
    assert safe_to_repeat(caught.value)


def test_a_plain_transient_error_is_not_taken_for_not_sent() -> None:
    assert not safe_to_repeat(HailuoTransientError("reset", vendor="minimax"))


def test_the_async_client_does_not_import_requests() -> None:
    code = ("import sys; import airflow_provider_hailuo.transport.aio; "
            "print(sorted(m for m in sys.modules if m == 'requests' or m.startswith('requests.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
