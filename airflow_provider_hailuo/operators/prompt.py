"""``HailuoEnhancePromptOperator``: MiniMax's H3-Context-IR expands a prompt into a shot list for H3.

It makes no video: it returns ``{"prompt", "video_task_id", "usage"}`` (CONTRACT), and the expanded
prompt goes to a following ``HailuoGenerateVideoOperator`` (``prompt=enhance.output["prompt"]``).
The inputs follow H3's rules (``core/h3.py``): checked before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_hailuo.operators.v2_task import V2TaskOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_hailuo.core.models import TaskStatus


class HailuoEnhancePromptOperator(V2TaskOperator):
    """Expand ``prompt`` with H3-Context-IR for a video of ``duration`` seconds at ``ratio``.

    :param prompt: the idea to expand (templated), up to 7000 characters.
    :param duration: seconds of the video the prompt is for (H3: 4-15; default 5).
    :param ratio: the video's aspect ratio (text-only: default 16:9).
    :param first_frame_image, last_frame_image, reference_images, reference_videos, reference_audios:
        the media the video will use, as for the generate operator (templated).
    :param model: ``MiniMax-H3`` (the enhancer serves H3).
    """

    template_fields: Sequence[str] = ("hailuo_conn_id", "prompt", "ratio", "first_frame_image", "last_frame_image",
                                      "reference_images", "reference_videos", "reference_audios")
    template_fields_renderers = {"prompt": "txt"}

    def __init__(self, *, prompt: str, duration: int | None = None, ratio: str | None = None,
                 first_frame_image: Any = None, last_frame_image: Any = None, reference_images: Any = None,
                 reference_videos: Any = None, reference_audios: Any = None, model: str = "MiniMax-H3",
                 image_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prompt, self.duration, self.ratio, self.model = prompt, duration, ratio, model
        self.first_frame_image, self.last_frame_image = first_frame_image, last_frame_image
        self.reference_images, self.reference_videos, self.reference_audios = (
            reference_images, reference_videos, reference_audios)
        self.image_conn_id = image_conn_id

    def submit(self, context: Context) -> str:
        from airflow_provider_hailuo.operators.video_request import build_video_request

        names = ("model", "prompt", "duration", "ratio", "first_frame_image", "last_frame_image",
                 "reference_images", "reference_videos", "reference_audios")
        request = build_video_request({name: getattr(self, name) for name in names}, self.image_conn_id)
        task_id = self.hook.enhance_prompt(request)
        self.log.info("Submitted a prompt-enhancer task %s (%s)", task_id, request.summary())
        return task_id

    def result_for(self, status: TaskStatus, facts: Mapping[str, Any] | None) -> dict[str, Any]:
        from airflow_provider_hailuo.core.h3_results import enhanced_prompt_result

        result = enhanced_prompt_result(status)
        self.log.info("Enhanced prompt (%d characters) from task %s", len(result["prompt"] or ""), status.task_id)
        return result
