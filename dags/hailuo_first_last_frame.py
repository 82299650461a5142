"""First+last frame: a clip that starts on one image and ends on another (``MiniMax-Hailuo-02``).

Both images come from object storage: the run's ``first_frame`` and ``last_frame`` params (any
URI the generate operator reads), or, left empty, the bundled samples ``harbour_dawn.jpg`` and
``harbour_noon.jpg`` uploaded to ``<media base>/inputs/`` first. Give two images of the same
aspect ratio: the clip takes the first frame's. The video goes to
``<media base>/first_last_frame/<run time>.mp4``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task
from hailuo_common import (
    CONN_ID,
    DEFAULT_ARGS,
    GENERATE_DEFAULTS,
    join_uri,
    media_base,
    media_base_param,
    require_object,
    run_stamp,
    stage_sample_image,
)

from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
from airflow_provider_hailuo.transfers.object_storage import HailuoToObjectStorageOperator

SAMPLE_FIRST, SAMPLE_LAST = "harbour_dawn.jpg", "harbour_noon.jpg"


@dag(
    dag_id="hailuo_first_last_frame",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["hailuo", "example", "first-last-frame"],
    doc_md=__doc__,
    params={
        "first_frame": Param(None, type=["null", "string"], description="First frame URI; empty: bundled sample."),
        "last_frame": Param(None, type=["null", "string"], description="Last frame URI; empty: bundled sample."),
        "prompt": Param("Time-lapse of a harbour from dawn to noon: the sun climbs, the sky turns blue.",
                        type="string", maxLength=2000),
        "media_base": media_base_param(),
    },
)
def hailuo_first_last_frame() -> None:
    @task(multiple_outputs=True)
    def prepare_inputs() -> dict[str, str]:
        context = get_current_context()
        params = context["params"]
        base = media_base(params.get("media_base"))
        frames = {}
        for param, sample in (("first_frame", SAMPLE_FIRST), ("last_frame", SAMPLE_LAST)):
            if params.get(param):
                frames[param] = require_object(params[param])
            else:
                frames[param] = stage_sample_image(sample, join_uri(base, "inputs", sample))
        return {**frames, "dest": join_uri(base, "first_last_frame", f"{run_stamp(context)}.mp4")}

    inputs = prepare_inputs()
    video = HailuoGenerateVideoOperator(
        task_id="generate_video",
        hailuo_conn_id=CONN_ID,
        model="MiniMax-Hailuo-02",  # the model that takes a first and a last frame
        prompt="{{ params.prompt }}",
        first_frame_image=inputs["first_frame"],
        last_frame_image=inputs["last_frame"],
        duration=6,
        resolution="768P",
        **GENERATE_DEFAULTS,
    )
    HailuoToObjectStorageOperator(
        task_id="store_video",
        hailuo_conn_id=CONN_ID,
        video=video.output,
        dest=inputs["dest"],
    )


hailuo_first_last_frame()
