"""Rate limits: 50 mapped generate tasks submit at once against a 5-submits-per-10-s limit.

    .venv/bin/python benchmarks/rate_limits.py [--tasks 50] [--submits 5] [--window 10]
                                               [--max-backoff SECONDS]

The emulator runs in its own process with ``rate_limit={"submits": 5, "window_seconds": 10}``
(a sliding window; refused submits answer ``base_resp`` 1002 and do not count). Fifty threads,
released together by a barrier, each do what a mapped ``HailuoGenerateVideoOperator`` task does
to submit, as separate worker processes would: look the connection up and build its own hook
(``get_hook``: its own ``requests`` session), build and check the ``VideoRequest``, and call
``hook.submit``, which waits out 1002 answers with the transport's ``RetryPolicy`` (rate-limit
backoff with jitter, a time budget). Nothing else is shared.

Reported against the limit's floor: the issue's ``tasks / submits x window`` (50/5 x 10 s =
100 s), and the true floor, one window less (the first 5 go at t=0: 90 s). Also the number of 1002
answers (what the waiting costs the vendor), and why time is lost: for every admitted submit
after the first window, how long after a slot freed up it came (a slot frees ``window`` seconds
after the submit that used it), from the emulator's own request log.

Targets (issue 7), exit status 1 when missed: all tasks submitted, no exception out of
``hook.submit``; time to all submitted within 1.25x of the issue's floor (100 s -> 125 s).
``--max-backoff`` overrides ``RetryPolicy.rate_limit_max_backoff`` to compare policies.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import MODEL, Emulator, conn_env, isolated_airflow_env, machine, table, verdict  # noqa: E402

CONN_ID = "hailuo_bench"
MAX_RATIO = 1.25


class _CountRetries(logging.Handler):
    """Counts the transport's 'retrying in ...' warnings instead of printing them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def submit_all(tasks: int, max_backoff: float | None) -> dict[str, Any]:
    from airflow_provider_hailuo.core import VideoRequest
    from airflow_provider_hailuo.hooks import get_hook
    from airflow_provider_hailuo.transport.policy import DEFAULT_POLICY

    policy = replace(DEFAULT_POLICY, rate_limit_max_backoff=max_backoff) if max_backoff is not None else None
    barrier = threading.Barrier(tasks + 1)
    outcomes: list[dict[str, Any]] = [{} for _ in range(tasks)]

    def mapped_task(index: int) -> None:
        barrier.wait()
        started = time.time()
        try:
            hook = get_hook(CONN_ID, retry_policy=policy) if policy else get_hook(CONN_ID)
            request = VideoRequest.build(model=MODEL, prompt=f"rate limit benchmark, map index {index}")
            hook.check_request(request)
            task_id = hook.submit(request)
            outcomes[index] = {"task_id": task_id, "started": started, "done": time.time()}
        except Exception as exc:  # what would surface to Airflow as a failed try
            outcomes[index] = {"error": f"{type(exc).__name__}: {exc}", "started": started, "done": time.time()}

    threads = [threading.Thread(target=mapped_task, args=(index,), daemon=True) for index in range(tasks)]
    for thread in threads:
        thread.start()
    barrier.wait()
    t0 = time.time()
    for thread in threads:
        thread.join(timeout=900)
    return {"t0": t0, "outcomes": outcomes,
            "policy": policy or DEFAULT_POLICY}


def slot_delays(admitted: list[float], submits: int, window: float) -> list[float]:
    """For each admitted submit after the first ``submits``: seconds between the slot freeing and its use."""
    return [max(0.0, admitted[k] - (admitted[k - submits] + window)) for k in range(submits, len(admitted))]


