"""MiniMax-H3 (video API v2) through the real operator in DAG runs against the emulator.

Every mode of v2: text, first frame, first+last frame, references (image, video, audio; the media
are real files made here), each deferred (the trigger polls v2) or in the worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
from tests.integration.h3_media import mp4_file, png_file, wav_file
from tests.integration.test_generate_dag import FAST, new_dag, run_dag, task_results, task_states

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def test_every_h3_mode(airflow_db: Any, emulator: Any, vendor_conns: dict[str, str], tmp_path: Path) -> None:
    conn_id = vendor_conns["minimax"]
    portrait = png_file(tmp_path / "portrait.png", (720, 1280))
    landscape = png_file(tmp_path / "landscape.png", (1280, 720))
    end = png_file(tmp_path / "end.png", (1280, 720))
    clip = mp4_file(tmp_path / "clip.mp4", 3.0)
    voice = wav_file(tmp_path / "voice.wav", 3.0)
    # task_id -> (kwargs, mode, ratio, size)
    plan: dict[str, tuple[dict[str, Any], str, str, tuple[int, int]]] = {
        "text_deferred": ({"prompt": "A red fox runs through snow", "ratio": "9:16", "duration": 10},
                          "text", "9:16", (768, 1366)),
        "text_default_ratio_sync": ({"prompt": "A lighthouse at dusk", "deferrable": False, "resolution": "2K"},
                                    "text", "16:9", (2560, 1440)),
        "first_frame": ({"prompt": "The dancer turns", "first_frame_image": portrait}, "image", "adaptive",
                        (768, 1366)),
        "first_last_sync": ({"prompt": "Day turns to night", "first_frame_image": landscape,
                             "last_frame_image": end, "deferrable": False}, "first_last_frame", "adaptive",
                            (1366, 768)),
        "references": ({"prompt": "The cat from the photo dances to the song", "ratio": "1:1",
                        "reference_images": [landscape], "reference_videos": [clip],
                        "reference_audios": [voice]}, "reference", "1:1", (768, 768)),
    }
    with new_dag("hailuo_h3_modes") as dag:
        for task_id, (kwargs, _, _, _) in plan.items():
            HailuoGenerateVideoOperator(task_id=task_id, hailuo_conn_id=conn_id, model="MiniMax-H3", **FAST,
                                        **kwargs)
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {(task_id, -1): "success" for task_id in plan}
    results = task_results(dag_run)
    tasks = {task["task_id"]: task for task in emulator.tasks("minimax") if task.get("api") == "v2"}
    for task_id, (kwargs, mode, ratio, size) in plan.items():
        result = results[(task_id, -1)]
        assert (result["api"], result["mode"], result["model"], result["vendor"]) == ("v2", mode, "MiniMax-H3",
                                                                                         "minimax"), task_id
        assert result["ratio"] == ratio, task_id
        assert result["video_url"].startswith("http") and result["file_id"] is None
        assert (result["video_width"], result["video_height"]) == size, task_id
        assert result["duration"] == kwargs.get("duration", 5)
        assert result["usage"] and result["usage"]["output_seconds"] == result["duration"]
        assert result["estimated_cost"]["unit"] == "CNY" and result["estimated_cost"]["amount"] > 0
        emulated = tasks[result["video_task_id"]]
        assert (emulated["video_width"], emulated["video_height"]) == size  # what the emulator rendered
    assert emulator.count("v2_submit") == len(plan)  # one create per task, none on v1
    assert emulator.count("submit") == 0
    references = [entry for entry in emulator.requests(endpoint="v2_submit")
                  if entry.get("task_id") == results[("references", -1)]["video_task_id"]]
    assert len(references) == 1


def test_large_media_go_through_the_upload(airflow_db: Any, emulator: Any, vendor_conns: dict[str, str],
                                           tmp_path: Path) -> None:
    """A local image over the inline limit (10 MiB) is uploaded (mm_file://) before the create call."""
    import os

    from PIL import Image

    from airflow_provider_hailuo.core.media import DEFAULT_INLINE_MAX_BYTES

    noise = Image.frombytes("RGB", (2400, 2400), os.urandom(2400 * 2400 * 3))  # PNG cannot shrink noise
    noise.save(tmp_path / "ref.png", format="PNG", compress_level=1)
    image = str(tmp_path / "ref.png")
    assert DEFAULT_INLINE_MAX_BYTES < os.path.getsize(image) < 30 * 1024 * 1024
    with new_dag("hailuo_h3_upload") as dag:
        HailuoGenerateVideoOperator(task_id="uploaded", hailuo_conn_id=vendor_conns["minimax"], model="MiniMax-H3",
                                    prompt="The kite from the photo flies", reference_images=[image],
                                    deferrable=False, **FAST)
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {("uploaded", -1): "success"}
    assert emulator.count("v2_upload") == 1
    assert emulator.count("v2_submit") == 1


def test_a_retry_reconnects_to_the_h3_task_instead_of_paying_again(emulator: Any, vendor_conns: dict[str, str]) -> None:
    """The first try defers (the stored task says api v2); the retry polls that v2 task, submits nothing."""
    from airflow.sdk.exceptions import TaskDeferred

    from tests.reliability.helpers import MemoryStore

    store = MemoryStore()
    kwargs: dict[str, Any] = {"task_id": "h3", "hailuo_conn_id": vendor_conns["minimax"], "model": "MiniMax-H3",
                              "prompt": "A heron lifts off a lake", "ratio": "1:1", **FAST}
    with pytest.raises(TaskDeferred) as deferred:
        HailuoGenerateVideoOperator(**kwargs).execute({"task_state_store": store})  # type: ignore[arg-type]
    assert deferred.value.trigger.serialize()[1]["api"] == "v2"
    (stored,) = store.values.values()
    assert stored["api"] == "v2" and stored["facts"]["api"] == "v2"
    retry = HailuoGenerateVideoOperator(**kwargs, deferrable=False)
    result = retry.execute({"task_state_store": store})  # type: ignore[arg-type]
    assert result is not None and result["video_task_id"] == stored["video_task_id"]
    assert (result["api"], result["ratio"], result["video_width"], result["video_height"]) == ("v2", "1:1", 768, 768)
    assert emulator.count("v2_submit") == 1
