"""A real Apache Airflow 3 stack in subprocesses, for end-to-end tests.

``AirflowStack`` starts ``airflow api-server``, ``scheduler``, ``dag-processor`` and ``triggerer``
as separate OS processes against a throw-away ``AIRFLOW_HOME`` (SQLite in WAL mode,
``LocalExecutor``, no examples, 1-2 s parsing and heartbeat intervals) and drives it only through
the public REST API (``/api/v2``, no token needed: ``SimpleAuthManager`` with
``simple_auth_manager_all_admins``), the way an operator would. Nothing here imports Airflow into
the test process. A start (``db migrate`` + four components + a DAG parsed) takes 15-25 s on two
cores; ``stop()`` 5-8 s (the scheduler lets its LocalExecutor workers finish).

Usage from a test (fixtures live in ``tests/e2e/conftest.py``)::

    import json, signal
    import pytest
    from tests.e2e.airflow_stack import AirflowStack

    pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

    DAG = '''
    from airflow.sdk import DAG
    from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
    with DAG("two_videos", schedule=None, catchup=False):
        HailuoGenerateVideoOperator.partial(task_id="generate", hailuo_conn_id="hailuo_minimax_e2e",
                                            ...).expand(prompt=["a heron", "rain"])
    '''

    @pytest.fixture(scope="module")
    def stack(module_airflow_stack_factory, emulator) -> AirflowStack:
        conn = {"conn_type": "hailuo_minimax", "host": emulator.base_url("minimax"), "password": KEY}
        return module_airflow_stack_factory(
            dag_files={"two_videos.py": DAG},            # written into a fresh dags folder
            extra_env={"AIRFLOW_CONN_HAILUO_MINIMAX_E2E": json.dumps(conn)},  # every component gets it
            wait_for_dags=["two_videos"],                # returns once the DAG is parsed
        )

    def test_survives_triggerer_sigkill(stack, emulator):
        run_id = stack.trigger("two_videos", conf={"k": "v"})  # unpause + POST dagRuns + start a watcher
        watcher = stack.watcher("two_videos", run_id)
        stack.wait_for_task_state("two_videos", run_id, "generate", "deferred", timeout=120)  # all map indexes
        stack.wait_until(lambda: all(watcher.triggerer_ids("generate", map_index=i) for i in (0, 1)),
                         timeout=60, what="both triggers held by the triggerer")
        stack.kill_component("triggerer", signal.SIGKILL)      # every process of it, at once
        new_job = stack.start_component("triggerer")           # waits for a new TriggererJob; returns it
        assert stack.wait_for_run("two_videos", run_id, timeout=180) == "success", stack.diagnostics()
        for i in (0, 1):
            assert watcher.triggerer_ids("generate", map_index=i)[-1] == new_job["id"]
            assert [t["try_number"] for t in stack.ti_tries("two_videos", run_id, "generate", i)] == [1]
        # ...then the emulator's request log: exactly one submit per map index.

Without the fixtures: ``with AirflowStack(home=tmp_path / "af", dags_folder=dags) as stack:``
(``start()`` on enter, ``stop()`` on exit), or ``AirflowStack(...).start(wait_for_dags=[...])``.

Timing rule for deferrable tasks (Airflow 3.3.2 race, see ``stale_defer_exit_failures``): make
triggers fire >= ~10-15 s after the task defers. A trigger that fires before the scheduler has
processed the deferring worker's exit gets the resumed task failed ("finished with state success,
but the task instance's state attribute is queued"); on a loaded 2-core machine that exit took up
to ~6 s. ``diagnostics()`` flags it when it happens. For a triggerer kill, the trigger must also
outlive ``[triggerer] triggerer_health_check_threshold`` (10 s here) after the kill, else it can
only be seen adopted in the trigger logs, not by the watcher.

What the stack gives you
------------------------
* ``trigger(dag_id, conf=None, run_id=None, watch=True) -> run_id``
* ``dag(dag_id)``, ``dag_run(dag_id, run_id)``, ``task_instances(dag_id, run_id)`` (all TIs, mapped
  ones with their ``map_index``; each has ``state``, ``try_number``, ``trigger.triggerer_id``...),
  ``task_instance(dag_id, run_id, task_id, map_index=-1)``, ``ti_tries(dag_id, run_id, task_id,
  map_index=-1)`` (the TI history, one entry per try), ``xcom(dag_id, run_id, task_id,
  key="return_value", map_index=-1)``, ``import_errors()``, ``health()``
* ``wait_for_dag(dag_id)``, ``wait_for_run(dag_id, run_id, timeout) -> "success" | "failed"``,
  ``wait_for_task_state(dag_id, run_id, task_id, state, timeout, map_index=None)`` (``None``: every
  expanded instance of a mapped task, or the one TI of a plain task; fails at once if a TI ends in
  another state), ``wait_until(predicate, timeout, what=...)``. Timeouts raise
  ``AirflowStackError`` with the TI table, watcher trails and component log tails.
* ``watch_states(dag_id, run_id)`` / ``watcher(dag_id, run_id)`` -> ``StateWatcher``: a thread that
  polls the run's TIs every 0.5 s and records each change per (task_id, map_index): ``states()``,
  ``saw()``, ``triggerer_ids()`` (triggerer jobs that held the TI's trigger), ``map_indexes()``,
  ``observations()``, ``summary()``. ``trigger()`` starts one; it stops when the run ends.
  ``states_seen(dag_id, run_id, task_id, map_index=None)`` is a shortcut.
* ``kill_component(name, sig=SIGKILL)``, ``start_component(name)`` (returns the new Job row),
  ``stop_component(name)``, ``is_running(name)``, ``pids(name)``; names: ``api-server``,
  ``scheduler``, ``dag-processor``, ``triggerer``. Each component runs with
  ``start_new_session=True``; a kill signals every live process of that session (so also the task
  runners Airflow moves into process groups of their own) and waits until none is left.
* ``logs(name)`` (the component's stdout+stderr, every start of it, in
  ``<home>/component_logs/<name>.log``; ``db-migrate`` too), ``log_tail(name, lines)``,
  ``task_log(dag_id, run_id, task_id, map_index=-1, try_number=None)`` and ``task_log_files(...)``
  (under ``<home>/logs``; the triggerer writes ``attempt=N.log.trigger.<job id>.log``),
  ``diagnostics()``, ``timings`` / ``startup_seconds``.
* ``api(method, path, **requests_kwargs)``, ``cli(*args)`` (``airflow ...`` against this home),
  ``env`` (the environment every component got), ``base_url``, ``home``.
* ``stop()``: SIGTERM to each component's process group, SIGKILL to whatever is left of its
  session after ``grace`` (15) seconds; idempotent; ``leftover_processes()`` is then empty. Also run
  at interpreter exit for stacks a test did not stop.

Environment: ``extra_env`` is added to every component's environment (connections as
``AIRFLOW_CONN_<ID>`` JSON). ``AIRFLOW_CONN_*`` / ``AIRFLOW_VAR_*`` already in ``os.environ`` at
start are inherited too (``inherit_connections=False`` to drop them), but ``AIRFLOW__*`` config
variables, ``AIRFLOW_HOME`` and ``AIRFLOW_CONFIG`` of the test process (``tests/conftest.py`` sets
unit-test mode) never are: configuration comes only from the ``<home>/airflow.cfg`` this class
writes, plus ``config={"section": {"key": "value"}}`` overrides. ``PYTHONPATH`` is the repository
root (so DAGs can import ``tests.*`` helpers as well as the editable-installed provider), then
``extra_pythonpath``, then any inherited ``PYTHONPATH``.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import weakref
from base64 import urlsafe_b64encode
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

COMPONENTS: tuple[str, ...] = ("api-server", "dag-processor", "scheduler", "triggerer")
#: ``job_type`` of the Job row each long-running component writes (checked to know it is up).
JOB_TYPES: dict[str, str] = {
    "scheduler": "SchedulerJob",
    "triggerer": "TriggererJob",
    "dag-processor": "DagProcessorJob",
}
#: A component whose environment sets this reports it as its host name (``[core] hostname_callable``
#: of the distributed stack), so two triggerers on one machine are told apart in Job rows and TIs.
HOSTNAME_ENV = "HAILUO_E2E_HOSTNAME"
TERMINAL_RUN_STATES = frozenset({"success", "failed"})
TERMINAL_TI_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})

_CONFIG_ENV_PREFIXES = ("AIRFLOW__", "_AIRFLOW")
_CONFIG_ENV_NAMES = ("AIRFLOW_HOME", "AIRFLOW_CONFIG")
_CONN_ENV_PREFIXES = ("AIRFLOW_CONN_", "AIRFLOW_VAR_")

_SQLITE_SETTINGS_MODULE = "_e2e_sqlite_settings"
_SQLITE_SETTINGS_SOURCE = '''"""Written by tests/e2e/airflow_stack.py: SQLite connect args for the e2e Airflow stack.

