"""What the benchmarks share: the emulator as a subprocess, its control API, an isolated Airflow
home, machine facts and table printing.

The emulator runs in its own process (``python -m airflow_provider_hailuo.emulator``, the
``hailuo-emulator`` console script) so its CPU time is never counted against the client measured.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
API_KEY = "sk-benchmark-key"
MODEL = "MiniMax-Hailuo-2.3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated_airflow_env(level: str = "WARNING") -> dict[str, str]:
    """Environment for a throw-away Airflow home (no ~/airflow, no example DAGs)."""
    home = Path(tempfile.mkdtemp(prefix="hailuo-bench-home-"))
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": level,
    }


def conn_env(conn_id: str, base_url: str, vendor: str = "minimax") -> dict[str, str]:
    """``AIRFLOW_CONN_<ID>`` for a Hailuo connection to the emulator (how Airflow reads env connections)."""
    return {
        f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(
            {"conn_type": f"hailuo_{vendor}", "host": base_url, "password": API_KEY}
        )
    }


class Emulator:
    """``hailuo-emulator`` in a subprocess, with its control endpoints as methods."""

    def __init__(self, generation_seconds: float = 20.0, config: dict[str, Any] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "airflow_provider_hailuo.emulator", "--port", str(self.port),
                   "--api-key", API_KEY, "--generation-seconds", str(generation_seconds), "--quiet"]
        if config:
            command += ["--config", json.dumps(config)]
        self.process = subprocess.Popen(command, cwd=str(REPO), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        self.session = requests.Session()
        self.session.headers["Authorization"] = API_KEY
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise SystemExit(f"the emulator exited with status {self.process.returncode}: {err[-2000:]}")
            try:
                if self.session.get(f"{self.url}/_emulator/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("the emulator did not start within 60 s")
            time.sleep(0.1)

    def base_url(self, vendor: str = "minimax") -> str:
        return f"{self.url}/{vendor}"

    def configure(self, **options: Any) -> dict[str, Any]:
        response = self.session.post(f"{self.url}/_emulator/config", json=options, timeout=30)
        response.raise_for_status()
        return dict(response.json())

    def reset(self) -> None:
        self.session.post(f"{self.url}/_emulator/reset", timeout=30).raise_for_status()

    def requests(self, endpoint: str | None = None, vendor: str | None = None) -> list[dict[str, Any]]:
        params = {key: value for key, value in (("endpoint", endpoint), ("vendor", vendor)) if value}
        response = self.session.get(f"{self.url}/_emulator/requests", params=params, timeout=120)
        response.raise_for_status()
        body = response.json()
        return list(body["requests"] if isinstance(body, dict) else body)

    def tasks(self, vendor: str | None = None) -> list[dict[str, Any]]:
        response = self.session.get(f"{self.url}/_emulator/tasks", params={"vendor": vendor} if vendor else None,
                                    timeout=60)
        response.raise_for_status()
        body = response.json()
        return list(body["tasks"] if isinstance(body, dict) else body)

    def submit(self, session: requests.Session | None = None, vendor: str = "minimax") -> str:
        """One MiniMax text-to-video submit, straight over HTTP (setup, not measured)."""
        response = (session or self.session).post(
            f"{self.base_url(vendor)}/v1/video_generation", json={"model": MODEL, "prompt": "benchmark"},
            headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        if body.get("base_resp", {}).get("status_code") != 0:
            raise SystemExit(f"setup submit refused: {body}")
        return str(body["task_id"])

    def cpu_seconds(self) -> float:
        """User + system CPU time of the emulator process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.session.close()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def machine() -> str:
    """CPU model, core count, load averages, Python: the line every benchmark prints and the README quotes."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"{model}, {os.cpu_count()} cores, load average {load}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain fixed-width table (pastes into Markdown as a code block)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        lines.append("  ".join(cell.rjust(widths[i]) if i else cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def verdict(failures: Sequence[str]) -> int:
    """Print the closing PASS or FAIL line of a benchmark; its exit status (1 when a target is missed)."""
    print()
    if failures:
        print("FAIL: " + "; ".join(failures))
        return 1
    print("PASS")
    return 0
