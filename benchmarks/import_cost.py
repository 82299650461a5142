"""Import cost at DAG parse time: what importing the provider's DAG-facing modules adds.

Baseline: a fresh interpreter running ``import airflow.sdk``. Measured: the same plus the
operator, sensor and transfer modules. Median of repeated fresh interpreters (the first runs warm
the OS file cache and are discarded). Also lists heavy modules that must NOT be imported at parse
time (aiohttp, boto3, PIL, av, the emulator) and prints the top ``-X importtime`` entries.

Target (issue 7): adds under 50 ms; none of the heavy modules imported. Exits 1 when missed.

    .venv/bin/python benchmarks/import_cost.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROVIDER_MODULES = [
    "airflow_provider_hailuo.operators.generate",
    "airflow_provider_hailuo.sensors.video",
    "airflow_provider_hailuo.transfers.object_storage",
]
FORBIDDEN = ["aiohttp", "boto3", "botocore", "PIL", "av", "airflow_provider_hailuo.emulator"]
TARGET_MS = 50.0

PROBE = """
import json, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
for name in {modules!r}:
    __import__(name)
t2 = time.perf_counter()
print(json.dumps({{"sdk": t1 - t0, "provider": t2 - t1,
                   "loaded": [m for m in {forbidden!r} if m in sys.modules]}}))
"""


def run_once(modules: list[str]) -> dict:
    code = PROBE.format(modules=modules, forbidden=FORBIDDEN)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def importtime_top(n: int = 12) -> list[tuple[int, str]]:
    code = "import airflow.sdk\n" + "\n".join(f"import {m}" for m in PROVIDER_MODULES)
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                         check=True)
    rows = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative_us, name = (part.strip() for part in line[len("import time:"):].split("|", 2))
        if name.startswith("airflow_provider_hailuo"):
            rows.append((int(cumulative_us), name))
    return sorted(rows, reverse=True)[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    for _ in range(2):  # warm the file cache
        run_once(PROVIDER_MODULES)
    baseline = [run_once([])["sdk"] for _ in range(args.runs)]
    measured = [run_once(PROVIDER_MODULES) for _ in range(args.runs)]
    sdk_ms = statistics.median(baseline) * 1000
    added_ms = statistics.median(m["provider"] for m in measured) * 1000
    loaded = sorted({name for m in measured for name in m["loaded"]})

    print(f"{'what':<44}{'median ms':>12}")
    print(f"{'import airflow.sdk (baseline)':<44}{sdk_ms:>12.1f}")
    print(f"{'+ operator, sensor, transfer modules':<44}{added_ms:>12.1f}")
    print(f"{'ratio added / baseline':<44}{added_ms / sdk_ms:>12.3f}")
    print(f"{'target: added <':<44}{TARGET_MS:>12.1f}")
    print(f"heavy modules imported at parse time: {', '.join(loaded) if loaded else 'none'}")
    print("\nlargest provider imports (-X importtime, cumulative us):")
    for cumulative, name in importtime_top():
        print(f"  {cumulative:>8}  {name}")
    ok = added_ms < TARGET_MS and not loaded
    print("\nPASS" if ok else "\nFAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
