"""Daily content: one Hailuo video per prompt of the day, stored under a dated prefix, plus a manifest.

**Prompts**, first found wins:

1. the run's ``prompts`` param (trigger with config ``{"prompts": ["...", {"slug": "...", "prompt": "..."}]}``);
2. the Airflow Variable ``hailuo_daily_prompts`` (same JSON as the file below);
3. ``hailuo_prompts/daily_prompts.json`` beside this file (or ``daily_prompts.csv`` with columns
   ``slug,prompt[,model,duration,resolution]``).

A prompt is a string or an object ``{"prompt", "slug"?, "model"?, "duration"?, "resolution"?}``;
the file may also set ``model``, ``duration`` and ``resolution`` for all its prompts.

**Where things go**: ``<media base>/daily/<YYYY-MM-DD>/<NN>-<slug>.mp4`` (each with its ``.json``
sidecar and ``.jpg`` poster) and ``<media base>/daily/<YYYY-MM-DD>/manifest.json``, with
``index.html`` beside it: the day's review page, one card per prompt playing its video. The media base is the
``media_base`` param, else the Variable ``hailuo_media_base`` (e.g. ``s3://aws_default@my-bucket/hailuo``),
else local storage under ``$AIRFLOW_HOME/hailuo_media``. A rerun of a day replaces that day's
videos and manifest (``overwrite=True``): the dated prefix holds the day's current content, and
the manifest (not a directory listing) says what it is, since a video of a prompt dropped from a
rerun stays behind.

**Spend**: the ``prompt_limit`` param (default 50) refuses a longer list, and with ``max_cost`` set
the plan step sums the estimates of the whole run and refuses it, before any submit, when it is
over (naming the most expensive prompts). The manifest lists each video's estimated and billed
cost, and their ``totals``.

**Vendor**: the ``hailuo_conn_id`` param, else the Variable ``hailuo_conn_id``, else
``hailuo_minimax_default``. Generations run in the ``hailuo_vendor`` pool, which bounds how many
are in flight at the vendor (create it with ``airflow pools set hailuo_vendor 3 "..." --include-deferred``).
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from typing import Any

import pendulum
from airflow.sdk import AssetAlias, Param, dag, get_current_context, task
from hailuo_common import (
    DEFAULT_ARGS,
    GENERATE_DEFAULTS,
    PROMPTS_DIR,
    conn_id_for_run,
    join_uri,
    media_base,
    media_base_param,
    run_day,
    slugify,
    write_json,
    write_text,
)
from hailuo_common.review_page import review_page_html
from hailuo_common.spend import budget_params, check_prompt_count, check_run_budget, cost_columns, manifest_totals

from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
from airflow_provider_hailuo.transfers.object_storage import HAILUO_VIDEOS_ALIAS, HailuoToObjectStorageOperator

DAG_ID = "hailuo_daily_content"
PROMPTS_VARIABLE = "hailuo_daily_prompts"
DEFAULT_MODEL = "MiniMax-Hailuo-2.3"


def _read_prompt_file() -> Any:
    """The prompts shipped beside the DAG: JSON first, CSV otherwise (read at run time, not parse time)."""
    json_file = PROMPTS_DIR / "daily_prompts.json"
    if json_file.is_file():
        return json.loads(json_file.read_text(encoding="utf-8"))
    csv_file = PROMPTS_DIR / "daily_prompts.csv"
    if csv_file.is_file():
        with csv_file.open(newline="", encoding="utf-8") as handle:
            return [{key: value for key, value in row.items() if value not in (None, "")}
                    for row in csv.DictReader(handle)]
    raise FileNotFoundError(f"no daily_prompts.json or daily_prompts.csv in {PROMPTS_DIR}")


def _normalise(source: Any, origin: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(prompt entries, defaults) from a list or a ``{"prompts": [...], "model": ...}`` document."""
    if isinstance(source, str):
        source = json.loads(source)
    defaults: dict[str, Any] = {}
    if isinstance(source, dict):
        defaults = {key: source[key] for key in ("model", "duration", "resolution") if source.get(key) is not None}
        source = source.get("prompts")
    if not isinstance(source, list) or not source:
        raise ValueError(f"{origin}: expected a non-empty list of prompts, got {type(source).__name__}")
    entries = []
    for position, item in enumerate(source, start=1):
        entry = {"prompt": item} if isinstance(item, str) else dict(item) if isinstance(item, dict) else None
        if entry is None or not isinstance(entry.get("prompt"), str) or not entry["prompt"].strip():
            raise ValueError(f"{origin}: prompt #{position} has no text: {item!r}")
        entries.append(entry)
    return entries, defaults


def _as_list(values: Any) -> list[Any]:
    return [values[position] for position in range(len(values))]


def _generate_kwargs(item: dict[str, Any]) -> dict[str, Any]:
    return {key: item[key] for key in ("hailuo_conn_id", "prompt", "model", "duration", "resolution")}


