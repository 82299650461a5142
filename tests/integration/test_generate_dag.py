"""The generate operator and the sensor in real DAG runs (``dag.test()``) against the emulator.

``dag.test()`` runs the trigger inline, so this proves the operator, the trigger and the hooks
together over real HTTP; the real triggerer path is the end-to-end test's job.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
from airflow_provider_hailuo.sensors.video import HailuoVideoSensor

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

FAST: dict[str, Any] = {"initial_delay": 0.1, "poll_interval": 0.1, "timeout": 60}


def make_png(path: Path, width: int, height: int) -> str:
    from PIL import Image

    Image.new("RGB", (width, height), (200, 120, 40)).save(path, format="PNG")
    return str(path)


def new_dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1), catchup=False)


def run_dag(dag: DAG) -> Any:
    """Serialise the in-test DAG into the metadata DB (``dag.test()`` needs it there) and run it."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(collect_dags=False)
    bag.dags = {dag.dag_id: dag}
    sync_bag_to_db(bag, "dags-folder", None)
    return dag.test()


def task_results(dag_run: Any) -> dict[tuple[str, int], Any]:
    """XCom return values of a finished run, by (task_id, map_index)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id,
                                                  key="return_value").all()
        return {(row.task_id, row.map_index): row.value for row in rows}


def task_states(dag_run: Any) -> dict[tuple[str, int], str]:
    from airflow.utils.session import create_session

    with create_session() as session:
        return {(ti.task_id, ti.map_index): str(ti.state) for ti in dag_run.get_task_instances(session=session)}


def submitted_task_ids(emulator: Any, vendor: str | None = None) -> list[str]:
    return [entry.get("task_id") for entry in emulator.requests(vendor=vendor, endpoint="submit")]


def check_result(result: dict[str, Any], vendor: str, model: str, size: tuple[int, int], resolution: str) -> None:
    assert result["status"] == "succeeded"
    assert result["vendor"] == vendor
    assert result["model"] == model
    assert isinstance(result["video_task_id"], str) and result["video_task_id"]
    assert (result["video_width"], result["video_height"]) == size
    assert result["resolution"] == resolution
    if vendor == "modelverse":
        assert result["video_url"].startswith("http")
    else:
        assert isinstance(result["file_id"], str) and result["file_id"]


@pytest.mark.parametrize("vendor", ["minimax", "dmxapi", "modelverse"])
def test_every_mode_deferrable_and_sync(airflow_db: Any, emulator: Any, vendor_conns: dict[str, str],
                                        tmp_path: Path, vendor: str) -> None:
    conn_id = vendor_conns[vendor]
    portrait = make_png(tmp_path / "portrait.png", 720, 1280)
    landscape = make_png(tmp_path / "landscape.png", 1280, 720)
    landscape_end = make_png(tmp_path / "landscape_end.png", 1280, 720)
    # task_id -> (kwargs, model, expected size, resolution)
    plan: dict[str, tuple[dict[str, Any], str, tuple[int, int], str]] = {
        "text_deferred": ({"prompt": "A red fox runs through snow [推进]"}, "MiniMax-Hailuo-2.3", (1366, 768), "768P"),
        "text_1080p_sync": ({"prompt": "A lighthouse at dusk", "resolution": "1080P", "deferrable": False},
                            "MiniMax-Hailuo-2.3", (1920, 1080), "1080P"),
        "image_deferred": ({"prompt": "The dancer turns", "first_frame_image": portrait},
                           "MiniMax-Hailuo-2.3", (768, 1366), "768P"),
        "image_sync": ({"prompt": "Waves roll in", "first_frame_image": landscape, "deferrable": False},
                       "MiniMax-Hailuo-2.3",
                       (1366, 768), "768P"),
        "first_last_deferred": ({"prompt": "Day turns to night", "first_frame_image": landscape,
                                 "last_frame_image": landscape_end}, "MiniMax-Hailuo-02", (1366, 768), "768P"),
    }
    if vendor != "modelverse":  # Modelverse does not sell subject reference (separate test)
        plan["subject_deferred"] = ({"prompt": "The girl waves at the camera", "subject_reference": portrait},
                                    "S2V-01", (1280, 720), "720P")
    with new_dag(f"hailuo_modes_{vendor}") as dag:
        for task_id, (kwargs, model, _, _) in plan.items():
            HailuoGenerateVideoOperator(task_id=task_id, hailuo_conn_id=conn_id, model=model, **FAST, **kwargs)
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {(task_id, -1): "success" for task_id in plan}
    results = task_results(dag_run)
    for task_id, (_, model, size, resolution) in plan.items():
        check_result(results[(task_id, -1)], vendor, model, size, resolution)
    # exactly one submit per task, each the task that task returned
    assert sorted(submitted_task_ids(emulator)) == sorted(r["video_task_id"] for r in results.values())
    assert emulator.count("submit") == len(plan)
    assert results[("text_deferred", -1)]["prompt"] == "A red fox runs through snow [推进]"


def test_modelverse_refuses_subject_reference_before_sending(airflow_db: Any, emulator: Any,
                                                             vendor_conns: dict[str, str], tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    with new_dag("hailuo_modelverse_s2v") as dag:
        HailuoGenerateVideoOperator(task_id="subject", hailuo_conn_id=vendor_conns["modelverse"], model="S2V-01",
                                    prompt="A girl waves", subject_reference=make_png(tmp_path / "s.png", 720, 1280),
                                    **FAST)
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {("subject", -1): "failed"}
    assert emulator.count("submit") == 0
    assert emulator.requests() == []  # not even a status query
    out = capsys.readouterr().out
    assert "HailuoInvalidRequestError" in out
    assert "subject-reference" in out


@pytest.mark.parametrize("deferrable", [True, False])
def test_failed_generation_fails_the_task_with_the_vendor_reason(airflow_db: Any, emulator: Any,
                                                                 vendor_conns: dict[str, str], deferrable: bool,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    emulator.configure(final_status="fail", fail_reason="GPU caught fire while rendering")
    with new_dag(f"hailuo_fail_{deferrable}") as dag:
        HailuoGenerateVideoOperator(task_id="generate", hailuo_conn_id=vendor_conns["minimax"],
                                    model="MiniMax-Hailuo-2.3", prompt="A calm lake", deferrable=deferrable, **FAST)
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {("generate", -1): "failed"}
    assert emulator.count("submit") == 1
    (video_task_id,) = submitted_task_ids(emulator)
    out = capsys.readouterr().out
    assert "HailuoTaskFailedError" in out
    assert "GPU caught fire while rendering" in out
    assert f"video task {video_task_id} failed" in out


def test_moderated_output_raises_moderation_error(airflow_db: Any, emulator: Any, vendor_conns: dict[str, str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    emulator.configure(moderation="output")
    with new_dag("hailuo_moderation") as dag:
        HailuoGenerateVideoOperator(task_id="generate", hailuo_conn_id=vendor_conns["dmxapi"],
                                    model="MiniMax-Hailuo-2.3", prompt="Something the filter dislikes", **FAST)
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {("generate", -1): "failed"}
    out = capsys.readouterr().out
    assert "HailuoModerationError" in out
    assert "1027" in out
    assert "sk-test-HAILUO-SECRET" not in out


def test_dynamic_task_mapping(airflow_db: Any, emulator: Any, vendor_conns: dict[str, str]) -> None:
    prompts = ["A koi pond in the rain", "A paper boat on a stream", "A kite over the dunes"]
    with new_dag("hailuo_mapped") as dag:
        HailuoGenerateVideoOperator.partial(
            task_id="generate", hailuo_conn_id=vendor_conns["minimax"], model="MiniMax-Hailuo-02", **FAST
        ).expand(prompt=prompts)
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {("generate", index): "success" for index in range(3)}
    results = task_results(dag_run)
    assert [results[("generate", index)]["prompt"] for index in range(3)] == prompts
    assert emulator.count("submit") == 3
    assert len({result["video_task_id"] for result in results.values()}) == 3


@pytest.mark.parametrize("deferrable", [True, False])
def test_retry_after_timeout_reconnects_instead_of_paying_twice(airflow_db: Any, emulator: Any,
                                                                vendor_conns: dict[str, str], deferrable: bool,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    emulator.configure(generation_seconds=2.5)
    with new_dag(f"hailuo_retry_{deferrable}") as dag:
        HailuoGenerateVideoOperator(
            task_id="generate", hailuo_conn_id=vendor_conns["modelverse"], model="MiniMax-Hailuo-2.3",
            prompt="A slow sunrise", deferrable=deferrable, initial_delay=0.1, poll_interval=0.2, timeout=1,
            retries=2, retry_delay=dt.timedelta(seconds=0),
        )
    dag_run = run_dag(dag)
    out = capsys.readouterr().out
    assert task_states(dag_run) == {("generate", -1): "success"}
    assert "HailuoTimeoutError" in out  # the first try ran out of time...
    assert emulator.count("submit") == 1  # ...and the retry reconnected to the same vendor task
    (video_task_id,) = submitted_task_ids(emulator)
    assert task_results(dag_run)[("generate", -1)]["video_task_id"] == video_task_id


@pytest.mark.parametrize("deferrable", [True, False])
def test_sensor_waits_for_a_task_submitted_elsewhere(airflow_db: Any, emulator: Any, vendor_conns: dict[str, str],
                                                     deferrable: bool) -> None:
    from airflow_provider_hailuo.core.request import VideoRequest
    from airflow_provider_hailuo.hooks import get_hook

    video_task_id = get_hook(vendor_conns["minimax"]).submit(
        VideoRequest.build(model="MiniMax-Hailuo-2.3", prompt="A tram in the fog", resolution="1080P")
    )
    with new_dag(f"hailuo_sensor_{deferrable}") as dag:
        HailuoVideoSensor(task_id="wait", hailuo_conn_id=vendor_conns["minimax"], video_task_id="{{ params.vt }}",
                          params={"vt": video_task_id}, deferrable=deferrable, poke_interval=0.1, timeout=60)
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {("wait", -1): "success"}
    result = task_results(dag_run)[("wait", -1)]
    assert result["video_task_id"] == video_task_id
    assert (result["video_width"], result["video_height"]) == (1920, 1080)
    assert result["model"] is None
    assert emulator.count("submit") == 1
