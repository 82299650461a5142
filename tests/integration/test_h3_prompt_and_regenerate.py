"""The prompt enhancer (H3-Context-IR) and the 2K re-render, in a DAG run against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError
from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
from airflow_provider_hailuo.operators.prompt import HailuoEnhancePromptOperator
from airflow_provider_hailuo.operators.regenerate import HailuoRegenerateVideoOperator
from tests.integration.test_generate_dag import FAST, new_dag, run_dag, task_results, task_states

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def test_enhanced_prompt_feeds_a_generate_task_and_the_768p_video_is_rerendered_at_2k(
        airflow_db: Any, emulator: Any, vendor_conns: dict[str, str]) -> None:
    conn_id = vendor_conns["minimax"]
    with new_dag("hailuo_h3_enhance_regenerate") as dag:
        enhance = HailuoEnhancePromptOperator(task_id="enhance", hailuo_conn_id=conn_id, prompt="A fox in snow",
                                              duration=10, ratio="9:16", **FAST)
        generate = HailuoGenerateVideoOperator(task_id="generate", hailuo_conn_id=conn_id, model="MiniMax-H3",
                                               prompt="{{ ti.xcom_pull('enhance')['prompt'] }}", duration=10,
                                               ratio="9:16", **FAST)
        regenerate = HailuoRegenerateVideoOperator(task_id="regenerate", hailuo_conn_id=conn_id,
                                                   video=generate.output, **FAST)
        enhance >> generate >> regenerate
    dag_run = run_dag(dag)
    assert set(task_states(dag_run).values()) == {"success"}
    results = task_results(dag_run)
    enhanced, video, rerendered = (results[(name, -1)] for name in ("enhance", "generate", "regenerate"))
    assert set(enhanced) == {"prompt", "video_task_id", "usage"}
    assert len(enhanced["prompt"]) > len("A fox in snow") and enhanced["usage"]
    assert video["prompt"] == enhanced["prompt"]  # the expanded prompt went to the generate task
    assert (video["resolution"], video["api"]) == ("768P", "v2")
    # the base_video form follows the base video's shape: the vendor reports ratio "adaptive"
    assert (rerendered["resolution"], rerendered["api"], rerendered["ratio"]) == ("2K", "v2", "adaptive")
    assert (rerendered["video_width"], rerendered["video_height"]) == (1440, 2560)
    # (duration: the emulator cannot probe a base video given by URL and reports 6 s; not checked here)
    assert rerendered["video_task_id"] != video["video_task_id"]
    # the emulator refuses source_task_id by default: one refused attempt, then the base_video form
    regenerations = emulator.requests(endpoint="v2_regeneration")
    assert [entry["status"] for entry in regenerations] == [400, 200]
    tasks = {task["task_id"]: task for task in emulator.tasks("minimax") if task.get("api") == "v2"}
    assert tasks[rerendered["video_task_id"]]["task_type"] == "regeneration"
    assert tasks[enhanced["video_task_id"]]["task_type"] == "h3_context_ir"


def test_source_task_form_when_the_account_has_access(emulator: Any, vendor_conns: dict[str, str]) -> None:
    emulator.configure(v2_regeneration_access=True)
    conn_id = vendor_conns["minimax"]
    video = HailuoGenerateVideoOperator(task_id="generate", hailuo_conn_id=conn_id, model="MiniMax-H3",
                                        prompt="A tram in the rain", deferrable=False, **FAST).execute({})
    result = HailuoRegenerateVideoOperator(task_id="regenerate", hailuo_conn_id=conn_id, video=video,
                                           deferrable=False, **FAST).execute({})  # type: ignore[arg-type]
    assert (result["resolution"], result["video_width"], result["video_height"]) == ("2K", 2560, 1440)
    assert result["duration"] == video["duration"] == 5
    assert result["estimated_cost"] is None  # regeneration has a USD price only; this is a China connection
    assert [entry["status"] for entry in emulator.requests(endpoint="v2_regeneration")] == [200]


def test_a_2k_or_v1_video_is_refused_before_sending(emulator: Any, vendor_conns: dict[str, str]) -> None:
    conn_id = vendor_conns["minimax"]
    for video in ({"api": "v1", "video_task_id": "1", "model": "MiniMax-Hailuo-2.3", "resolution": "768P"},
                  {"api": "v2", "video_task_id": "1", "model": "MiniMax-H3", "resolution": "2K"}):
        with pytest.raises(HailuoInvalidRequestError) as caught:
            operator = HailuoRegenerateVideoOperator(task_id="r", hailuo_conn_id=conn_id, video=video)
            operator.execute({})  # type: ignore[arg-type]
        assert caught.value.parameter == "video"
    assert emulator.requests() == []
