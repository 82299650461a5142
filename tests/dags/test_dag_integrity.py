"""Every file in dags/ parses, and every DAG is fit to deploy.

* no import errors, one DAG per file, the expected DAG ids;
* each DAG has tags, an owner other than the default and retries on every task;
* parsing makes no network or database call: imported with ``socket.connect``, SQLAlchemy
  connections, ``sqlite3.connect``, Variables and connections all raising, and again in a fresh
  interpreter whose metadata database URL points at a path that cannot exist;
* generate tasks run in the vendor pool, stores announce on the asset alias the catalog DAG
  listens to, and every DAG serialises (what the DAG processor does with it).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
DAG_FILES = sorted(DAGS.glob("*.py"))
EXPECTED_DAGS = {
    "hailuo_daily_content",
    "hailuo_image_to_video",
    "hailuo_first_last_frame",
    "hailuo_subject_reference",
    "hailuo_product_videos",
    "hailuo_video_catalog",
    "hailuo_h3_social",
}


class ParseTimeCall(AssertionError):
    """A DAG file reached for the network, the database, a Variable or a connection while parsing."""


def _refuse(what: str):
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ParseTimeCall(f"{what} called while parsing DAG files")

    return refuse


@pytest.fixture(scope="module")
def dag_bag() -> Any:
    """The DagBag of dags/, parsed with every way out of the process blocked."""
    import sqlalchemy.engine
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import BaseHook, Variable

    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(DAGS))  # Airflow puts the DAGs folder on sys.path; so do we
        for name in ("HAILUO_TASK_RETRIES", "HAILUO_POLL_INTERVAL", "HAILUO_INITIAL_DELAY", "HAILUO_CONN_ID"):
            patch.delenv(name, raising=False)  # judge the DAGs as shipped, not as a demo shell tuned them
        for module in [name for name in sys.modules if name == "hailuo_common" or name.startswith("hailuo_common.")]:
            patch.delitem(sys.modules, module)
        patch.setattr(socket.socket, "connect", _refuse("socket.connect"))
        patch.setattr(socket.socket, "connect_ex", _refuse("socket.connect_ex"))
        patch.setattr(socket, "create_connection", _refuse("socket.create_connection"))
        patch.setattr(sqlalchemy.engine.Engine, "connect", _refuse("a database connection"))
        patch.setattr(sqlalchemy.engine.Engine, "raw_connection", _refuse("a database connection"))
        patch.setattr(sqlite3, "connect", _refuse("sqlite3.connect"))
        patch.setattr(Variable, "get", _refuse("Variable.get"))
        patch.setattr(BaseHook, "get_connection", _refuse("BaseHook.get_connection"))
        bag = DagBag(dag_folder=DAGS, bundle_path=DAGS, bundle_name="dags-folder")
    return bag


def test_every_dag_file_imports_without_errors(dag_bag: Any) -> None:
    assert dag_bag.import_errors == {}, "\n\n".join(f"{path}:\n{error}" for path, error in
                                                   dag_bag.import_errors.items())
    assert set(dag_bag.dags) == EXPECTED_DAGS


def test_each_python_file_holds_a_dag_and_helpers_are_not_parsed(dag_bag: Any) -> None:
    files_with_dags = {Path(dag.fileloc).name for dag in dag_bag.dags.values()}
    assert files_with_dags == {path.name for path in DAG_FILES}
    parsed = {Path(stat.file).name for stat in dag_bag.dagbag_stats}
    assert parsed == {path.name for path in DAG_FILES}, ".airflowignore must keep helper packages out"


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_dag_has_tags_owner_and_retries(dag_bag: Any, dag_id: str) -> None:
    dag = dag_bag.dags[dag_id]
    assert dag.tags and "hailuo" in dag.tags, f"{dag_id} has no tags"
    assert dag.doc_md, f"{dag_id} has no documentation"
    for task in dag.tasks:
        assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} has the default owner"
        assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_generate_tasks_run_in_the_vendor_pool(dag_bag: Any) -> None:
    from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator

    sys.path.insert(0, str(DAGS))
    try:
        from hailuo_common import H3_POOL, POOL
    finally:
        sys.path.remove(str(DAGS))
    generate_tasks = [
        (dag.dag_id, task) for dag in dag_bag.dags.values() for task in dag.tasks
        if getattr(task, "operator_class", type(task)) is HailuoGenerateVideoOperator
        or isinstance(task, HailuoGenerateVideoOperator)
    ]
    assert len(generate_tasks) == 6
    for dag_id, task in generate_tasks:
        # MiniMax-H3 (v2) has its own in-flight cap (30 per account), hence its own pool
        expected = H3_POOL if str(getattr(task, "model", "")).startswith("MiniMax-H3") else POOL
        assert task.pool == expected, f"{dag_id}.{task.task_id} runs in pool {task.pool}"
    assert (POOL, H3_POOL) == ("hailuo_vendor", "hailuo_h3")


def test_stored_videos_reach_the_catalog_dag(dag_bag: Any) -> None:
    from airflow.sdk import AssetAlias

    from airflow_provider_hailuo.transfers.object_storage import HAILUO_VIDEOS_ALIAS

    alias = AssetAlias(HAILUO_VIDEOS_ALIAS)
    for dag in dag_bag.dags.values():
        for task in dag.tasks:
            if task.task_id == "store_video":
                assert alias in task.outlets, f"{dag.dag_id}.store_video does not announce on {alias}"
    catalog = dag_bag.dags["hailuo_video_catalog"]
    assert catalog.schedule == [alias]


def test_every_dag_serialises(dag_bag: Any) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    for dag in dag_bag.dags.values():
        DagSerialization.serialize_dag(dag)


def test_parsing_needs_no_database_and_no_network(tmp_path: Path) -> None:
    """A fresh interpreter, a metadata DB URL that cannot be opened and sockets that refuse."""
    script = textwrap.dedent(
        """
        import json, socket, sys

        def refuse(*args, **kwargs):
            raise OSError("network access while parsing DAG files")

        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        from pathlib import Path

        from airflow.dag_processing.dagbag import BundleDagBag

        dags = Path(sys.argv[1])
        bag = BundleDagBag(dag_folder=dags, bundle_path=dags, bundle_name="dags-folder")
        print(json.dumps({"errors": bag.import_errors, "dags": sorted(bag.dags)}))
        """
    )
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/no/such/dir/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "PYTHONPATH": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", script, str(DAGS)],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"errors": {}, "dags": sorted(EXPECTED_DAGS)}
    assert not (tmp_path / "no").exists()
