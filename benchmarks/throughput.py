"""Throughput of the production topology against a vendor limit: videos per hour vs. the ceiling.

The stack is the distributed e2e harness (``tests/e2e/distributed_stack.py``: CeleryExecutor on
PostgreSQL and Redis, two triggerers, two Celery workers), the load the daily-content-style DAG of
``tests/e2e/distributed_load.py`` storing to ``s3://`` on a moto server, the emulator runs in its
own process with a vendor limit: ``rate_limit`` N submits per 60 s per vendor (excess submits
get 1002 / HTTP 429 and the provider backs off) and the ``hailuo_vendor`` pool's slots in flight.

Ceiling: ``min(submits per minute x 60, slots x 3600 / mean generation time)`` videos per hour.
Measured: the sustained rate, i.e. the slope of finished generations (vendor video ready and the
generate task done) between the 10th and the (N-10)th, from the REST API's TI end dates; the
batch's end-to-end figure (first submit to last stored video, the stores of this DAG shape all run
after the last generation) is printed beside it. Target: sustained >= 0.9x the ceiling.

    .venv/bin/python benchmarks/throughput.py [--videos 120] [--rpm 20] [--slots 40]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import Emulator, machine, table, verdict  # noqa: E402
from tests.e2e.distributed_load import DAG_ID, DAG_SOURCE, POOL, VENDOR_CONNS, build_plan  # noqa: E402
from tests.e2e.distributed_stack import DistributedAirflowStack, missing_requirements  # noqa: E402
from tests.integration.transfer_helpers import MotoS3  # noqa: E402

TARGET = 0.9
GENERATION = [20.0, 90.0]


def _time(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=120)
    parser.add_argument("--rpm", type=int, default=20, help="vendor limit: submits per minute (per vendor)")
    parser.add_argument("--slots", type=int, default=40, help="hailuo_vendor pool slots (videos in flight)")
    parser.add_argument("--vendors", default="minimax", help="comma list; the limit applies per vendor")
    args = parser.parse_args()
    missing = missing_requirements()
    if missing:
        raise SystemExit("; ".join(missing))
    vendors = args.vendors.split(",")
    root = Path(tempfile.mkdtemp(prefix="hailuo-bench-throughput-"))
    (root / "dags").mkdir()
    (root / "dags" / f"{DAG_ID}.py").write_text(DAG_SOURCE)
    emulator = Emulator(config={"generation_seconds": GENERATION,
                                "rate_limit": {"submits": args.rpm, "window_seconds": 60}})
    moto = MotoS3.start()
    from benchmarks._harness import API_KEY
    from tests.conftest import conn_env

    env = {}
    for vendor, (conn_id, conn_type, extra) in VENDOR_CONNS.items():
        name, value = conn_env(conn_id, conn_type, emulator.base_url(vendor), password=API_KEY, extra=extra)
        env[name] = value
    env.update(HAILUO_POLL_INTERVAL="5", HAILUO_INITIAL_DELAY="15")
    stack = DistributedAirflowStack(home=root / "airflow", dags_folder=root / "dags", extra_env=env,
                                    extra_pythonpath=[str(Path(__file__).resolve().parent.parent / "dags")])
    try:
        stack.start(wait_for_dags=[DAG_ID])
        stack.api("POST", "/pools", json={"name": POOL, "slots": args.slots, "include_deferred": True})
        bucket = moto.new_bucket()
        plan = [dict(item, vendor=vendors[item["index"] % len(vendors)],
                     hailuo_conn_id=VENDOR_CONNS[vendors[item["index"] % len(vendors)]][0])
                for item in build_plan(args.videos, f"s3://{moto.conn_id}@{bucket}/bench", tag="throughput")]
        run_id = stack.trigger(DAG_ID, conf={"plan": plan}, watch=False)
        state = stack.wait_for_run(DAG_ID, run_id, timeout=args.videos * 60 / args.rpm * 3 + 900)
        tis = stack.task_instances(DAG_ID, run_id)
        tasks = emulator.tasks()
        submits = emulator.requests(endpoint="submit")
    finally:
        stack.stop()
        moto.stop()
        emulator.stop()

    generated = sorted(_time(t["end_date"]) for t in tis if t["task_id"] == "generate_video" and t["end_date"])
    stored = sorted(_time(t["end_date"]) for t in tis if t["task_id"] == "store_video" and t["end_date"])
    failed = [t for t in tis if t["state"] != "success"]
    accepted = [e for e in submits if e.get("task_id")]
    mean_generation = sum(t["generation_seconds"] for t in tasks) / max(1, len(tasks))
    limit_rpm = args.rpm * len(vendors)
    ceiling = min(limit_rpm * 60, args.slots * 3600 / mean_generation)
    edge = min(10, max(1, len(generated) // 5))
    window = generated[-edge - 1] - generated[edge] if len(generated) > 2 * edge + 1 else float("nan")
    sustained = (len(generated) - 2 * edge - 1) * 3600 / window
    first_submit = min(e["time"] for e in accepted) if accepted else float("nan")
    end_to_end = len(stored) * 3600 / (stored[-1] - first_submit) if stored else 0.0
    ratio = sustained / ceiling
    print(f"throughput of the distributed stack: {args.videos} videos, vendor limit {args.rpm} submits/min "
          f"per vendor x {len(vendors)} vendor(s), {args.slots} in flight; generation {GENERATION[0]:g}-"
          f"{GENERATION[1]:g} s (mean {mean_generation:.1f} s)")
    print(machine())
    print(table(["figure", "value"], [
        ("run state", state),
        ("videos stored", f"{len(stored)} / {args.videos}"),
        ("task instances not successful", len(failed)),
        ("submits accepted / refused (1002)", f"{len(accepted)} / {len(submits) - len(accepted)}"),
        ("ceiling (videos/h)", f"{ceiling:.0f}  (= min({limit_rpm} x 60, {args.slots} x 3600 / "
                               f"{mean_generation:.1f}))"),
        (f"sustained (videos/h, generations {edge + 1}..{len(generated) - edge})", f"{sustained:.0f}"),
        ("end to end (first submit -> last store)", f"{end_to_end:.0f} videos/h"),
        ("sustained / ceiling", f"{ratio:.2f}x (target >= {TARGET}x)"),
    ]))
    failures = []
    if state != "success" or failed or len(stored) != args.videos:
        failures.append(f"run {state}, {len(failed)} TIs not successful, {len(stored)} stored")
    if not ratio >= TARGET:
        failures.append(f"sustained {ratio:.2f}x of the ceiling < {TARGET}x")
    return verdict(failures)


if __name__ == "__main__":
    sys.exit(main())
