"""The production topology in subprocesses: CeleryExecutor on PostgreSQL and Redis, for e2e tests.

``DistributedAirflowStack`` is an ``AirflowStack`` (same REST helpers, watchers, kills, logs; see
``airflow_stack.py``) whose metadata database is a throw-away PostgreSQL and whose executor is the
CeleryExecutor with a throw-away Redis as broker. Its components::

    postgres, redis                        servers (own data dirs, free ports on 127.0.0.1)
    api-server, dag-processor, scheduler   as in AirflowStack
    triggerer-1, triggerer-2               two triggerers (their Job rows carry those host names)
    worker-1, worker-2                     two ``airflow celery worker`` (celery host names too)

Every one is a process session of its own: ``kill_component("worker-1")`` SIGKILLs that worker
with its pool and task processes, ``stop_component("redis")`` + ``start_component("redis")``
restarts the broker (append-only file on: queued messages survive, as on a real broker).

PostgreSQL refuses to run as root (CI runs as root): its data directory is then a fresh folder
under the system temp dir owned by ``nobody`` (pytest's own temp dirs are 0700 root, so ``nobody``
could not reach one inside them), and ``initdb`` / ``postgres`` run as that user. Servers are
found on ``PATH`` or in ``/usr/lib/postgresql/<version>/bin``; when missing, ``start()`` fails
with what to install (``make test`` installs them as root on Debian/Ubuntu:
``scripts/install_system_deps.sh``). The Python side needs the ``celery`` extra.

Host names: ``[core] hostname_callable`` reads ``$HAILUO_E2E_HOSTNAME`` (set per component), so
two triggerers or workers on one machine are told apart in ``/jobs`` and in a TI's ``hostname``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.e2e.airflow_stack import HOSTNAME_ENV, AirflowStack, AirflowStackError, _Component, _tail, free_port

TRIGGERERS = ("triggerer-1", "triggerer-2")
WORKERS = ("worker-1", "worker-2")
SERVICES = ("postgres", "redis")
DISTRIBUTED_COMPONENTS: tuple[str, ...] = ("api-server", "dag-processor", "scheduler", *TRIGGERERS, *WORKERS)

#: Settings the topology runs with; ``docker/docker-compose.yaml`` uses the same
#: (tests/dags/test_docker_compose.py holds them to it).
WORKER_CONCURRENCY = 6
#: Running + queued tasks (deferred ones hold no executor slot): the pool's 40 plus the stores.
PARALLELISM = 64
MAX_ACTIVE_TASKS_PER_DAG = 128
TRIGGERER_CAPACITY = 100
#: Longer than the longest generation here (90 s): a task SIGKILLed on a worker right after its
#: submit keeps its pool slot until its vendor task is done, so the vendor never sees more in
#: flight than the pool allows (a failed TI frees its slot while it waits for its retry).
TASK_HEARTBEAT_TIMEOUT = 100

_HOSTNAME_MODULE = "_e2e_hostname"
_HOSTNAME_SOURCE = f'''"""Written by tests/e2e/distributed_stack.py: each component's own host name."""

import os
import socket


def hostname():
    return os.environ.get("{HOSTNAME_ENV}") or socket.getfqdn()
'''

_CELERY_MODULE = "_e2e_celery_config"
#: Imported once by each Celery worker before it forks its pool: every task process (forked from
#: it) then starts with the provider, boto and s3fs in memory instead of importing them again,
#: which on two cores is most of a store task's CPU.
WORKER_PRELOAD = (
    "airflow.sdk.execution_time.task_runner",
    "airflow_provider_hailuo.operators.generate",
    "airflow_provider_hailuo.transfers.object_storage",
    "airflow_provider_hailuo.hooks",
    "airflow.providers.amazon.aws.hooks.s3",
    "airflow.providers.amazon.aws.fs.s3",
    "botocore.session",
    "aiobotocore.session",
    "s3fs",
)
_CELERY_SOURCE = f'''"""Written by tests/e2e/distributed_stack.py: Airflow's Celery config plus modules to preload."""

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