def one_round(args: argparse.Namespace, emulator: Emulator, counter: _CountRetries) -> dict[str, Any]:
    """One burst of ``--tasks`` submits against a fresh limiter; its figures."""
    emulator.reset()
    retries_before = counter.count
    run = submit_all(args.tasks, args.max_backoff)
    log = emulator.requests(endpoint="submit", vendor="minimax")
    outcomes = run["outcomes"]
    submitted = [o for o in outcomes if "task_id" in o]
    t0 = run["t0"]
    admitted = sorted(entry["time"] for entry in log if entry.get("task_id"))
    tail = admitted[-1] - (admitted[-1 - args.submits] + args.window) if len(admitted) > args.submits else 0.0
    return {"errors": [o["error"] for o in outcomes if "error" in o], "submitted": len(submitted),
            "elapsed": max((o["done"] for o in submitted), default=t0) - t0,
            "refused": sum(1 for entry in log if not entry.get("task_id")),
            "delays": slot_delays(admitted, args.submits, args.window), "tail": tail, "policy": run["policy"],
            "retries": counter.count - retries_before}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--submits", type=int, default=5, help="submits allowed per window (5)")
    parser.add_argument("--window", type=float, default=10.0, help="window, seconds (10)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median round's time is judged (3)")
    parser.add_argument("--max-backoff", type=float, default=None,
                        help="override RetryPolicy.rate_limit_max_backoff (default: the package's default)")
    args = parser.parse_args(argv)

    rounds: list[dict[str, Any]] = []
    with Emulator(generation_seconds=60.0,
                  config={"rate_limit": {"submits": args.submits, "window_seconds": args.window}}) as emulator:
        os.environ.update(isolated_airflow_env("WARNING"))
        os.environ.update(conn_env(CONN_ID, emulator.base_url()))
        counter = _CountRetries()
        policy_log = logging.getLogger("airflow_provider_hailuo.transport.policy")
        policy_log.addHandler(counter)
        policy_log.propagate = False
        # Warm the imports (as a worker has them loaded before execute) without touching the limiter.
        from airflow_provider_hailuo.core import VideoRequest  # noqa: F401
        from airflow_provider_hailuo.hooks import get_hook

        get_hook(CONN_ID).settings  # noqa: B018
        for number in range(max(1, args.repeat)):
            if number:
                time.sleep(args.window)  # the last round's submits out of the sliding window
            rounds.append(one_round(args, emulator, counter))
            print(f"  round {number + 1}: {rounds[-1]['elapsed']:.1f} s", file=sys.stderr, flush=True)

    issue_floor = args.tasks / args.submits * args.window
    true_floor = (-(-args.tasks // args.submits) - 1) * args.window
    policy = rounds[0]["policy"]
    label = (f"RetryPolicy rate-limit backoff {policy.rate_limit_initial_backoff:g}-"
             f"{policy.rate_limit_max_backoff:g} s (jitter [c/2, c]), budget {policy.rate_limit_budget:g} s")
    rows = [
        ["floor (issue): tasks / submits x window", "-", "-", f"{issue_floor:.1f}", "1.00x", "-", "-", "-", "-"],
        ["true floor: first window at t=0", "-", "-", f"{true_floor:.1f}", f"{true_floor / issue_floor:.2f}x",
         "-", "-", "-", "-"],
    ]
    for number, one in enumerate(rounds):
        delays = one["delays"]
        rows.append([f"round {number + 1}: {label}", f"{one['submitted']}/{args.tasks}", len(one["errors"]),
                     f"{one['elapsed']:.1f}", f"{one['elapsed'] / issue_floor:.2f}x",
                     f"{one['elapsed'] / true_floor:.2f}x" if true_floor else "-", one["refused"],
                     f"{statistics.mean(delays):.1f} / {max(delays):.1f}" if delays else "-", f"{one['tail']:.1f}"])
    elapsed_all = [one["elapsed"] for one in rounds]
    elapsed = statistics.median(elapsed_all)
    print(f"rate limits: {args.tasks} mapped submits at once (threads, one hook each), emulator limit "
          f"{args.submits} submits per {args.window:g} s (sliding window); {len(rounds)} rounds, the median judged")
    print(f"machine: {machine()}")
    print()
    print(table(["submitter", "submitted", "errors", "all in, s", "vs floor", "vs true floor", "1002 answers",
                 "slot idle mean / max, s", "last slot idle, s"], rows))
    refused = statistics.median(one["refused"] for one in rounds)
    print(f"\nall in, s: min / median / max {min(elapsed_all):.1f} / {elapsed:.1f} / {max(elapsed_all):.1f}; "
          f"1002 answers per task (median round): {refused / max(1, args.tasks):.1f}; retry warnings logged: "
          f"{sum(one['retries'] for one in rounds)}")
    errors = [error for one in rounds for error in one["errors"]]
    failures = []
    if errors or any(one["submitted"] != args.tasks for one in rounds):
        failures.append(f"{len(errors)} submits raised: {json.dumps(errors[:3])}")
    if elapsed > MAX_RATIO * issue_floor:
        failures.append(f"all submitted after {elapsed:.1f} s (median), over {MAX_RATIO}x the floor "
                        f"({MAX_RATIO * issue_floor:.0f} s)")
    print(f"target: all {args.tasks} submitted in every round, none raised -> {'pass' if not errors else 'FAIL'}")
    print(f"target: all in within {MAX_RATIO}x {issue_floor:.0f} s = {MAX_RATIO * issue_floor:.0f} s (median): "
          f"{elapsed:.1f} s -> {'pass' if elapsed <= MAX_RATIO * issue_floor else 'FAIL'}")
    print(f"load average at the end: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    return verdict(failures)


if __name__ == "__main__":
    sys.exit(main())
