"""An H3 video from generate to storage: the MP4 keeps its stereo audio track; an expired URL is
refreshed by querying the v2 task again, never by submitting a second video."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
from airflow_provider_hailuo.transfers.object_storage import HailuoToObjectStorageOperator
from tests.integration.h3_media import audio_streams, video_facts
from tests.integration.test_generate_dag import FAST, new_dag, run_dag, task_results, task_states

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def test_h3_video_is_stored_with_its_audio_track(airflow_db: Any, emulator: Any, vendor_conns: dict[str, str],
                                                 tmp_path: Path) -> None:
    conn_id = vendor_conns["minimax"]
    dest = tmp_path / "h3" / "social.mp4"
    with new_dag("hailuo_h3_store") as dag:
        generate = HailuoGenerateVideoOperator(task_id="generate", hailuo_conn_id=conn_id, model="MiniMax-H3",
                                               prompt="A barista pours latte art", ratio="9:16", duration=4,
                                               **FAST)
        HailuoToObjectStorageOperator(task_id="store", hailuo_conn_id=conn_id, video=generate.output,
                                      dest=f"file://{dest}")
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {("generate", -1): "success", ("store", -1): "success"}
    results = task_results(dag_run)
    video, stored = results[("generate", -1)], results[("store", -1)]
    assert stored["size"] == dest.stat().st_size and stored["video_task_id"] == video["video_task_id"]
    assert stored["has_audio"] is True  # the transfer's own report (issue 17), checked below with PyAV too
    streams = audio_streams(dest)
    assert streams == [{"codec": "aac", "channels": 2, "rate": 48_000}]
    width, height, seconds = video_facts(dest)
    assert (width, height) == (video["video_width"], video["video_height"]) == (768, 1366)
    assert seconds == pytest.approx(4, abs=0.25)


def test_expired_h3_url_is_refreshed_by_querying_again(emulator: Any, vendor_conns: dict[str, str],
                                                       tmp_path: Path) -> None:
    conn_id = vendor_conns["minimax"]
    emulator.configure(download_url_ttl=1)
    video = HailuoGenerateVideoOperator(task_id="generate", hailuo_conn_id=conn_id, model="MiniMax-H3",
                                        prompt="Rain on a window", deferrable=False, **FAST).execute({})
    assert video is not None and video["api"] == "v2"
    time.sleep(1.5)
    assert requests.get(video["video_url"], timeout=10).status_code == 403  # the result's URL is dead
    emulator.configure(download_url_ttl=3600)
    queries_before = emulator.count("v2_status")
    dest = tmp_path / "refreshed.mp4"
    stored = HailuoToObjectStorageOperator(task_id="store", hailuo_conn_id=conn_id, video=video,
                                           dest=f"file://{dest}").execute({})  # type: ignore[arg-type]
    assert stored["size"] == dest.stat().st_size > 0
    assert emulator.count("v2_status") > queries_before  # a fresh URL from a new query of the same task
    assert emulator.count("v2_submit") == 1  # never resubmitted
    assert audio_streams(dest)[0]["channels"] == 2


def test_a_403_mid_transfer_re_queries_the_v2_task(emulator: Any, vendor_conns: dict[str, str],
                                                   tmp_path: Path) -> None:
    """The CDN refuses the fresh URL as expired once: the download plan queries the task again."""
    conn_id = vendor_conns["minimax"]
    video = HailuoGenerateVideoOperator(task_id="generate", hailuo_conn_id=conn_id, model="MiniMax-H3",
                                        prompt="Rain on a window", deferrable=False, **FAST).execute({})
    assert video is not None
    emulator.add_fault(endpoint="v2_download", kind="expired_url", times=1)
    queries_before = emulator.count("v2_status")
    dest = tmp_path / "again.mp4"
    HailuoToObjectStorageOperator(task_id="store", hailuo_conn_id=conn_id, video=video,
                                  dest=f"file://{dest}").execute({})  # type: ignore[arg-type]
    assert [entry["status"] for entry in emulator.requests(endpoint="v2_download")] == [403, 200]
    assert emulator.count("v2_status") == queries_before + 2  # the first lookup, then the refresh
    assert emulator.count("v2_submit") == 1