Several Airflow processes share one SQLite file; wait for a lock instead of failing at once.
"""

CONNECT_ARGS = {"timeout": 60}
CONNECT_ARGS_ASYNC = {"timeout": 60}
'''


class AirflowStackError(RuntimeError):
    """The stack did not come up or did not reach the state a test waited for."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- processes (Linux /proc)


def _proc_stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, pgrp, session) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name is in parentheses and may hold spaces: split after the last ')'.
    rest = raw[raw.rindex(")") + 2 :].split()
    return rest[0], int(rest[1]), int(rest[2]), int(rest[3])


def session_members(sid: int) -> list[int]:
    """Live (non-zombie) pids whose session id is ``sid``."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _proc_stat(int(entry))
        if stat is not None and stat[3] == sid and stat[0] not in ("Z", "X"):
            pids.append(int(entry))
    return pids


def _signal_pids(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"<{path} does not exist>"
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------- state watcher


@dataclass
class Observation:
    """One change seen by a watcher on one task instance."""

    at: float  # time.monotonic()
    state: str | None
    try_number: int
    triggerer_id: int | None  # the triggerer job holding this TI's trigger, when deferred


@dataclass
class StateWatcher:
    """Polls one run's task instances in a thread and records every change per (task_id, map_index).

    A TI that is ``deferred`` for longer than ``interval`` is always caught; for ``success`` /
    ``failed`` of a run the watcher makes one last poll and stops by itself.
    """

    stack: AirflowStack
    dag_id: str
    run_id: str
    interval: float = 0.5
    history: dict[tuple[str, int], list[Observation]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    run_state: str | None = None
    polls: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._loop, name=f"e2e-watch-{self.dag_id}-{self.run_id}", daemon=True
        )

    def start(self) -> StateWatcher:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> StateWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def poll_once(self) -> None:
        tis = self.stack.task_instances(self.dag_id, self.run_id)
        now = time.monotonic()
        with self._lock:
            self.polls += 1
            for ti in tis:
                trigger = ti.get("trigger") or {}
                obs = Observation(now, ti.get("state"), int(ti.get("try_number") or 0),
                                  trigger.get("triggerer_id"))
                seq = self.history.setdefault((ti["task_id"], int(ti["map_index"])), [])
                last = seq[-1] if seq else None
                if last is None or (last.state, last.try_number, last.triggerer_id) != (
                    obs.state, obs.try_number, obs.triggerer_id
                ):
                    seq.append(obs)

    def _all_finished(self) -> bool:
        with self._lock:
            return bool(self.history) and all(
                seq[-1].state in TERMINAL_TI_STATES or (m < 0 and any(t == task and i >= 0 for t, i in self.history))
                for (task, m), seq in self.history.items()
            )

    def _loop(self) -> None:
        n = 0
        while not self._stop.is_set():
            try:
                self.poll_once()
                n += 1
                # The run's own state is read less often (every ~2 s, or once every TI is done):
                # each request costs the api-server CPU that the stack under test needs.
                if n % max(1, round(2 / self.interval)) == 0 or self._all_finished():
                    self.run_state = self.stack.dag_run(self.dag_id, self.run_id).get("state")
                    if self.run_state in TERMINAL_RUN_STATES:
                        self.poll_once()  # the final TI states, written before the run's
                        return
            except Exception as exc:  # the API can be briefly slow under load; keep watching
                self.errors.append(f"{type(exc).__name__}: {exc}")
                if len(self.errors) > 1000:
                    del self.errors[:500]
            self._stop.wait(self.interval)

    # -- reading
    def observations(self, task_id: str, map_index: int | None = None) -> list[Observation]:
        """Every change seen for a task, in order; ``map_index=None`` merges all its map indexes."""
        with self._lock:
            if map_index is not None:
                return list(self.history.get((task_id, map_index), []))
            merged = [o for (t, _), seq in self.history.items() if t == task_id for o in seq]
        return sorted(merged, key=lambda o: o.at)

    def states(self, task_id: str, map_index: int | None = None) -> list[str | None]:
        """The distinct states in the order first seen."""
        out: list[str | None] = []
        for obs in self.observations(task_id, map_index):
            if obs.state not in out:
                out.append(obs.state)
        return out

    def saw(self, task_id: str, state: str, map_index: int | None = None) -> bool:
        return state in self.states(task_id, map_index)

    def triggerer_ids(self, task_id: str, map_index: int | None = None) -> list[int]:
        """Triggerer job ids that held this task's trigger, in order first seen."""
        out: list[int] = []
        for obs in self.observations(task_id, map_index):
            if obs.triggerer_id is not None and obs.triggerer_id not in out:
                out.append(obs.triggerer_id)
        return out

    def map_indexes(self, task_id: str) -> list[int]:
        with self._lock:
            return sorted(m for (t, m) in self.history if t == task_id)

    def summary(self) -> str:
        lines = [f"watcher {self.dag_id}/{self.run_id}: run_state={self.run_state} polls={self.polls}"
                 f" errors={len(self.errors)}"]
        with self._lock:
            for (task_id, map_index), seq in sorted(self.history.items()):
                trail = " -> ".join(
                    f"{o.state}(try {o.try_number}{f', triggerer {o.triggerer_id}' if o.triggerer_id else ''})"
                    for o in seq
                )
                lines.append(f"  {task_id}[{map_index}]: {trail}")
        if self.errors:
            lines.append(f"  last error: {self.errors[-1]}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- the stack


@dataclass
class _Component:
    name: str
    argv: list[str]
    log_path: Path
    #: Added to the stack's environment for this component only (e.g. its host name).
    env: dict[str, str] = field(default_factory=dict)
    #: Extra ``subprocess.Popen`` keywords (e.g. ``user=`` for a server that refuses root).
    popen: dict[str, Any] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    expected_up: bool = False  # False after stop/kill: its death is not an error
    started_at: float = 0.0


class AirflowStack:
    """A real Airflow (api-server, scheduler, dag-processor, triggerer) on a temporary home."""

    #: Names ``components=`` and ``start_component`` accept.
    known_components: tuple[str, ...] = COMPONENTS

    def __init__(
        self,
        home: str | os.PathLike[str],
        dags_folder: str | os.PathLike[str],
        *,
        extra_env: Mapping[str, str] | None = None,
        config: Mapping[str, Mapping[str, str]] | None = None,
        extra_pythonpath: Sequence[str | os.PathLike[str]] = (),
        components: Sequence[str] = COMPONENTS,
        api_port: int | None = None,
        inherit_connections: bool = True,
        startup_timeout: float = 120.0,
        request_timeout: float = 30.0,
        grace: float = 15.0,
        sqlite_wal: bool = True,
    ) -> None:
        unknown = set(components) - set(self.known_components)
        if unknown:
            raise ValueError(f"unknown components {sorted(unknown)}; known: {self.known_components}")
        self.home = Path(home).resolve()
        self.dags_folder = Path(dags_folder).resolve()
        self.extra_env = dict(extra_env or {})
        self.config_overrides = {s: dict(kv) for s, kv in (config or {}).items()}
        self.extra_pythonpath = [str(Path(p).resolve()) for p in extra_pythonpath]
        self.component_names = tuple(components)
        self.api_port = api_port or free_port()
        self.inherit_connections = inherit_connections
        self.startup_timeout = startup_timeout
        self.request_timeout = request_timeout
        self.grace = grace
        self.sqlite_wal = sqlite_wal
        self.repo_root = Path(__file__).resolve().parents[2]
        self.log_dir = self.home / "component_logs"
        self.db_path = self.home / "airflow.db"
        self.startup_seconds: float | None = None
        self._components: dict[str, _Component] = {}
        self._sessions: list[int] = []  # every session (process) this stack ever started
        self._watchers: dict[tuple[str, str], StateWatcher] = {}
        self._local = threading.local()  # one requests.Session per thread (watchers poll in threads)
        self._http_sessions: list[requests.Session] = []
        self.timings: dict[str, float] = {}  # seconds from start(): migrated, api_up, jobs_up, dags_parsed
        self._started = False
        self._stopped = False
        self.env: dict[str, str] = {}
        _LIVE_STACKS.add(self)

    # ------------------------------------------------------------------ config
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v2"

    def _airflow_argv(self) -> list[str]:
        script = Path(sys.executable).parent / "airflow"
        if script.exists():
            return [str(script)]
        return [sys.executable, "-m", "airflow"]

    def _config(self) -> dict[str, dict[str, str]]:
        from cryptography.fernet import Fernet  # an Airflow dependency

        cfg: dict[str, dict[str, str]] = {
            "core": {
                "dags_folder": str(self.dags_folder),
                "executor": "LocalExecutor",
                "load_examples": "False",
                "unit_test_mode": "False",
                "auth_manager": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
                # Everyone is admin: the SimpleAllAdminMiddleware adds a token to every request.
                "simple_auth_manager_all_admins": "True",
                "simple_auth_manager_passwords_file": str(self.home / "simple_auth_manager_passwords.json"),
                "execution_api_server_url": f"{self.base_url}/execution/",
                "fernet_key": Fernet.generate_key().decode(),
                "dags_are_paused_at_creation": "True",
                "dagbag_import_timeout": "60",
            },
            "database": {
                "sql_alchemy_conn": f"sqlite:///{self.db_path}",
                "sql_alchemy_connect_args": f"{_SQLITE_SETTINGS_MODULE}.CONNECT_ARGS",
                "sql_alchemy_connect_args_async": f"{_SQLITE_SETTINGS_MODULE}.CONNECT_ARGS_ASYNC",
            },
            "api": {
                "host": "127.0.0.1",
                "port": str(self.api_port),
                "base_url": self.base_url,
                "workers": "1",
                "secret_key": secrets.token_urlsafe(24),
                "expose_config": "True",
            },
            "api_auth": {
                # Scheduler signs task tokens, api-server checks them: one shared secret.
                "jwt_secret": urlsafe_b64encode(secrets.token_bytes(64)).decode(),  # >= 64 bytes for HS512
            },
            "logging": {
                "base_log_folder": str(self.home / "logs"),
                "logging_level": "INFO",
                "colored_console_log": "False",
            },
            "scheduler": {
                "scheduler_heartbeat_sec": "1",
                "scheduler_idle_sleep_time": "0.5",
                "catchup_by_default": "False",
                "trigger_timeout_check_interval": "5",
            },
            "dag_processor": {
                "refresh_interval": "2",  # look for new files in the dags folder every 2 s
                "min_file_process_interval": "2",  # re-parse a file at most every 2 s
                "bundle_refresh_check_interval": "1",
                "parsing_processes": "1",
                "dag_bundle_storage_path": str(self.home / "dag_bundles"),
                "print_stats_interval": "300",
            },
            "triggerer": {
                "job_heartbeat_sec": "1",
                # A SIGKILLed triggerer's triggers go to a live one once its heartbeat is this old
                # (read with getint: it must be an integer string).
                "triggerer_health_check_threshold": "10",
            },
        }
        for section, values in self.config_overrides.items():
            cfg.setdefault(section, {}).update(values)
        return cfg

    def _write_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        (self.home / "logs").mkdir(exist_ok=True)
        pydir = self.home / "pythonpath"
        pydir.mkdir(exist_ok=True)
        (pydir / f"{_SQLITE_SETTINGS_MODULE}.py").write_text(_SQLITE_SETTINGS_SOURCE)
        lines = ["# Written by tests/e2e/airflow_stack.py", ""]
        for section, values in self._config().items():
            lines.append(f"[{section}]")
            lines += [f"{key} = {value}" for key, value in values.items()]
            lines.append("")
        cfg_path = self.home / "airflow.cfg"
        cfg_path.write_text("\n".join(lines))
        cfg_path.chmod(0o600)

    def _build_env(self) -> dict[str, str]:
        env = {}
        for key, value in os.environ.items():
            if key.startswith(_CONFIG_ENV_PREFIXES) or key in _CONFIG_ENV_NAMES:
                continue
            if key.startswith(_CONN_ENV_PREFIXES) and not self.inherit_connections:
                continue
            if key.startswith("PYTEST_"):
                continue
            env[key] = value
        pythonpath = [str(self.home / "pythonpath"), str(self.repo_root), *self.extra_pythonpath]
        if env.get("PYTHONPATH"):
            pythonpath.append(env["PYTHONPATH"])
        venv_bin = str(Path(sys.executable).parent)
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW_CONFIG=str(self.home / "airflow.cfg"),
            PYTHONPATH=os.pathsep.join(pythonpath),
            PYTHONUNBUFFERED="1",
            PATH=os.pathsep.join([venv_bin, env.get("PATH", "")]),
            NO_COLOR="1",
        )
        env.update(self.extra_env)
        return env

    # ------------------------------------------------------------------ lifecycle
    def start(self, wait_for_dags: Iterable[str] = ()) -> AirflowStack:
        """Write the home, migrate the DB, start every component and wait until it is usable."""
        if self._started:
            raise AirflowStackError("start() called twice")
        self._started = True
        t0 = time.monotonic()
        self._write_home()
        self.env = self._build_env()
        api_ok = False
        try:
            self._start_services()
            self._migrate()
            self.timings["migrated"] = time.monotonic() - t0
            for attempt in range(3):
                for name in self.component_names:
                    self.start_component(name, wait=False)
                if "api-server" not in self.component_names:
                    api_ok = True
                    break
                try:
                    self._wait_api_up(time.monotonic() + self.startup_timeout)
                    api_ok = True
                    break
                except AirflowStackError:
                    if attempt < 2 and "address already in use" in self.logs("api-server").lower():
                        # Another process took the port between free_port() and bind: new port.
                        airflow = [c for c in self._components.values() if c.name not in self.service_names]
                        self._terminate(airflow)
                        for comp in airflow:
                            del self._components[comp.name]
                        self.api_port = free_port()
                        self._write_home()
                        self.env = self._build_env()
                        continue
                    raise
            assert api_ok
            self.timings["api_up"] = time.monotonic() - t0
            deadline = time.monotonic() + self.startup_timeout
            for name in self.component_names:
                if name != "api-server":
                    self._wait_component_up(name, set(), deadline)
            self.timings["jobs_up"] = time.monotonic() - t0
            for dag_id in wait_for_dags:
                self.wait_for_dag(dag_id, timeout=max(5.0, deadline - time.monotonic()))
            self.timings["dags_parsed"] = time.monotonic() - t0
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def _start_services(self) -> None:
        """Start what Airflow needs before ``db migrate`` (nothing here: SQLite is a file)."""

    #: Components that other components depend on (databases, brokers): stopped last.
    service_names: tuple[str, ...] = ()

    def __enter__(self) -> AirflowStack:
        if not self._started:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _migrate(self) -> None:
        log = self.log_dir / "db-migrate.log"
        with open(log, "ab") as out:
            try:
                result = subprocess.run(
                    [*self._airflow_argv(), "db", "migrate"], env=self.env, cwd=self.home,
                    stdout=out, stderr=subprocess.STDOUT, timeout=self.startup_timeout,
                    start_new_session=True, check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise AirflowStackError(
                    f"`airflow db migrate` took over {self.startup_timeout}s\n{_tail(log, 80)}"
                ) from exc
        if result.returncode != 0:
            raise AirflowStackError(
                f"`airflow db migrate` failed with exit code {result.returncode}:\n{_tail(log, 80)}"
            )
        if self.sqlite_wal:
            # WAL is a property of the database file: set once, every process uses it. Readers
            # (the API, the watchers) then never block the scheduler's writes.
            with closing(sqlite3.connect(self.db_path)) as db:
                mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise AirflowStackError(f"could not switch {self.db_path} to WAL (journal_mode={mode})")

    def _component(self, name: str) -> _Component:
        comp = self._components.get(name)
        if comp is None:
            comp = self._make_component(name)
            self._components[name] = comp
        return comp

    def _make_component(self, name: str) -> _Component:
        """How to run one named component (subclasses add their own names)."""
        if name not in COMPONENTS:
            raise ValueError(f"unknown component {name!r}; known: {COMPONENTS}")
        args = {
            "api-server": ["api-server", "--host", "127.0.0.1", "--port", str(self.api_port),
                           "--workers", "1"],
            # No log-serving side process (it would bind fixed ports 8793/8794); logs are
            # read from the files under <home>/logs.
            "scheduler": ["scheduler", "--skip-serve-logs"],
            "triggerer": ["triggerer", "--skip-serve-logs"],
            "dag-processor": ["dag-processor"],
        }[name]
        return _Component(name, [*self._airflow_argv(), *args], self.log_dir / f"{name}.log")

    def _job_type(self, name: str) -> str | None:
        """The ``job_type`` of the Job row the component writes, or None (api-server, servers)."""
        return JOB_TYPES.get(name)

    def _wait_component_up(self, name: str, known_jobs: set[int], deadline: float) -> dict[str, Any] | None:
        """Wait until a just-started component is usable; its new Job row when it writes one."""
        if name == "api-server":
            self._wait_api_up(deadline)
            return None
        if self._job_type(name):
            return self._wait_job_up(name, known_jobs, deadline)
        return None

    def start_component(self, name: str, *, wait: bool = True,
                        timeout: float | None = None) -> dict[str, Any] | None:
        """Start (or restart after a kill) one component; with ``wait`` until it is up.

        Up means: the api-server answers ``/api/v2/monitor/health``; any other component has
        written a new ``running`` Job row (e.g. a new ``TriggererJob``) to the database. Returns
        that Job (as the REST API shows it: ``id``, ``hostname``, ``latest_heartbeat``...) when
        waited for, else None.
        """
        if self._stopped:
            raise AirflowStackError("the stack was stopped")
        comp = self._component(name)
        if comp.proc is not None and comp.proc.poll() is None:
            raise AirflowStackError(f"{name} is already running (pid {comp.proc.pid})")
        known_jobs = self._job_ids(name) if (wait and self._job_type(name)) else set()
        comp.starts += 1
        with open(comp.log_path, "ab") as out:
            out.write(
                f"\n===== e2e harness: start #{comp.starts} of {name} at {time.strftime('%H:%M:%S')}: "
                f"{' '.join(comp.argv)} =====\n".encode()
            )
            out.flush()
            comp.proc = subprocess.Popen(
                comp.argv, **{"cwd": self.home, **comp.popen}, env={**self.env, **comp.env}, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        self._sessions.append(comp.proc.pid)
        comp.started_at = time.monotonic()
        comp.expected_up = True
        if wait:
            return self._wait_component_up(name, known_jobs, time.monotonic() + (timeout or self.startup_timeout))
        return None

    def pids(self, name: str) -> list[int]:
        """Every live process of a component (its whole session: workers, task runners, ...)."""
        comp = self._components.get(name)
        if comp is None or comp.proc is None:
            return []
        return session_members(comp.proc.pid)

    def leftover_processes(self) -> list[str]:
        """``pid cmdline`` of every live process of any session this stack ever started."""
        return [f"{pid} {_cmdline(pid)}" for sid in self._sessions for pid in session_members(sid)]

    def is_running(self, name: str) -> bool:
        comp = self._components.get(name)
        return comp is not None and comp.proc is not None and comp.proc.poll() is None

    def kill_component(self, name: str, sig: int = signal.SIGKILL, timeout: float = 20.0) -> None:
        """Send ``sig`` to every process of the component at once, as if its machine died.

        Waits until the component's main process has exited; for SIGKILL also until no process
        of its session is left.
        """
        comp = self._component(name)
        if comp.proc is None:
            raise AirflowStackError(f"{name} was never started")
        comp.expected_up = False
        sid = comp.proc.pid
        try:
            os.killpg(sid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        _signal_pids(session_members(sid), sig)
        deadline = time.monotonic() + timeout
        try:
            comp.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired as exc:
            raise AirflowStackError(f"{name} (pid {sid}) did not exit within {timeout}s of {sig!r}") from exc
        if sig == signal.SIGKILL:
            while (left := session_members(sid)) and time.monotonic() < deadline:
                _signal_pids(left, signal.SIGKILL)
                time.sleep(0.05)
            if left:
                raise AirflowStackError(
                    f"{name}: processes survived SIGKILL: " + "; ".join(f"{p} {_cmdline(p)}" for p in left))

    def stop_component(self, name: str) -> None:
        """Stop one component gracefully (SIGTERM, then SIGKILL after ``grace``)."""
        comp = self._components.get(name)
        if comp is not None:
            self._terminate([comp])

    def stop(self) -> None:
        """Stop every watcher and every process this stack started. Safe to call repeatedly."""
        self._stopped = True
        for watcher in list(self._watchers.values()):
            watcher.stop(timeout=2)
        comps = list(self._components.values())
        self._terminate([c for c in comps if c.name not in self.service_names])
        self._terminate([c for c in comps if c.name in self.service_names])
        for http in self._http_sessions:
            http.close()
        _LIVE_STACKS.discard(self)

    def _terminate(self, comps: list[_Component]) -> None:
        live = [c for c in comps if c.proc is not None]
        for comp in live:
            comp.expected_up = False
            if comp.proc is not None and comp.proc.poll() is None:
                try:
                    os.killpg(comp.proc.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    pass
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline:
            if all(c.proc is None or (c.proc.poll() is not None and not session_members(c.proc.pid))
                   for c in live):
                break
            time.sleep(0.1)
        for comp in live:
            assert comp.proc is not None
            sid = comp.proc.pid
            for _ in range(50):
                left = session_members(sid)
                if not left:
                    break
                _signal_pids(left, signal.SIGKILL)
                time.sleep(0.05)
            try:
                comp.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    # ------------------------------------------------------------------ REST
    @property
    def _http(self) -> requests.Session:
        http = getattr(self._local, "session", None)
        if http is None:
            http = self._local.session = requests.Session()
            self._http_sessions.append(http)
        return http

    def api(self, method: str, path: str, *, ok: Iterable[int] = (200, 201, 204), **kwargs: Any) -> Any:
        """Call ``/api/v2{path}``; returns the decoded JSON (None for an empty body)."""
        kwargs.setdefault("timeout", self.request_timeout)
        url = path if path.startswith("http") else f"{self.api_url}{path}"
        resp = self._http.request(method, url, **kwargs)
        if resp.status_code not in set(ok):
            raise AirflowStackError(f"{method} {url} -> HTTP {resp.status_code}: {resp.text[:2000]}")
        if not resp.content:
            return None
        return resp.json()

    def health(self) -> dict[str, Any]:
        return self.api("GET", "/monitor/health", timeout=5)

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        resp = self._http.get(f"{self.api_url}/dags/{dag_id}", timeout=self.request_timeout)
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise AirflowStackError(f"GET /dags/{dag_id} -> HTTP {resp.status_code}: {resp.text[:2000]}")
        return resp.json()

    def import_errors(self) -> list[dict[str, Any]]:
        return list(self.api("GET", "/importErrors", params={"limit": 100}).get("import_errors", []))

    def wait_for_dag(self, dag_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Wait until the dag-processor has parsed ``dag_id`` (GET /dags/{dag_id} answers 200)."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            dag = self._safe(lambda: self.dag(dag_id), None)
            if dag is not None:
                return dag
            errors = [e for e in self._safe(self.import_errors, []) if self._mentions_dags_folder(e)]
            if errors:
                details = "\n\n".join(f"{e.get('filename')}:\n{e.get('stack_trace')}" for e in errors)
                raise AirflowStackError(f"DAG {dag_id!r}: import errors in the dags folder:\n{details}")
            if time.monotonic() > deadline:
                files = sorted(p.name for p in self.dags_folder.glob("*.py"))
                raise AirflowStackError(
                    f"DAG {dag_id!r} not parsed within {timeout}s (dags folder {self.dags_folder} holds "
                    f"{files})\n" + self.diagnostics(["dag-processor"])
                )
            time.sleep(0.5)

    def _mentions_dags_folder(self, err: dict[str, Any]) -> bool:
        name = str(err.get("filename") or "")
        return name.startswith(str(self.dags_folder)) or not name.startswith("/")

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None, *, run_id: str | None = None,
                watch: bool = True) -> str:
        """Unpause ``dag_id`` and create a manual run; returns its run id.

        With ``watch`` a background ``StateWatcher`` records every TI state of the run from the
        first moment (read it with ``states_seen`` / ``watcher``).
        """
        self.wait_for_dag(dag_id, timeout=self.startup_timeout)
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        body: dict[str, Any] = {"logical_date": None, "conf": dict(conf or {})}
        if run_id:
            body["dag_run_id"] = run_id
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", json=body)
        new_run_id = str(run["dag_run_id"])
        if watch:
            self.watch_states(dag_id, new_run_id)
        return new_run_id

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every TI of the run (mapped ones too, one per ``map_index``), sorted by task and index."""
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                            params={"limit": 100, "offset": offset})
            batch = list(page.get("task_instances", []))
            out += batch
            offset += len(batch)
            if not batch or offset >= int(page.get("total_entries") or 0):
                break
        return sorted(out, key=lambda ti: (ti["task_id"], ti["map_index"]))

    def task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        if map_index >= 0:
            path += f"/{map_index}"
        return self.api("GET", path)

    def ti_tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[dict[str, Any]]:
        """The TI's history: one entry per try (earlier tries from task_instance_history)."""
        page = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/tries")
        return list(page.get("task_instances", []))

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value",
             map_index: int = -1) -> Any:
        """An XCom value, deserialized by the api-server."""
        entry = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
                         params={"map_index": map_index, "deserialize": "true", "stringify": "false"})
        return entry.get("value")

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 120.0) -> str:
        """Wait for the run to finish; returns ``success`` or ``failed`` (raises on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            state = self._safe(lambda: self.dag_run(dag_id, run_id).get("state"), None)
            if state in TERMINAL_RUN_STATES:
                watcher = self._watchers.get((dag_id, run_id))
                if watcher is not None:
                    watcher.stop()
                    self._safe(watcher.poll_once, None)
                return str(state)
            self._check_alive()
            if time.monotonic() > deadline:
                raise AirflowStackError(
                    f"run {dag_id}/{run_id} still {state!r} after {timeout}s\n"
                    + self._ti_table(dag_id, run_id) + "\n" + self.diagnostics()
                )
            time.sleep(0.5)

    def wait_for_task_state(self, dag_id: str, run_id: str, task_id: str, state: str | None,
                            timeout: float = 60.0, map_index: int | None = None) -> list[dict[str, Any]]:
        """Wait until the task's TI(s) are in ``state`` now; returns those TIs.

        ``map_index=None``: every expanded instance of a mapped task (none left unexpanded), or the
        one TI of a plain task. Fails at once when a TI is finished in another state, or the run is.
        """
        deadline = time.monotonic() + timeout
        while True:
            tis = self._safe(lambda: self.task_instances(dag_id, run_id), None)
            if tis is not None:
                mine = [t for t in tis if t["task_id"] == task_id]
                if map_index is not None:
                    mine = [t for t in mine if t["map_index"] == map_index]
                elif any(t["map_index"] >= 0 for t in mine):
                    mine = [t for t in mine if t["map_index"] >= 0]
                if mine and all(t["state"] == state for t in mine):
                    return mine
                stuck = [t for t in mine if t["state"] in TERMINAL_TI_STATES and t["state"] != state]
                if stuck:
                    raise AirflowStackError(
                        f"waiting for {task_id} to be {state!r}, but "
                        + ", ".join(f"[{t['map_index']}] is {t['state']}" for t in stuck) + "\n"
                        + self._ti_table(dag_id, run_id) + "\n" + self.diagnostics()
                    )
            self._check_alive()
            if time.monotonic() > deadline:
                raise AirflowStackError(
                    f"{dag_id}/{run_id}/{task_id} not {state!r} within {timeout}s\n"
                    + self._ti_table(dag_id, run_id) + "\n" + self.diagnostics()
                )
            time.sleep(0.5)

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.25,
                   what: str = "condition") -> Any:
        """Poll ``predicate`` until truthy (returns it); fails with the diagnostics on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = self._safe(predicate, None)
            if value:
                return value
            self._check_alive()
            if time.monotonic() > deadline:
                raise AirflowStackError(f"{what} not met within {timeout}s\n" + self.diagnostics())
            time.sleep(interval)

    # ------------------------------------------------------------------ watching states
    def watch_states(self, dag_id: str, run_id: str, interval: float = 0.5) -> StateWatcher:
        """Start (or return the running) background watcher of one run."""
        key = (dag_id, run_id)
        watcher = self._watchers.get(key)
        if watcher is None:
            watcher = StateWatcher(self, dag_id, run_id, interval=interval).start()
            self._watchers[key] = watcher
        return watcher

    def watcher(self, dag_id: str, run_id: str) -> StateWatcher:
        try:
            return self._watchers[(dag_id, run_id)]
        except KeyError:
            raise AirflowStackError(f"no watcher for {dag_id}/{run_id}: trigger(watch=True) or "
                                    "watch_states() first") from None

    def states_seen(self, dag_id: str, run_id: str, task_id: str, map_index: int | None = None) -> list[str | None]:
        """Distinct states the watcher saw for a task (all map indexes when ``map_index=None``)."""
        return self.watcher(dag_id, run_id).states(task_id, map_index)

    # ------------------------------------------------------------------ logs
    def logs(self, name: str) -> str:
        """A component's stdout+stderr so far (every start of it), or the db-migrate output."""
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_tail(self, name: str, lines: int = 60) -> str:
        return _tail(self.log_dir / f"{name}.log", lines)

    def task_log_files(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1,
                       try_number: int | None = None) -> list[Path]:
        base = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        if map_index >= 0:
            base = base / f"map_index={map_index}"
        pattern = f"attempt={try_number}.log*" if try_number is not None else "attempt=*"
        return sorted(p for p in base.glob(pattern) if p.is_file())

    def task_log(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1,
                 try_number: int | None = None) -> str:
        """The task's log files under <home>/logs (worker and trigger parts), concatenated."""
        parts = []
        for path in self.task_log_files(dag_id, run_id, task_id, map_index, try_number):
            parts.append(f"===== {path.relative_to(self.home / 'logs')} =====\n"
                         + path.read_text(errors="replace"))
        return "\n".join(parts)

    # ------------------------------------------------------------------ misc
    def cli(self, *args: str, timeout: float = 120.0, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``airflow <args>`` against this stack's home (e.g. ``cli("connections", "list")``)."""
        result = subprocess.run([*self._airflow_argv(), *args], env=self.env, cwd=self.home,
                                capture_output=True, text=True, timeout=timeout, check=False,
                                start_new_session=True)
        if check and result.returncode != 0:
            raise AirflowStackError(f"airflow {' '.join(args)} -> exit {result.returncode}\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def stale_defer_exit_failures(self) -> list[str]:
        """Scheduler log lines where Airflow failed a TI over a stale executor event.

        Airflow 3.3.2 race (apache/airflow#67287, #71580, #72716; only the ``scheduled`` case was
        fixed, by #66431): a task defers, its trigger fires and the TI is queued or running again
        before the scheduler has drained the executor's ``success`` event for the worker that
        deferred; the scheduler then sees "finished with state success, but the task instance's
        state attribute is queued" and fails the task. The window is the worker's exit after
        ``defer()``, seconds on a loaded machine: triggers that fire within ~10 s of deferring
        can hit it.
        """
        marker = "but the task instance's state attribute is"
        return [line for line in self.logs("scheduler").splitlines() if marker in line]

    def diagnostics(self, components: Iterable[str] | None = None, lines: int = 40) -> str:
        """Which components are alive, every watcher's trail and the tail of component logs."""
        names = list(components) if components is not None else list(self._components)
        out = [f"AIRFLOW_HOME={self.home} api={self.base_url}"]
        stale = self.stale_defer_exit_failures()
        if stale:
            out.append("NOTE: the scheduler failed task(s) on a stale executor event after a deferral "
                       "(Airflow race, see AirflowStack.stale_defer_exit_failures):")
            out += [f"  {line[:400]}" for line in stale]
        for name, comp in self._components.items():
            rc = comp.proc.poll() if comp.proc is not None else None
            status = "never started" if comp.proc is None else (
                "running" if rc is None else f"exited with {rc}")
            out.append(f"  {name}: {status} (pid {comp.proc.pid if comp.proc else '-'},"
                       f" starts {comp.starts}, {len(self.pids(name))} processes)")
        for watcher in self._watchers.values():
            out.append(watcher.summary())
        for name in names:
            out.append(f"----- last {lines} lines of {self.log_dir / (name + '.log')} -----")
            out.append(self.log_tail(name, lines))
        return "\n".join(out)

    def _ti_table(self, dag_id: str, run_id: str) -> str:
        tis = self._safe(lambda: self.task_instances(dag_id, run_id), None)
        if tis is None:
            return "(task instances unavailable)"
        return "task instances:\n" + "\n".join(
            f"  {t['task_id']}[{t['map_index']}] state={t['state']} try={t['try_number']}" for t in tis)

    @staticmethod
    def _safe(fn: Callable[[], Any], default: Any) -> Any:
        try:
            return fn()
        except (requests.RequestException, AirflowStackError, ValueError, KeyError):
            return default

    def _check_alive(self) -> None:
        for comp in self._components.values():
            if comp.expected_up and comp.proc is not None and comp.proc.poll() is not None:
                comp.expected_up = False
                raise AirflowStackError(
                    f"{comp.name} exited unexpectedly with code {comp.proc.returncode}\n"
                    + self.diagnostics([comp.name], lines=80)
                )

    def _wait_api_up(self, deadline: float) -> None:
        while True:
            self._check_alive()
            try:
                if self._http.get(f"{self.api_url}/monitor/health", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise AirflowStackError(f"api-server did not answer {self.api_url}/monitor/health\n"
                                        + self.diagnostics(["api-server"], lines=80))
            time.sleep(0.25)

    def _jobs(self, name: str) -> list[dict[str, Any]]:
        page = self.api("GET", "/jobs", params={"job_type": self._job_type(name), "limit": 100,
                                                 "order_by": "-id"})
        return list(page.get("jobs", []))

    def _job_ids(self, name: str) -> set[int]:
        return {int(j["id"]) for j in self._safe(lambda: self._jobs(name), [])}

    def _wait_job_up(self, name: str, known: set[int], deadline: float) -> dict[str, Any]:
        """Wait for a new running Job row of the component, with a heartbeat."""
        while True:
            self._check_alive()
            jobs = self._safe(lambda: self._jobs(name), [])
            hostname = self._components[name].env.get(HOSTNAME_ENV) if name in self._components else None
            fresh = [j for j in jobs if int(j["id"]) not in known and j.get("state") == "running"
                     and j.get("latest_heartbeat") and (hostname is None or j.get("hostname") == hostname)]
            if fresh:
                return fresh[0]
            if time.monotonic() > deadline:
                raise AirflowStackError(f"{name} wrote no new running {self._job_type(name)} in time\n"
                                        + self.diagnostics([name], lines=80))
            time.sleep(0.25)


# Stacks not stopped by their test (interrupted runs) are stopped when the interpreter exits.
_LIVE_STACKS: weakref.WeakSet[AirflowStack] = weakref.WeakSet()


@atexit.register
def _stop_leftover_stacks() -> None:
    for stack in list(_LIVE_STACKS):
        try:
            stack.stop()
        except Exception:  # noqa: BLE001, S110 - best effort at interpreter exit
            pass


def process_report() -> str:
    """``ps`` lines of every ``airflow`` process on the machine (for leak checks)."""
    if shutil.which("ps") is None:
        return ""
    out = subprocess.run(["ps", "-eo", "pid,pgid,sid,stat,args"], capture_output=True, text=True, check=False)
    return "\n".join(line for line in out.stdout.splitlines() if "airflow" in line)


__all__ = [
    "COMPONENTS",
    "AirflowStack",
    "AirflowStackError",
    "Observation",
    "StateWatcher",
    "free_port",
    "process_report",
    "session_members",
]
