"""The installed provider as Airflow's own CLI sees it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_hailuo.get_provider_info import get_provider_info

pytestmark = pytest.mark.integration
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def run_airflow(home: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    done = subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_provider_info_lists_everything() -> None:
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-hailuo"
    types = {c["connection-type"]: c for c in info["connection-types"]}
    assert set(types) == {"hailuo_minimax", "hailuo_dmxapi", "hailuo_modelverse"}
    assert types["hailuo_minimax"]["hook-class-name"] == "airflow_provider_hailuo.hooks.minimax.MiniMaxHook"
    assert "region" in types["hailuo_minimax"]["conn-fields"]
    assert "auth_scheme" in types["hailuo_dmxapi"]["conn-fields"]
    for conn in types.values():
        assert conn["ui-field-behaviour"]["relabeling"] == {"host": "Base URL", "password": "API key"}
    for key in ("hooks", "operators", "sensors", "triggers", "transfers"):
        assert info[key], key


def test_airflow_cli_lists_provider_and_accepts_conn_types(tmp_path: Path) -> None:
    assert "airflow-provider-hailuo" in run_airflow(tmp_path, "providers", "list")
    hooks = run_airflow(tmp_path, "providers", "hooks")
    for conn_type in ("hailuo_minimax", "hailuo_dmxapi", "hailuo_modelverse"):
        assert conn_type in hooks
    run_airflow(tmp_path, "db", "migrate")
    for conn_type in ("hailuo_minimax", "hailuo_dmxapi", "hailuo_modelverse"):
        run_airflow(tmp_path, "connections", "add", f"c_{conn_type}", "--conn-type", conn_type,
                    "--conn-password", "sk-cli", "--conn-host", "http://127.0.0.1:8089/x")
        got = json.loads(run_airflow(tmp_path, "connections", "get", f"c_{conn_type}", "-o", "json"))
        assert got[0]["conn_type"] == conn_type
