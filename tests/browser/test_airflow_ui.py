"""The provider in a real Airflow UI, in headless Chromium: connection forms and the transfer's extra link.

One Airflow stack (api-server, scheduler, dag-processor, triggerer; ``tests/e2e/airflow_stack.py``)
serves both tests. The DAG generates a video on the emulator and stores it in S3 (a moto server
on loopback), so the transfer task has a "Stored video" link to open in the UI.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from airflow_provider_hailuo.get_provider_info import get_provider_info
from tests.browser.conftest import save_screenshot
from tests.conftest import conn_env, running_emulator
from tests.e2e.airflow_stack import AirflowStack
from tests.integration.transfer_helpers import MotoS3

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

DAG_ID = "hailuo_browser_transfer"
CONN_ID = "hailuo_minimax_browser"
DAG_SOURCE = f'''
from airflow.sdk import DAG

from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
from airflow_provider_hailuo.transfers.object_storage import HailuoToObjectStorageOperator

with DAG("{DAG_ID}", schedule=None, catchup=False):
    generate = HailuoGenerateVideoOperator(
        task_id="generate", hailuo_conn_id="{CONN_ID}", prompt="a kite over dunes [Pan left]",
        model="MiniMax-Hailuo-2.3", deferrable=False, poll_interval=1, initial_delay=1, retries=0,
    )
    HailuoToObjectStorageOperator(
        task_id="store", hailuo_conn_id="{CONN_ID}", video=generate.output,
        dest="s3://{{{{ dag_run.conf['bucket'] }}}}/browser/{{{{ run_id | replace(':', '_') }}}}.mp4",
        dest_conn_id="{{{{ dag_run.conf['aws_conn_id'] }}}}", retries=0,
    )
'''


@pytest.fixture(scope="module")
def ui_emulator() -> Iterator[Any]:
    with running_emulator(generation_seconds=2) as server:
        yield server


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[MotoS3]:
    server = MotoS3.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def stack(module_airflow_stack_factory: Any, ui_emulator: Any, moto_s3: MotoS3) -> AirflowStack:
    env = dict([conn_env(CONN_ID, "hailuo_minimax", ui_emulator.base_url("minimax"))])
    aws_var = f"AIRFLOW_CONN_{moto_s3.conn_id.upper()}"
    env[aws_var] = os.environ[aws_var]
    return module_airflow_stack_factory(dag_files={"browser_transfer.py": DAG_SOURCE}, wait_for_dags=[DAG_ID],
                                        extra_env=env)


def _declared_forms() -> dict[str, tuple[str, dict[str, Any]]]:
    return {item["connection-type"]: (item["hook-name"], item) for item in get_provider_info()["connection-types"]}


def test_connection_forms_show_the_declared_fields(stack: AirflowStack, browser: Any, tmp_path: Path) -> None:
    forms = _declared_forms()
    assert set(forms) == {"hailuo_minimax", "hailuo_dmxapi", "hailuo_modelverse"}
    every_extra_label = {field["label"] for _, item in forms.values() for field in item["conn-fields"].values()}
    page = browser.new_page()
    for conn_type, (hook_name, item) in forms.items():
        page.goto(f"{stack.base_url}/connections", wait_until="networkidle")
        page.get_by_role("button", name="Add Connection").click()
        dialog = page.get_by_role("dialog")
        combo = dialog.get_by_role("combobox")
        combo.click()
        combo.fill(hook_name)
        page.get_by_role("option", name=hook_name, exact=True).click()
        relabeled = item["ui-field-behaviour"]["relabeling"]
        for label in (relabeled["host"], relabeled["password"]):  # "Base URL", "API key"
            dialog.get_by_text(label, exact=True).wait_for(state="visible")
        for hidden in ("Schema", "Port", "Login"):  # hidden-fields
            assert dialog.get_by_text(hidden, exact=True).count() == 0, (conn_type, hidden)
        section = dialog.get_by_text("Extra Fields", exact=True)
        if section.count():  # Airflow 3.3 shows the section only for types that declare conn-fields
            section.click()
        wanted = {field["label"] for field in item["conn-fields"].values()}
        for label in wanted:  # Region (MiniMax), Auth scheme (DMXAPI)
            dialog.get_by_text(label, exact=True).wait_for(state="visible")
        for label in every_extra_label - wanted:
            assert dialog.get_by_text(label, exact=True).count() == 0, (conn_type, label)
        save_screenshot(page, tmp_path, f"connection-form-{conn_type}")
    page.close()


def test_finished_transfer_task_shows_the_stored_video_link(stack: AirflowStack, moto_s3: MotoS3, browser: Any,
                                                            tmp_path: Path) -> None:
    bucket = moto_s3.new_bucket()
    run_id = stack.trigger(DAG_ID, conf={"bucket": bucket, "aws_conn_id": moto_s3.conn_id})
    assert stack.wait_for_run(DAG_ID, run_id, timeout=240) == "success", stack.diagnostics()
    stored = stack.xcom(DAG_ID, run_id, "store")
    key = stored["uri"].split("/", 3)[3]
    assert moto_s3.keys(bucket) == sorted([key, key + ".jpg", key + ".json"])
    expected = f"https://console.aws.amazon.com/s3/object/{bucket}?prefix={quote(key, safe='/')}"

    page = browser.new_page()
    page.goto(f"{stack.base_url}/dags/{DAG_ID}/runs/{quote(run_id, safe='')}/tasks/store",
              wait_until="networkidle")
    page.get_by_role("link", name="Details", exact=True).click()  # Airflow 3.3 lists extra links there
    link = page.get_by_role("link", name="Stored video")
    link.wait_for(state="visible")
    assert link.get_attribute("href") == expected
    save_screenshot(page, tmp_path, "transfer-task-extra-link")
    # the generate task has no vendor link: no vendor has a page per task
    page.goto(f"{stack.base_url}/dags/{DAG_ID}/runs/{quote(run_id, safe='')}/tasks/generate",
              wait_until="networkidle")
    page.get_by_role("link", name="Details", exact=True).click()
    page.get_by_text("HailuoGenerateVideoOperator").first.wait_for(state="visible")
    assert page.get_by_role("link", name="Stored video").count() == 0
    page.close()
    assert json.dumps(stored).count("Signature") == 0
