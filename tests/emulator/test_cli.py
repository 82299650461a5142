"""The console script: starts, prints its URL, answers, stops on SIGINT / SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from airflow_provider_hailuo.emulator.server import is_loopback

pytestmark = pytest.mark.integration


def start(args: list[str], env_key: str | None = None) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ)
    env.pop("HAILUO_EMULATOR_API_KEY", None)
    if env_key:
        env["HAILUO_EMULATOR_API_KEY"] = env_key
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_hailuo.emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline() if process.stdout else ""))
    reader.start()
    reader.join(timeout=20)
    if not line or not line[0]:
        process.kill()
        raise AssertionError(f"no URL line; stderr: {process.communicate(timeout=5)[1]}")
    return process, line[0]


def stop(process: subprocess.Popen[str], signum: int) -> tuple[int, str]:
    process.send_signal(signum)
    try:
        _, stderr = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, stderr


def test_console_script_serves_until_sigint(free_port: int, emulator_video_cache: Path) -> None:
    process, line = start(
        ["--port", str(free_port), "--generation-seconds", "0", "--video-cache-dir", str(emulator_video_cache)]
    )
    try:
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match and int(match.group(1)) == free_port, line
        url = match.group(0)
        assert f"{url}/minimax" in line
        assert requests.get(url + "/_emulator/health", timeout=5).json() == {"status": "ok"}
        submitted = requests.post(
            url + "/minimax/v1/video_generation",
            json={"model": "MiniMax-Hailuo-02", "prompt": "cli"},
            headers={"Authorization": "Bearer sk-emulator"},  # the default key
            timeout=5,
        ).json()
        assert submitted["base_resp"]["status_code"] == 0
        status = requests.get(
            url + "/minimax/v1/query/video_generation",
            params={"task_id": submitted["task_id"]},
            headers={"Authorization": "Bearer sk-emulator"},
            timeout=5,
        ).json()
        assert status["status"] == "Success"
    finally:
        code, stderr = stop(process, signal.SIGINT)
    assert code == 0, stderr
    assert "Traceback" not in stderr


def test_key_from_environment_and_non_loopback_warning(free_port: int) -> None:
    process, line = start(["--host", "0.0.0.0", "--port", str(free_port), "--quiet"], env_key="sk-from-env")
    try:
        url = f"http://127.0.0.1:{free_port}"
        assert url in line
        ok = requests.get(url + "/_emulator/config", headers={"Authorization": "sk-from-env"}, timeout=5)
        assert ok.status_code == 200 and ok.json()["config"]["generation_seconds"] == 20
        assert (
            requests.get(url + "/_emulator/config", headers={"Authorization": "sk-emulator"}, timeout=5).status_code
            == 401
        )
    finally:
        code, stderr = stop(process, signal.SIGTERM)
    assert code == 0
    assert "WARNING" in stderr and "0.0.0.0" in stderr


def test_bad_options_exit_non_zero(free_port: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_hailuo.emulator", "--port", str(free_port), "--config", '{"nope": 1}'],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0 and "nope" in result.stderr


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.com")


def test_import_is_light_and_independent() -> None:
    """Importing the emulator pulls in neither Airflow, PyAV nor the provider's client code."""
    code = (
        "import sys, airflow_provider_hailuo.emulator as e; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'av') "
        "or (m.startswith('airflow_provider_hailuo.') and not m.startswith('airflow_provider_hailuo.emulator'))); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    package = Path(__file__).resolve().parents[2] / "airflow_provider_hailuo" / "emulator"
    for source in package.glob("*.py"):
        text = source.read_text()
        assert "from airflow_provider_hailuo" not in text.replace("from airflow_provider_hailuo.emulator", "")
        assert "import airflow" not in text and "from airflow " not in text and "from airflow." not in text
