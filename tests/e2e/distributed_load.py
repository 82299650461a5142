"""A daily-content-style load for the distributed stack, and what it is checked and measured by.

Shared by ``test_distributed_load.py`` (200 prompts under faults) and ``benchmarks/throughput.py``
(sustained videos per hour at a vendor rate limit). The DAG is built like
``dags/hailuo_daily_content.py`` (plan -> mapped generate in the ``hailuo_vendor`` pool -> mapped
store, the example DAGs' shared defaults from ``hailuo_common``), except that each prompt names its
own connection (the load spans the three vendors) and the plan comes in the run's conf (the
example caps a day at 50 prompts and uses one connection per run).

Everything is read from outside: the REST API, the emulator's request log and task timeline, the
bucket, the component and task log files.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import EMULATOR_API_KEY, conn_env

DAG_ID = "hailuo_distributed_load"
POOL = "hailuo_vendor"  # hailuo_common.POOL, the pool every example generate task runs in
VENDOR_CONNS = {
    "minimax": ("hailuo_minimax_load", "hailuo_minimax", None),
    "dmxapi": ("hailuo_dmxapi_load", "hailuo_dmxapi", {"auth_scheme": "bearer"}),
    "modelverse": ("hailuo_modelverse_load", "hailuo_modelverse", None),
}
MODEL = "MiniMax-Hailuo-2.3"
#: The operator's log line when a retry finds the vendor task an earlier try submitted.
RECONNECT_MARKER = "from an earlier try is"
SUBMIT_MARKER = "Submitted to "

DAG_SOURCE = f'''
from datetime import timedelta

from airflow.sdk import AssetAlias, dag, get_current_context, task
from hailuo_common import DEFAULT_ARGS, GENERATE_DEFAULTS

from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
from airflow_provider_hailuo.transfers.object_storage import HAILUO_VIDEOS_ALIAS, HailuoToObjectStorageOperator


def _generate_kwargs(item):
    return {{key: item[key] for key in ("hailuo_conn_id", "prompt", "model", "duration")}}


def _store_kwargs(pair):
    video, item = pair
    return {{"hailuo_conn_id": item["hailuo_conn_id"], "video": video, "dest": item["dest"]}}


@dag(dag_id="{DAG_ID}", schedule=None, catchup=False, max_active_tasks=128,
     default_args={{**DEFAULT_ARGS, "retries": 4, "retry_delay": timedelta(seconds=10),
                   "retry_exponential_backoff": False}})
def hailuo_distributed_load():
    @task
    def plan_videos():
        return get_current_context()["dag_run"].conf["plan"]

    plan = plan_videos()
    videos = HailuoGenerateVideoOperator.partial(
        task_id="generate_video", **GENERATE_DEFAULTS,
    ).expand_kwargs(plan.map(_generate_kwargs))
    # The alias declared in partial(), as in the daily DAG: the DAG processor then registers it.
    # Without that, the first stores create it at run time and, on PostgreSQL, concurrent ones
    # collide on its unique name and Airflow fails them (UniqueViolation, not retried).
    HailuoToObjectStorageOperator.partial(
        task_id="store_video", overwrite=True, outlets=[AssetAlias(HAILUO_VIDEOS_ALIAS)],
    ).expand_kwargs(videos.output.zip(plan).map(_store_kwargs))


hailuo_distributed_load()
'''


def connection_env(emulator: Any, s3_conn_id: str | None = None) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` of the three vendor connections to the emulator."""
    env = {}
    for vendor, (conn_id, conn_type, extra) in VENDOR_CONNS.items():
        name, value = conn_env(conn_id, conn_type, emulator.base_url(vendor), extra=extra)
        env[name] = value
    return env


def build_plan(count: int, dest_base: str, tag: str = "load") -> list[dict[str, Any]]:
    """``count`` prompts, round-robin over the three vendors, each with its own s3:// destination."""
    vendors = list(VENDOR_CONNS)
    plan = []
    for index in range(count):
        vendor = vendors[index % len(vendors)]
        prompt = f"{tag} #{index:03d}: a heron lifts off a misty lake at dawn, take {index}"
        plan.append({"index": index, "vendor": vendor, "hailuo_conn_id": VENDOR_CONNS[vendor][0],
                     "prompt": prompt, "model": MODEL, "duration": 6,
                     "dest": f"{dest_base.rstrip('/')}/{index:03d}-{vendor}.mp4"})
    return plan