def _store_kwargs(pair: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    video, item = pair
    return {"hailuo_conn_id": item["hailuo_conn_id"], "video": video, "dest": item["dest"]}


@dag(
    dag_id=DAG_ID,
    schedule="@daily",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["hailuo", "example", "text-to-video"],
    doc_md=__doc__,
    params={
        "prompts": Param(None, type=["null", "array"],
                         description="Prompts for this run (strings or objects); empty: Variable, then file."),
        "hailuo_conn_id": Param(None, type=["null", "string"],
                                description="Hailuo connection; empty: Variable hailuo_conn_id, then "
                                            "hailuo_minimax_default."),
        "model": Param(None, type=["null", "string"],
                       description=f"Model for prompts that name none; empty: the file's, else {DEFAULT_MODEL}."),
        "max_prompts": Param(None, type=["null", "integer"], minimum=1,
                             description="Generate only the first N prompts (caps the day's spend)."),
        "media_base": media_base_param(),
        **budget_params("prompts"),
    },
)
def hailuo_daily_content() -> None:
    @task
    def plan_videos() -> list[dict[str, Any]]:
        """Resolve the day's prompts, connection, model and destinations: one entry per video."""
        context = get_current_context()
        params = context["params"]
        if params.get("prompts"):
            entries, defaults = _normalise(params["prompts"], "param prompts")
        else:
            from airflow.sdk import Variable

            configured = Variable.get(PROMPTS_VARIABLE, default=None)
            if configured:
                entries, defaults = _normalise(configured, f"Variable {PROMPTS_VARIABLE}")
            else:
                entries, defaults = _normalise(_read_prompt_file(), str(PROMPTS_DIR))
        if params.get("max_prompts"):
            entries = entries[: int(params["max_prompts"])]
        check_prompt_count(len(entries), params, "prompts")  # a guard against a runaway list
        conn_id = conn_id_for_run(params.get("hailuo_conn_id"))
        prefix = join_uri(media_base(params.get("media_base")), "daily", run_day(context))
        plan = []
        for index, entry in enumerate(entries):
            slug = slugify(entry.get("slug") or entry["prompt"])
            name = f"{index + 1:02d}-{slug}"  # the position keeps names unique and in prompt order
            plan.append({
                "index": index,
                "slug": slug,
                "prompt": entry["prompt"].strip(),
                "model": entry.get("model") or params.get("model") or defaults.get("model") or DEFAULT_MODEL,
                "duration": int(entry.get("duration") or defaults.get("duration") or 6),
                "resolution": entry.get("resolution") or defaults.get("resolution"),
                "hailuo_conn_id": conn_id,
                "dest": join_uri(prefix, f"{name}.mp4"),
            })
        # The run's budget: every estimate summed, refused before any generate task submits.
        check_run_budget(plan, params, label_key="slug",
                         request_keys=("hailuo_conn_id", "prompt", "model", "duration", "resolution"))
        print(f"{len(plan)} video(s) for {run_day(context)} through connection {conn_id!r} into {prefix}/")
        return plan

    plan = plan_videos()

    # One generate task per prompt (dynamic task mapping), in the vendor pool.
    videos = HailuoGenerateVideoOperator.partial(
        task_id="generate_video", **GENERATE_DEFAULTS,
    ).expand_kwargs(plan.map(_generate_kwargs))

    # One transfer per video, paired with its plan entry (same map index) for the destination.
    stored = HailuoToObjectStorageOperator.partial(
        task_id="store_video",
        overwrite=True,
        # Declared here too: a mapped operator's outlets come from partial(), and the alias is what
        # DAGs scheduled on the videos (hailuo_video_catalog) listen to.
        outlets=[AssetAlias(HAILUO_VIDEOS_ALIAS)],
    ).expand_kwargs(videos.output.zip(plan).map(_store_kwargs))

    @task
    def write_manifest(plan: list[dict[str, Any]], videos: list[dict[str, Any]],
                       stored: list[dict[str, Any]]) -> dict[str, Any]:
        """List every prompt with its stored URI, size, sha256 and vendor task id, next to the videos."""
        context = get_current_context()
        # Index, do not iterate: iterating a mapped task's lazy XCom sequence probes one past its end.
        plan, videos, stored = _as_list(plan), _as_list(videos), _as_list(stored)
        if not (len(plan) == len(videos) == len(stored)):
            raise ValueError(f"{len(plan)} prompts but {len(videos)} videos and {len(stored)} stored files")
        entries = []
        for item, video, saved in zip(plan, videos, stored, strict=True):
            if video["video_task_id"] != saved["video_task_id"]:
                raise ValueError(f"prompt #{item['index']}: generated {video['video_task_id']} "
                                 f"but stored {saved['video_task_id']}")
            entries.append({
                "index": item["index"],
                "slug": item["slug"],
                "prompt": item["prompt"],
                "model": video["model"],
                "vendor": video["vendor"],
                "api": video.get("api"),
                "mode": video.get("mode"),
                "video_task_id": video["video_task_id"],
                "uri": saved["uri"],
                "size": saved["size"],
                "sha256": saved["sha256"],
                "content_type": saved["content_type"],
                "width": video.get("video_width"),
                "height": video.get("video_height"),
                "duration": video.get("duration"),
                "resolution": video.get("resolution"),
                "poster_uri": saved.get("poster_uri"),
                "has_audio": saved.get("has_audio"),
                "ratio": video.get("ratio"),
                **cost_columns(video),
            })
        day = run_day(context)
        # Beside the videos, in the prefix the plan chose (a Variable changed mid-run cannot split them).
        manifest_uri = join_uri(plan[0]["dest"].rsplit("/", 1)[0], "manifest.json")
        manifest = {
            "dag_id": DAG_ID,
            "run_id": context["run_id"],
            "day": day,
            "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "count": len(entries),
            "totals": manifest_totals(entries),  # by unit; equal to the sums of the entries' costs
            "videos": entries,
        }
        write_json(manifest_uri, manifest)
        page_uri = write_text(join_uri(manifest_uri.rsplit("/", 1)[0], "index.html"), review_page_html(manifest))
        print(f"Manifest of {len(entries)} video(s): {manifest_uri}")
        print(f"Review page: {page_uri}")
        return {"manifest": manifest_uri, "review_page": page_uri, "count": len(entries),
                "videos": [entry["uri"] for entry in entries]}

    write_manifest(plan, videos.output, stored.output)


hailuo_daily_content()
