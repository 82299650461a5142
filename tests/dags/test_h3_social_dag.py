"""``hailuo_h3_social`` end to end against the emulator with ``dag.test()``: one enhanced prompt, one
9:16 10 s MiniMax-H3 video with its stereo track, stored where the DAG says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.dags.test_daily_content_dag import _load_dags, dags_module_env  # noqa: F401 - the fixture
from tests.integration.h3_media import audio_streams, video_facts


def test_h3_social_stores_a_9_16_video_with_sound(airflow_db: Path, emulator: Any, vendor_conns: dict[str, str],
                                                  dags_module_env: None, tmp_path: Path) -> None:  # noqa: F811
    dag = _load_dags().dags["hailuo_h3_social"]
    media = tmp_path / "media"
    run = dag.test(run_conf={"idea": "A lighthouse keeper waves at a passing ship",
                             "hailuo_conn_id": vendor_conns["minimax"], "media_base": media.as_uri()})
    assert run.state == "success"
    stored = media / "h3" / run.logical_date.strftime("%Y-%m-%d") / "social.mp4"
    width, height, seconds = video_facts(stored)
    assert (width, height) == (768, 1366) and abs(seconds - 10) < 0.25
    assert audio_streams(stored) == [{"codec": "aac", "channels": 2, "rate": 48_000}]
    kinds = sorted(task["task_type"] for task in emulator.tasks("minimax") if task.get("api") == "v2")
    assert kinds == ["generation", "h3_context_ir"]  # one enhanced prompt, one video