def submitted_prompt(entry: dict[str, Any]) -> str | None:
    body = entry.get("body") or {}
    if isinstance(body.get("input"), dict):  # Modelverse
        return body["input"].get("prompt")
    return body.get("prompt")


def max_in_flight(tasks: list[dict[str, Any]]) -> int:
    """Most vendor tasks between their submit and their end of generation at any moment."""
    events = sorted([(t["created_at"], 1) for t in tasks] + [(t["finished_at"], -1) for t in tasks],
                    key=lambda e: (e[0], e[1]))  # an end at the same instant as a start goes first
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def ideal_wall_seconds(generation_seconds: list[float], slots: int) -> float:
    """Makespan of the generation times alone, in prompt order, on ``slots`` slots (no overheads)."""
    free = [0.0] * slots
    for seconds in generation_seconds:
        earliest = min(range(slots), key=free.__getitem__)
        free[earliest] += seconds
    return max(free)


@dataclass
class LoadReport:
    """What the checks found, with the figures of the table."""

    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def table(self) -> str:
        width = max(len(k) for k in self.figures)
        return "\n".join(f"  {key.ljust(width)}  {value}" for key, value in self.figures.items())


def check_load(stack: Any, emulator: Any, s3: Any, bucket: str, run_id: str, plan: list[dict[str, Any]],
               pool_slots: int) -> LoadReport:
    """Every promise of the load, checked from outside; ``problems`` lists what does not hold."""
    report = LoadReport()
    problems = report.problems
    tis = stack.task_instances(DAG_ID, run_id)
    by_task: dict[str, list[dict[str, Any]]] = {}
    for ti in tis:
        by_task.setdefault(ti["task_id"], []).append(ti)
    for task_id in ("generate_video", "store_video"):
        mine = [t for t in by_task.get(task_id, []) if t["map_index"] >= 0]
        if len(mine) != len(plan):
            problems.append(f"{task_id}: {len(mine)} mapped instances for {len(plan)} prompts")
    not_ok = [f"{t['task_id']}[{t['map_index']}]={t['state']}" for t in tis if t["state"] != "success"]
    if not_ok:
        problems.append("task instances not successful: " + ", ".join(not_ok[:20]))

    # The vendor side: accepted submits (a task id came back) per prompt, and the task timeline.
    submits = emulator.requests(endpoint="submit")
    accepted = [e for e in submits if e.get("task_id")]
    per_prompt = Counter(submitted_prompt(e) for e in accepted)
    twice = {p: n for p, n in per_prompt.items() if n != 1}
    unknown = set(per_prompt) - {item["prompt"] for item in plan}
    never = [item["index"] for item in plan if per_prompt.get(item["prompt"], 0) == 0]
    if twice:
        problems.append(f"prompts submitted more than once: {twice}")
    if never or unknown:
        problems.append(f"prompts never submitted: {never}; unknown prompts submitted: {sorted(unknown)}")
    tasks = emulator.tasks()
    in_flight = max_in_flight(tasks)
    if in_flight > pool_slots:
        problems.append(f"the vendor saw {in_flight} tasks in flight, more than the pool's {pool_slots}")

    # The bucket: one complete MP4 per prompt, bytes = what the emulator sent; no staging leftovers.
    client = s3.client()
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]
    staging = [k for k in keys if k.rsplit("/", 1)[-1].startswith(".") and ".partial-" in k]
    if staging:
        problems.append(f"objects left at staging keys: {staging[:10]}")
    uploads = s3.open_uploads(bucket)
    if uploads:
        problems.append(f"multipart uploads left open: {uploads[:10]}")
    task_of_prompt = {submitted_prompt(e): str(e["task_id"]) for e in accepted}
    sent_sha = {}
    for entry in emulator.requests(endpoint="download") + emulator.requests(endpoint="retrieve_content"):
        if entry.get("complete") and entry.get("sha256"):
            sent_sha.setdefault(str(entry.get("task_id")), set()).add(entry["sha256"])
    videos = 0
    for item in plan:
        key = item["dest"].split("@", 1)[1].split("/", 1)[1]
        if key not in keys:
            problems.append(f"prompt {item['index']}: nothing stored at {key}")
            continue
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        digest = hashlib.sha256(body).hexdigest()
        expected = sent_sha.get(task_of_prompt.get(item["prompt"], "?"), set())
        if body[4:8] != b"ftyp":
            problems.append(f"prompt {item['index']}: {key} is not an MP4")
        elif digest not in expected:
            problems.append(f"prompt {item['index']}: {key} sha256 {digest[:12]} is not what the emulator "
                            f"sent ({sorted(s[:12] for s in expected)})")
        else:
            videos += 1
    extra_mp4 = [k for k in keys if k.endswith(".mp4") and k not in
                 {i["dest"].split("@", 1)[1].split("/", 1)[1] for i in plan}]
    if extra_mp4:
        problems.append(f"unexpected objects: {extra_mp4[:10]}")

    # Retries, and that each retry after a submit reconnected instead of submitting again.
    retries = reconnects = 0
    for ti in by_task.get("generate_video", []) + by_task.get("store_video", []):
        tries = int(ti["try_number"] or 1)
        retries += max(0, tries - 1)
        if ti["task_id"] != "generate_video" or tries < 2:
            continue
        submitted_before = False
        for attempt in range(1, tries + 1):
            log = stack.task_log(DAG_ID, run_id, "generate_video", ti["map_index"], try_number=attempt)
            if attempt > 1 and submitted_before:
                if RECONNECT_MARKER in log:
                    reconnects += 1
                else:
                    problems.append(f"generate_video[{ti['map_index']}] try {attempt} did not reconnect to the "
                                    "vendor task an earlier try submitted")
            submitted_before = submitted_before or SUBMIT_MARKER in log

    # The key: in no component log, no task log, no XCom.
    leaks = [name for name in stack.known_components if EMULATOR_API_KEY in stack.logs(name)]
    logs_root = stack.home / "logs"
    leaks += [str(p.relative_to(logs_root)) for p in logs_root.rglob("*") if p.is_file()
              and EMULATOR_API_KEY in p.read_text(errors="replace")]
    if leaks:
        problems.append(f"the API key is in: {leaks[:10]}")

    run = stack.dag_run(DAG_ID, run_id)
    wall = _seconds_between(run.get("start_date"), run.get("end_date"))
    ideal = ideal_wall_seconds([t["generation_seconds"] for t in sorted(tasks, key=lambda t: t["created_at"])],
                               pool_slots)
    rejected = len(submits) - len(accepted)
    storm = sum(1 for e in emulator.requests() if e.get("fault") == "base_resp")
    report.figures.update({
        "videos stored (sha256 = emulator's)": f"{videos} / {len(plan)}",
        "submits accepted (per prompt)": f"{len(accepted)} ({'exactly 1 each' if not twice else 'DUPLICATES'})",
        "submits refused (1002/429)": rejected,
        "1002/429 answers (submit + status)": storm,
        "retries (task tries after the first)": retries,
        "reconnects (retry found its vendor task)": reconnects,
        "max vendor tasks in flight": f"{in_flight} (pool {pool_slots})",
        "wall time (run start to end)": f"{wall:.0f} s",
        "ideal wall time (generation only)": f"{ideal:.0f} s ({wall / ideal:.2f}x)" if ideal else "-",
    })
    return report


def _seconds_between(start: str | None, end: str | None) -> float:
    from datetime import datetime

    if not start or not end:
        return float("nan")
    parse = lambda s: datetime.fromisoformat(re.sub(r"Z$", "+00:00", s))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def dumps(report: LoadReport) -> str:
    return json.dumps(report.figures, indent=2, default=str)
