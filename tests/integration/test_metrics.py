"""The provider's metrics reach a real StatsD listener on loopback from a ``dag.test()`` run.

Airflow's own ``[metrics]`` settings switch StatsD on (host 127.0.0.1, the listener's port, InfluxDB
style tags so the tags can be checked); the run happens in a subprocess, so Airflow builds its
metrics backend from those settings as a worker would. Every name the README lists is seen, with
its tags, and no datagram carries the key.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hailuo import metrics
from tests.conftest import EMULATOR_API_KEY

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
SCRIPT = Path(__file__).with_name("metrics_dag_run.py")
PREFIX = "hailuo_test"


class StatsdListener:
    """A UDP socket on 127.0.0.1 that keeps every datagram it receives."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.socket.recv(65535)
            except TimeoutError:
                continue
            self.lines.extend(data.decode("utf-8", "replace").splitlines())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.socket.close()


def parse(line: str) -> tuple[str, dict[str, str], float]:
    """``prefix.name,k=v,...:value|c`` -> (name, tags, value)."""
    stat, _, rest = line.partition(":")
    name, *pairs = stat.split(",")
    return name, dict(pair.split("=", 1) for pair in pairs), float(rest.split("|", 1)[0])


def test_a_dag_run_emits_every_metric_to_statsd(airflow_db: Any, emulator: Any, vendor_conns: dict[str, str],
                                                tmp_path: Path) -> None:
    emulator.add_fault(endpoint="status", kind="base_resp", code=1002, times=1, vendor="minimax")  # rate limited
    listener = StatsdListener()
    env = {**os.environ, "AIRFLOW__METRICS__STATSD_ON": "True", "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
           "AIRFLOW__METRICS__STATSD_PORT": str(listener.port), "AIRFLOW__METRICS__STATSD_PREFIX": PREFIX,
           "AIRFLOW__METRICS__STATSD_INFLUXDB_ENABLED": "True", "HAILUO_EMULATOR_API_KEY": EMULATOR_API_KEY}
    try:
        done = subprocess.run([sys.executable, str(SCRIPT), emulator.url, vendor_conns["minimax"]], env=env,
                              capture_output=True, text=True, timeout=240)
    finally:
        listener.close()
    assert "RUN STATE failed" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]  # h3_queued times out
    ours = [parse(line) for line in listener.lines if line.startswith(f"{PREFIX}.hailuo.")]
    seen: dict[str, list[tuple[dict[str, str], float]]] = {}
    for name, tags, value in ours:
        seen.setdefault(name.removeprefix(f"{PREFIX}."), []).append((tags, value))
    assert set(seen) == set(metrics.NAMES), sorted(seen)

    def total(name: str, **tags: str) -> float:
        return sum(value for found, value in seen[name] if all(found.get(k) == v for k, v in tags.items()))

    v1, h3 = {"vendor": "minimax", "api": "v1"}, {"vendor": "minimax", "api": "v2"}
    assert total(metrics.SUBMITS, model="MiniMax-Hailuo-2.3", **v1) == 1
    assert total(metrics.SUBMITS, model="MiniMax-H3", **h3) == 3  # h3, then h3_queued and its retry
    assert total(metrics.STATUS_QUERIES, **v1) >= 2  # the check before deferring, then the trigger's polls
    assert total(metrics.RATE_LIMITED, vendor="minimax", endpoint="status") == 1
    assert total(metrics.RETRIES, vendor="minimax", endpoint="status", error="HailuoRateLimitError") == 1
    assert total(metrics.CANCELS, **h3) == 2  # each timed-out try cancels its queued task (not charged)
    assert total(metrics.FAILURES, model="MiniMax-H3", error="HailuoTimeoutError", **h3) == 2
    assert total(metrics.RECONNECTS, model="MiniMax-H3", **h3) == 1  # the retry looked its task up first
    assert total(metrics.VIDEOS, **v1) == 1 and total(metrics.VIDEOS, **h3) == 1
    assert total(metrics.VIDEO_SECONDS, model="MiniMax-Hailuo-2.3", **v1) == 6
    assert total(metrics.VIDEO_SECONDS, model="MiniMax-H3", **h3) == 5
    assert total(metrics.COST, model="MiniMax-Hailuo-2.3", unit="credits", **v1) == 1.0  # seed 002
    assert total(metrics.COST, model="MiniMax-H3", unit="CNY", **h3) == pytest.approx(2.5)  # 5 s at 0.50 CNY
    assert total(metrics.API_ERRORS, vendor="minimax", endpoint="status") == 1  # the connection test's probe
    allowed_tags = {"vendor", "api", "model", "endpoint", "error", "state", "unit"}
    assert all(set(tags) <= allowed_tags for _, tags, _ in ours)
    assert not any(EMULATOR_API_KEY in line or emulator.url in line for line in listener.lines)
