"""Subject reference: keep one character's face across a new scene (``S2V-01``).

The reference image comes from object storage: the run's ``subject_image`` param (any URI the
generate operator reads), or, left empty, the bundled drawing ``hailuo_assets/subject.jpg``
uploaded to ``<media base>/inputs/`` first. The emulator accepts the drawing; a real vendor wants
a photo of a real face. The video goes to ``<media base>/subject_reference/<run time>.mp4``.
"""

from __future__ import annotations

from typing import Any

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

SAMPLE_SUBJECT = "subject.jpg"


@dag(
    dag_id="hailuo_subject_reference",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["hailuo", "example", "subject-reference"],
    doc_md=__doc__,
    params={
        "subject_image": Param(None, type=["null", "string"],
                               description="Reference face URI; empty: the bundled drawing."),
        "prompt": Param("The character walks along a sunny beach, waves in the background, smiling at the camera.",
                        type="string", maxLength=2000),
        "media_base": media_base_param(),
    },
)
def hailuo_subject_reference() -> None:
    @task(multiple_outputs=True)
    def prepare_inputs() -> dict[str, Any]:
        context = get_current_context()
        params = context["params"]
        base = media_base(params.get("media_base"))
        if params.get("subject_image"):
            image = require_object(params["subject_image"])
        else:
            image = stage_sample_image(SAMPLE_SUBJECT, join_uri(base, "inputs", SAMPLE_SUBJECT))
        return {
            # The vendor's shape: one character, one image.
            "subject_reference": [{"type": "character", "image": [image]}],
            "dest": join_uri(base, "subject_reference", f"{run_stamp(context)}.mp4"),
        }

    inputs = prepare_inputs()
    video = HailuoGenerateVideoOperator(
        task_id="generate_video",
        hailuo_conn_id=CONN_ID,
        model="S2V-01",  # fixed output: 6 s, 720P; duration and resolution stay unset
        prompt="{{ params.prompt }}",
        subject_reference=inputs["subject_reference"],
        **GENERATE_DEFAULTS,
    )
    HailuoToObjectStorageOperator(
        task_id="store_video",
        hailuo_conn_id=CONN_ID,
        video=video.output,
        dest=inputs["dest"],
    )


hailuo_subject_reference()
