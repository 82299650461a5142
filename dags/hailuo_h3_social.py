"""Daily social-media video with MiniMax-H3: one enhanced prompt, 9:16, 10 s, with sound.

1. ``enhance_prompt``: H3-Context-IR turns the day's idea into a shot list for a 10 s 9:16 clip;
2. ``generate_video``: MiniMax-H3 renders it (video API v2, 768P; H3 videos carry a stereo track);
3. ``store_video``: the MP4 goes to ``<media base>/h3/<YYYY-MM-DD>/social.mp4`` with its sidecar.

**Idea**: the ``idea`` param, else the file ``hailuo_prompts/h3_social_idea.txt`` beside this DAG.
**Connection**: a ``hailuo_minimax`` connection (H3 is MiniMax's own; DMXAPI and Modelverse
connections refuse it before sending): the ``hailuo_conn_id`` param, else the Variable, else
``hailuo_minimax_default``. The v2 tasks run in the ``hailuo_h3`` pool (26 slots: MiniMax allows 30
H3 tasks in flight per account; create it with ``airflow pools set hailuo_h3 26 "..." --include-deferred``).
A task killed or timed out while its H3 task is still queued cancels it at MiniMax: not charged.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import AssetAlias, Param, dag, get_current_context, task
from hailuo_common import (
    DEFAULT_ARGS,
    GENERATE_DEFAULTS,
    H3_POOL,
    PROMPTS_DIR,
    conn_id_for_run,
    join_uri,
    media_base,
    media_base_param,
    run_day,
)

from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
from airflow_provider_hailuo.operators.prompt import HailuoEnhancePromptOperator
from airflow_provider_hailuo.transfers.object_storage import HAILUO_VIDEOS_ALIAS, HailuoToObjectStorageOperator

DAG_ID = "hailuo_h3_social"
MODEL = "MiniMax-H3"
RATIO, DURATION, RESOLUTION = "9:16", 10, "768P"
H3_DEFAULTS = {**GENERATE_DEFAULTS, "pool": H3_POOL}


@dag(
    dag_id=DAG_ID,
    schedule="@daily",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["hailuo", "example", "minimax-h3", "social"],
    doc_md=__doc__,
    params={
        "idea": Param(None, type=["null", "string"], description="Today's idea; empty: h3_social_idea.txt."),
        "hailuo_conn_id": Param(None, type=["null", "string"],
                                description="A hailuo_minimax connection; empty: Variable hailuo_conn_id, then "
                                            "hailuo_minimax_default."),
        "media_base": media_base_param(),
    },
)
def hailuo_h3_social() -> None:
    @task
    def plan_video() -> dict[str, Any]:
        """Today's idea, connection and destination (read at run time, not at parse time)."""
        context = get_current_context()
        params = context["params"]
        idea = params.get("idea") or (PROMPTS_DIR / "h3_social_idea.txt").read_text(encoding="utf-8").strip()
        return {"idea": idea, "hailuo_conn_id": conn_id_for_run(params.get("hailuo_conn_id")),
                "dest": join_uri(media_base(params.get("media_base")), "h3", run_day(context), "social.mp4")}

    plan = plan_video()
    enhanced = HailuoEnhancePromptOperator(
        task_id="enhance_prompt", hailuo_conn_id="{{ ti.xcom_pull('plan_video')['hailuo_conn_id'] }}",
        prompt="{{ ti.xcom_pull('plan_video')['idea'] }}", duration=DURATION, ratio=RATIO, pool=H3_POOL,
        poll_interval=H3_DEFAULTS["poll_interval"], initial_delay=H3_DEFAULTS["initial_delay"],
    )
    video = HailuoGenerateVideoOperator(
        task_id="generate_video", hailuo_conn_id="{{ ti.xcom_pull('plan_video')['hailuo_conn_id'] }}", model=MODEL,
        prompt="{{ ti.xcom_pull('enhance_prompt')['prompt'] }}", ratio=RATIO, duration=DURATION,
        resolution=RESOLUTION, **H3_DEFAULTS,
    )
    stored = HailuoToObjectStorageOperator(
        task_id="store_video", hailuo_conn_id="{{ ti.xcom_pull('plan_video')['hailuo_conn_id'] }}",
        video=video.output, dest="{{ ti.xcom_pull('plan_video')['dest'] }}", overwrite=True,
        outlets=[AssetAlias(HAILUO_VIDEOS_ALIAS)],
    )
    plan >> enhanced >> video >> stored


hailuo_h3_social()
