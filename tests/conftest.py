"""Shared test setup.

* Airflow gets its own temporary AIRFLOW_HOME (set before anything imports airflow), with
  SQLite, no examples and unit-test mode, so tests never touch a developer's Airflow.
* ``airflow_db``: a migrated metadata database, created once per session (for ``dag.test()``).
* ``emulator``: the vendor emulator on a free loopback port, fast generation, stopped after.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="hailuo-airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME / 'airflow.db'}"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_HOME / "dags")
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")

#: A distinctive key: tests search logs, XCom and errors for it to prove it never leaks.
EMULATOR_API_KEY = "sk-test-HAILUO-SECRET-7f3a9c"

#: Rendered MP4s are cached here across the session so each size renders once.
VIDEO_CACHE_DIR = Path(tempfile.gettempdir()) / "hailuo-emulator-test-videos"


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Create the Airflow metadata DB once (``airflow db migrate`` in-process)."""
    from airflow.utils.db import initdb

    initdb()
    return _HOME


@contextmanager
def running_emulator(generation_seconds: float = 0.3) -> Iterator[Any]:
    """The vendor emulator on a free loopback port with the test key and the shared video cache."""
    from airflow_provider_hailuo.emulator import EmulatorServer

    VIDEO_CACHE_DIR.mkdir(exist_ok=True)
    with EmulatorServer(host="127.0.0.1", port=0, api_key=EMULATOR_API_KEY, generation_seconds=generation_seconds,
                        video_cache_dir=str(VIDEO_CACHE_DIR)) as server:
        yield server


@pytest.fixture
def emulator() -> Iterator[Any]:
    with running_emulator() as server:
        yield server


def conn_env(conn_id: str, conn_type: str, host: str, password: str = EMULATOR_API_KEY,
             extra: dict[str, object] | None = None) -> tuple[str, str]:
    """An ``AIRFLOW_CONN_<ID>`` variable (name, JSON value) as a deployer would write it."""
    import json

    value = {"conn_type": conn_type, "host": host, "password": password}
    if extra:
        value["extra"] = extra
    return f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value)


@pytest.fixture
def vendor_conns(emulator: object, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Connections to the emulator for the three vendors; returns vendor -> conn id."""
    conns = {
        "minimax": ("hailuo_minimax_test", "hailuo_minimax", None),
        "dmxapi": ("hailuo_dmxapi_test", "hailuo_dmxapi", {"auth_scheme": "bearer"}),
        "modelverse": ("hailuo_modelverse_test", "hailuo_modelverse", None),
    }
    for vendor, (conn_id, conn_type, extra) in conns.items():
        name, value = conn_env(conn_id, conn_type, emulator.base_url(vendor), extra=extra)  # type: ignore[attr-defined]
        monkeypatch.setenv(name, value)
    return {vendor: conn_id for vendor, (conn_id, _, _) in conns.items()}
