"""``HailuoRegenerateVideoOperator``: re-render a 768P MiniMax-H3 result at 2K.

MiniMax offers two forms (API_V2_NOTES "Two more v2 endpoints"): ``source_task_id`` (the cheap
one, but granted on request) and ``base_video`` (the original inputs with the final prompt plus the
768P video). The source form is tried first; when the vendor refuses it for lack of access, the
base_video form is sent with the result's prompt and a fresh URL of the 768P video, and the log says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError
from airflow_provider_hailuo.operators.v2_task import V2TaskOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_hailuo.core.models import TaskStatus


class HailuoRegenerateVideoOperator(V2TaskOperator):
    """Re-render ``video`` (a v2 video result dict at 768P, e.g. ``generate.output``) at 2K.

    :param video: the 768P H3 result (templated).
    :param use_source_task: try the ``source_task_id`` form first (default True); False sends the
        ``base_video`` form at once (for accounts without access to the other).

    Returns the video result dict of the 2K task (``api`` v2, ``resolution`` 2K).
    """

    template_fields: Sequence[str] = ("hailuo_conn_id", "video")
    template_fields_renderers = {"video": "json"}

    def __init__(self, *, video: Any, use_source_task: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.video = video
        self.use_source_task = use_source_task
        self.model = "MiniMax-H3"
        self._facts: dict[str, Any] | None = None

    def _source(self) -> dict[str, Any]:
        video = self.video
        ok = isinstance(video, Mapping) and video.get("api") == "v2" and isinstance(video.get("video_task_id"), str)
        if not ok:
            raise HailuoInvalidRequestError(
                f"video must be the result dict of a MiniMax-H3 video (api 'v2', with video_task_id); got "
                f"{dict(video) if isinstance(video, Mapping) else type(video).__name__!r}.",
                parameter="video", value=str(video)[:120])
        assert isinstance(video, Mapping)
        if video.get("model") != "MiniMax-H3" or video.get("resolution") != "768P":
            raise HailuoInvalidRequestError(
                f"video is a {video.get('model')} video at {video.get('resolution')}; only MiniMax-H3 results at "
                "768P can be re-rendered at 2K.", parameter="video", value=video.get("resolution"))
        return dict(video)

    def _request_and_facts(self, video: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        """The base_video form's request (the result's prompt, duration, ratio) and the 2K result's facts."""
        from airflow_provider_hailuo.core.facts import RequestFacts
        from airflow_provider_hailuo.core.h3 import H3Request
        from airflow_provider_hailuo.core.h3_results import SHORT_SIDE, h3_expected_size

        ratio = video.get("ratio") if video.get("ratio") not in (None, "adaptive") else None
        request = H3Request.build(model=self.model, prompt=video.get("prompt") or "", duration=video.get("duration"),
                                  resolution="2K", ratio=ratio)
        size = h3_expected_size(request) if ratio else None
        if size is None and video.get("video_width") and video.get("video_height"):
            aspect, short = video["video_width"] / video["video_height"], SHORT_SIDE["2K"]
            size = (2 * round(short * aspect / 2), short) if aspect >= 1 else (short, 2 * round(short / aspect / 2))
        facts = RequestFacts(self.model, request.duration, "2K", video.get("mode"), size, request.prompt, api="v2",
                             ratio=video.get("ratio"))
        return request, facts.to_dict()

    def submit(self, context: Context) -> str:
        video = self._source()
        request, self._facts = self._request_and_facts(video)
        source_id = str(video["video_task_id"])
        if self.use_source_task:
            from airflow_provider_hailuo.exceptions import HailuoVendorError

            try:
                return self._log_submitted(self.hook.regenerate(self.model, source_task_id=source_id), "source_task_id")
            except HailuoVendorError as exc:
                if not self.hook.dialect.is_access_refusal(exc):
                    raise
                self.log.warning(
                    "MiniMax refused the source_task_id form of the 2K re-render (%s): that form is granted on "
                    "request. Sending the base_video form instead: the prompt of video task %s and its 768P video "
                    "(pass use_source_task=False to skip the first attempt).", exc, source_id)
        base_url = self.hook.get_download_location(source_id, None).url  # a fresh URL: the result's may be stale
        return self._log_submitted(self.hook.regenerate(self.model, request=request, base_video_url=base_url),
                                   "base_video")

    def _log_submitted(self, task_id: str, form: str) -> str:
        self.log.info("Submitted a 2K re-render (%s form): task %s", form, task_id)
        return task_id

    def facts(self) -> dict[str, Any] | None:
        return self._facts

    def result_for(self, status: TaskStatus, facts: Mapping[str, Any] | None) -> dict[str, Any]:
        from airflow_provider_hailuo.core.facts import RequestFacts

        # dag.test() does not pass defer kwargs back: the facts follow again from the (rendered) video.
        carried = facts if facts is not None else self._facts or self._request_and_facts(self._source())[1]
        from airflow_provider_hailuo.core.cost import estimate_regeneration_cost

        result = RequestFacts.from_dict(carried).result_for(status)
        # Re-rendering has its own price (per output second), not the generation price of 2K.
        result["estimated_cost"] = estimate_regeneration_cost(result["duration"] or 0,
                                                              getattr(self.hook.dialect, "currency", None))
        return result