CELERY_CONFIG = {{**DEFAULT_CELERY_CONFIG, "imports": {WORKER_PRELOAD!r}}}
'''

_INSTALL_HINT = (
    "install them with `apt-get install -y postgresql redis-server` (Debian/Ubuntu, as root; "
    "`make test` runs scripts/install_system_deps.sh, which does that when run as root)"
)


def find_server_binary(name: str) -> str | None:
    """A PostgreSQL or Redis server binary: on PATH, else in Debian's versioned PostgreSQL folders."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def missing_requirements() -> list[str]:
    """What this machine lacks to run the stack, as sentences naming what to install."""
    missing = [f"`{name}` not found" for name in ("initdb", "postgres", "redis-server")
               if find_server_binary(name) is None]
    if missing:
        missing = [", ".join(missing) + "; " + _INSTALL_HINT]
    for module, extra in (("airflow.providers.celery", "celery"), ("psycopg2", "celery"), ("asyncpg", "celery")):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"Python module {module} missing: pip install -e '.[{extra}]' -c constraints.txt")
    return missing


class DistributedAirflowStack(AirflowStack):
    """Airflow with the CeleryExecutor, PostgreSQL, Redis, two triggerers and two Celery workers."""

    known_components = (*SERVICES, *DISTRIBUTED_COMPONENTS)
    service_names = SERVICES

    def __init__(self, home: str | os.PathLike[str], dags_folder: str | os.PathLike[str], *,
                 config: Mapping[str, Mapping[str, str]] | None = None,
                 worker_concurrency: int = WORKER_CONCURRENCY, **kwargs: Any) -> None:
        kwargs.setdefault("components", DISTRIBUTED_COMPONENTS)
        kwargs.setdefault("startup_timeout", 240.0)
        super().__init__(home, dags_folder, config=config, sqlite_wal=False, **kwargs)
        self.worker_concurrency = worker_concurrency
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.pg_user = _unprivileged_user() if os.geteuid() == 0 else None
        self._pg_root: Path | None = None

    # ------------------------------------------------------------------ config
    @property
    def sql_alchemy_conn(self) -> str:
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.pg_port}/airflow"

    @property
    def broker_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def _config(self) -> dict[str, dict[str, str]]:
        cfg = super()._config()
        overrides = {s: dict(v) for s, v in self.config_overrides.items()}
        cfg["database"] = {
            "sql_alchemy_conn": self.sql_alchemy_conn,
            "sql_alchemy_conn_async": self.sql_alchemy_conn.replace("+psycopg2", "+asyncpg"),
            "sql_alchemy_pool_size": "3",
            "sql_alchemy_max_overflow": "10",
        }
        cfg["core"].update({
            "executor": "CeleryExecutor",
            "hostname_callable": f"{_HOSTNAME_MODULE}.hostname",
            "parallelism": str(PARALLELISM),
            "max_active_tasks_per_dag": str(MAX_ACTIVE_TASKS_PER_DAG),
        })
        cfg["celery"] = {
            "broker_url": self.broker_url,
            "result_backend": "db+" + self.sql_alchemy_conn,
            "worker_concurrency": str(self.worker_concurrency),
            "worker_prefetch_multiplier": "1",
            "task_acks_late": "True",
            "sync_parallelism": "1",
            "operation_timeout": "10",
            "celery_config_options": f"{_CELERY_MODULE}.CELERY_CONFIG",
        }
        cfg["celery_broker_transport_options"] = {"visibility_timeout": "21600"}
        cfg["scheduler"]["scheduler_idle_sleep_time"] = "1"
        cfg["scheduler"].update({
            "scheduler_heartbeat_sec": "2",
            "max_tis_per_query": "64",
            "task_instance_heartbeat_timeout": str(TASK_HEARTBEAT_TIMEOUT),
            "task_queued_timeout": "240",
            "orphaned_tasks_check_interval": "30",
        })
        cfg["dag_processor"].update({"refresh_interval": "10", "min_file_process_interval": "60"})
        cfg["triggerer"].update({"capacity": str(TRIGGERER_CAPACITY), "job_heartbeat_sec": "2"})
        for section, values in overrides.items():  # the caller's overrides still win
            cfg.setdefault(section, {}).update(values)
        return cfg

    def _write_home(self) -> None:
        super()._write_home()
        (self.home / "pythonpath" / f"{_HOSTNAME_MODULE}.py").write_text(_HOSTNAME_SOURCE)
        (self.home / "pythonpath" / f"{_CELERY_MODULE}.py").write_text(_CELERY_SOURCE)

    # ------------------------------------------------------------------ components
    def _make_component(self, name: str) -> _Component:
        log = self.log_dir / f"{name}.log"
        if name == "postgres":
            settings = {"listen_addresses": "127.0.0.1", "unix_socket_directories": "", "max_connections": "300",
                        "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                        "shared_buffers": "128MB"}
            argv = [self._binary("postgres"), "-D", str(self._pg_data), "-p", str(self.pg_port)]
            for key, value in settings.items():
                argv += ["-c", f"{key}={value}"]
            return _Component(name, argv, log, popen=self._pg_popen())
        if name == "redis":
            data = self.home / "redis"
            data.mkdir(exist_ok=True)
            argv = [self._binary("redis-server"), "--port", str(self.redis_port), "--bind", "127.0.0.1",
                    "--dir", str(data), "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                    "--daemonize", "no", "--logfile", ""]
            return _Component(name, argv, log)
        if name in TRIGGERERS:
            return _Component(name, [*self._airflow_argv(), "triggerer", "--skip-serve-logs"], log,
                              env={HOSTNAME_ENV: name})
        if name in WORKERS:
            argv = [*self._airflow_argv(), "celery", "worker", "--celery-hostname", f"{name}@e2e",
                    "--concurrency", str(self.worker_concurrency), "--skip-serve-logs",
                    "--without-mingle", "--without-gossip"]
            return _Component(name, argv, log, env={HOSTNAME_ENV: name})
        comp = super()._make_component(name)
        comp.env[HOSTNAME_ENV] = name
        return comp

    def _job_type(self, name: str) -> str | None:
        return "TriggererJob" if name in TRIGGERERS else super()._job_type(name)

    def _wait_component_up(self, name: str, known_jobs: set[int], deadline: float) -> dict[str, Any] | None:
        if name == "postgres":
            self._wait_until_up(name, deadline, self._pg_ready)
            return None
        if name == "redis":
            self._wait_until_up(name, deadline, self._redis_ready)
            return None
        if name in WORKERS:
            comp = self._components[name]
            marker = f"{name}@e2e ready."
            self._wait_until_up(name, deadline, lambda: comp.log_path.read_text(errors="replace")
                                .split(f"start #{comp.starts} of {name}")[-1].count(marker) > 0)
            return None
        return super()._wait_component_up(name, known_jobs, deadline)

    def _wait_until_up(self, name: str, deadline: float, ready: Any) -> None:
        while not ready():
            self._check_alive()
            if time.monotonic() > deadline:
                raise AirflowStackError(f"{name} did not come up in time\n" + self.diagnostics([name], lines=80))
            time.sleep(0.25)

    def _binary(self, name: str) -> str:
        found = find_server_binary(name)
        if found is None:
            raise AirflowStackError("; ".join(missing_requirements()))
        return found

    # ------------------------------------------------------------------ servers
    def _start_services(self) -> None:
        missing = missing_requirements()
        if missing:
            raise AirflowStackError("the distributed stack cannot start here:\n  " + "\n  ".join(missing))
        self._init_postgres()
        for name in SERVICES:
            self.start_component(name)
        self._create_database()

    @property
    def _pg_data(self) -> Path:
        assert self._pg_root is not None
        return self._pg_root / "data"

    def _pg_popen(self) -> dict[str, Any]:
        if self.pg_user is None:
            return {}
        entry = pwd.getpwnam(self.pg_user)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "cwd": str(self._pg_root)}

    def _init_postgres(self) -> None:
        if self.pg_user is None:
            self._pg_root = self.home / "postgres"
            self._pg_root.mkdir(exist_ok=True)
        else:
            # Root: the server runs as an unprivileged user, which must reach its folder.
            self._pg_root = Path(tempfile.mkdtemp(prefix="hailuo-e2e-pg-"))
            entry = pwd.getpwnam(self.pg_user)
            os.chown(self._pg_root, entry.pw_uid, entry.pw_gid)
            (self.home / "postgres-data-dir").write_text(f"{self._pg_root}\n")
        log = self.log_dir / "initdb.log"
        with open(log, "ab") as out:
            result = subprocess.run(
                [self._binary("initdb"), "-D", str(self._pg_data), "-U", "airflow", "--auth=trust",
                 "-E", "UTF8", "--no-locale", "--no-sync"],
                stdout=out, stderr=subprocess.STDOUT, timeout=120, check=False,
                **{"cwd": str(self._pg_root), **self._pg_popen()},
            )
        if result.returncode != 0:
            raise AirflowStackError(f"initdb failed with exit code {result.returncode}:\n{_tail(log, 40)}")

    def _pg_connect(self, dbname: str = "postgres") -> Any:
        import psycopg2

        return psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="airflow", dbname=dbname,
                                connect_timeout=3)

    def _pg_ready(self) -> bool:
        try:
            self._pg_connect().close()
            return True
        except Exception:  # noqa: BLE001 - not accepting connections yet
            return False

    def _create_database(self) -> None:
        conn = self._pg_connect()
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("CREATE DATABASE airflow")
        finally:
            conn.close()

    def _redis_ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        super().stop()
        if self._pg_root is not None and self._pg_root != self.home / "postgres":
            shutil.rmtree(self._pg_root, ignore_errors=True)

    def diagnostics(self, components: Any = None, lines: int = 40) -> str:
        extra = f"postgres 127.0.0.1:{self.pg_port} (data {self._pg_root}), redis 127.0.0.1:{self.redis_port}"
        return extra + "\n" + super().diagnostics(components, lines)


def _unprivileged_user() -> str:
    """The account PostgreSQL runs as when the tests run as root (it refuses root)."""
    for name in ("nobody", "daemon"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise AirflowStackError("running as root, and no unprivileged account (nobody) to run PostgreSQL as")


__all__ = ["DISTRIBUTED_COMPONENTS", "TRIGGERERS", "WORKERS", "DistributedAirflowStack", "missing_requirements"]
