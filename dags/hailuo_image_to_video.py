"""Image-to-video: animate a still image that lives in object storage.

The image is the run's ``image`` param: any URI the generate operator reads (``s3://``,
``gs://``, ``abfs://``, ``file://``, ``https://``). Left empty, the bundled sample
``hailuo_assets/harbour_dawn.jpg`` is uploaded to ``<media base>/inputs/`` first (once), so the
example runs as is. The video goes to ``<media base>/image_to_video/<run time>.mp4``.

The media base is the ``media_base`` param, else the Variable ``hailuo_media_base``, else local
storage under ``$AIRFLOW_HOME/hailuo_media``. The connection is ``$HAILUO_CONN_ID``, else
``hailuo_minimax_default``.
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

SAMPLE_IMAGE = "harbour_dawn.jpg"


@dag(
    dag_id="hailuo_image_to_video",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["hailuo", "example", "image-to-video"],
    doc_md=__doc__,
    params={
        "image": Param(None, type=["null", "string"], description="Image URI; empty: the bundled sample."),
        "prompt": Param("The sun rises slowly behind the hills, light spreads across the water, gulls fly past "
                        "the lighthouse.", type="string", maxLength=2000),
        "media_base": media_base_param(),
    },
)
def hailuo_image_to_video() -> None:
    @task(multiple_outputs=True)
    def prepare_inputs() -> dict[str, str]:
        """Where the image is (uploading the sample when none is given) and where the video goes."""
        context = get_current_context()
        params = context["params"]
        base = media_base(params.get("media_base"))
        if params.get("image"):
            image = require_object(params["image"])
        else:
            image = stage_sample_image(SAMPLE_IMAGE, join_uri(base, "inputs", SAMPLE_IMAGE))
        return {"image": image, "dest": join_uri(base, "image_to_video", f"{run_stamp(context)}.mp4")}

    inputs = prepare_inputs()
    video = HailuoGenerateVideoOperator(
        task_id="generate_video",
        hailuo_conn_id=CONN_ID,
        model="MiniMax-Hailuo-2.3-Fast",  # image-to-video only, the cheapest 768P clip
        prompt="{{ params.prompt }}",
        first_frame_image=inputs["image"],
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


hailuo_image_to_video()
