"""Memory benchmark: the emulator streams a 500 MB synthetic video without holding it.

Starts ``python -m airflow_provider_hailuo.emulator`` in a subprocess with
``synthetic_video_bytes`` = 500 MB, runs a MiniMax submit -> query -> files/retrieve cycle,
downloads the video with a streaming client and reads the emulator's memory from
``/proc/<pid>/status`` (VmRSS now, VmHWM = peak) before, during and after. Prints a table and
exits 1 when the emulator grew by 50 MB or more.

    .venv/bin/python benchmarks/emulator_memory.py [--bytes N] [--limit-mb 50] [--no-verify]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

API_KEY = "sk-emulator-benchmark"
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_kb(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


class Sampler(threading.Thread):
    """Polls VmRSS every few milliseconds to catch the peak while streaming."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak_kb = max(self.peak_kb, memory_kb(self.pid)["VmRSS"])
            self.samples += 1
            time.sleep(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=500_000_000, help="synthetic video size (default 500 MB)")
    parser.add_argument("--limit-mb", type=float, default=50.0, help="fail at this growth (default 50)")
    parser.add_argument("--no-verify", action="store_true", help="skip the sha256 comparison")
    parser.add_argument("--repeat", type=int, default=3, help="streams of the video; the peak is over all (3)")
    parser.add_argument(
        "--client-mib-per-s", type=float, default=0.0, help="throttle the client (0 = as fast as it can)"
    )
    args = parser.parse_args()

    if not Path("/proc/self/status").exists():
        print("this benchmark reads /proc/<pid>/status (Linux only)", file=sys.stderr)
        return 2
    port = free_port()
    config = json.dumps({"synthetic_video_bytes": args.bytes})
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_hailuo.emulator",
            "--port",
            str(port),
            "--api-key",
            API_KEY,
            "--generation-seconds",
            "0",
            "--quiet",
            "--config",
            config,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if "listening" not in line:
            print(f"emulator did not start: {line!r}", file=sys.stderr)
            return 2
        base = f"http://127.0.0.1:{port}/minimax"
        headers = {"Authorization": f"Bearer {API_KEY}"}
        task = requests.post(
            base + "/v1/video_generation",
            json={"model": "MiniMax-Hailuo-02", "prompt": "benchmark"},
            headers=headers,
            timeout=30,
        ).json()
        status = requests.get(
            base + "/v1/query/video_generation", params={"task_id": task["task_id"]}, headers=headers, timeout=30
        ).json()
        info = requests.get(
            base + "/v1/files/retrieve", params={"file_id": status["file_id"]}, headers=headers, timeout=30
        ).json()
        url = info["file"]["download_url"]
        time.sleep(0.2)
        before = memory_kb(process.pid)

        sampler = Sampler(process.pid)
        sampler.start()
        times: list[float] = []
        digests: set[str] = set()
        for _ in range(max(1, args.repeat)):  # the growth is the peak over every stream
            digest = hashlib.sha256()
            received = 0
            started = time.monotonic()
            with requests.get(url, stream=True, timeout=60) as response:
                response.raise_for_status()
                for chunk in response.iter_content(MB):
                    digest.update(chunk)
                    received += len(chunk)
                    if args.client_mib_per_s > 0:
                        time.sleep(len(chunk) / MB / args.client_mib_per_s)
            times.append(time.monotonic() - started)
            digests.add(digest.hexdigest())
        elapsed = statistics.median(times)
        sampler.stop()
        after = memory_kb(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()

    verified = "skipped"
    if not args.no_verify:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from airflow_provider_hailuo.emulator import synthetic_video_sha256

        verified = "ok" if digests == {synthetic_video_sha256(args.bytes)} else "MISMATCH"

    peak_kb = max(sampler.peak_kb, after["VmHWM"])
    growth_mb = (peak_kb - before["VmRSS"]) / 1024
    rows = [
        ("video size", f"{args.bytes / MB:,.1f} MiB ({received:,} bytes received)"),
        ("download time", f"{min(times):.2f} / {elapsed:.2f} / {max(times):.2f} s min / median / max of "
                          f"{len(times)} streams ({received / MB / elapsed:,.0f} MiB/s median)"),
        ("RSS before", f"{before['VmRSS'] / 1024:,.1f} MiB (VmHWM {before['VmHWM'] / 1024:,.1f} MiB)"),
        ("RSS after", f"{after['VmRSS'] / 1024:,.1f} MiB"),
        (
            "RSS peak",
            f"{peak_kb / 1024:,.1f} MiB (VmHWM {after['VmHWM'] / 1024:,.1f} MiB, "
            f"sampled {sampler.peak_kb / 1024:,.1f} MiB in {sampler.samples} samples)",
        ),
        ("growth (peak - before)", f"{growth_mb:,.1f} MiB over all streams (limit {args.limit_mb:g} MiB)"),
        ("sha256", f"{digest.hexdigest()[:16]}... {verified}"),
    ]
    width = max(len(name) for name, _ in rows)
    print("emulator memory while streaming a synthetic video")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    ok = received == args.bytes and verified != "MISMATCH" and growth_mb < args.limit_mb
    print(f"  load average at the end  {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
