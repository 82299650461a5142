"""docker/: the compose stack agrees with the code (there is no Docker engine to start it here).

The compose file is read as ``docker compose`` would (YAML anchors and merge keys, then
``${VAR:-default}`` interpolation from the environment or an env file) and checked against the
package, the DAGs and the Dockerfile: services and their commands, images and builds, the
emulator command against the real console script and its options, every connection against the
hook that will read it, the connection ids, Variables and pool the DAGs use, the DAG folder mount.
"""

from __future__ import annotations

import json
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
COMPOSE_FILE = DOCKER / "docker-compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
REAL_VENDOR_ENV = DOCKER / "real-vendor.env.example"
DAGS = REPO / "dags"

AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
VENDOR_CONNECTIONS = {
    "hailuo_minimax_default": "hailuo_minimax",
    "hailuo_dmxapi_default": "hailuo_dmxapi",
    "hailuo_modelverse_default": "hailuo_modelverse",
}
_VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's ``$$``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        current = env.get(name)
        if op == ":-":
            return current if current else arg
        if op == "-":
            return current if current is not None else arg
        if op in (":?", "?") and not current:
            raise AssertionError(f"compose would stop: {name} is required ({arg})")
        return current or ""

    return _VARIABLE.sub(substitute, value)


def read_env_file(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def load_compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    return interpolate(yaml.safe_load(COMPOSE_FILE.read_text()), env or {})


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def dag_settings() -> Any:
    """dags/hailuo_common, the settings the DAGs are parsed with."""
    sys.path.insert(0, str(DAGS))
    try:
        import hailuo_common
    finally:
        sys.path.remove(str(DAGS))
    return hailuo_common


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def connections(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {name[len("AIRFLOW_CONN_"):].lower(): json.loads(value)
            for name, value in env.items() if name.startswith("AIRFLOW_CONN_")}


def command_words(command: Any) -> list[str]:
    return command.split() if isinstance(command, str) else list(command)


# -- services ---------------------------------------------------------------------------------------

def test_the_stack_has_every_service_it_needs(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in [*AIRFLOW_SERVICES, "airflow-init", "postgres", "redis", "minio", "hailuo-emulator"]:
        assert name in services, f"service {name} is missing"
    for name, command in AIRFLOW_SERVICES.items():
        assert services[name]["command"] == command
    for name, service in services.items():
        for dependency in service.get("depends_on") or {}:
            assert dependency in services, f"{name} depends on unknown service {dependency}"
    assert set(compose["volumes"]) >= {
        volume.split(":", 1)[0] for service in services.values() for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    }


def test_celery_redis_and_postgres_are_wired_together(compose: dict[str, Any]) -> None:
    services = compose["services"]
    postgres = environment(services["postgres"])
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        env = environment(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        database = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert (database.hostname, database.username, database.password, database.path.strip("/")) == (
            "postgres", postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"])
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].endswith(database.netloc + database.path)
        broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
        assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)
        execution_api = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert execution_api.hostname == "airflow-apiserver"
        assert f"{execution_api.port}:{execution_api.port}" in services["airflow-apiserver"]["ports"]
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"], "components must share one JWT secret"


def test_dags_folder_is_mounted_where_airflow_looks(compose: dict[str, Any]) -> None:
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        service = compose["services"][name]
        dags_folder = environment(service)["AIRFLOW__CORE__DAGS_FOLDER"]
        mounts = dict(volume.split(":", 1) for volume in service["volumes"])
        sources = [source for source, target in mounts.items() if target == dags_folder]
        assert sources, f"{name}: nothing is mounted at {dags_folder}"
        assert (COMPOSE_FILE.parent / sources[0]).resolve() == DAGS


# -- image -----------------------------------------------------------------------------------------

def test_airflow_services_build_the_provider_image(compose: dict[str, Any]) -> None:
    images = set()
    for name in [*AIRFLOW_SERVICES, "airflow-init", "hailuo-emulator"]:
        service = compose["services"][name]
        build = service["build"]
        assert (COMPOSE_FILE.parent / build["context"]).resolve() == REPO
        assert (REPO / build["dockerfile"]).resolve() == DOCKERFILE
        images.add(service["image"])
    assert len(images) == 1, f"one image for Airflow and the emulator, got {images}"


def test_dockerfile_extends_the_pinned_airflow_and_installs_this_provider() -> None:
    text = DOCKERFILE.read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, flags=re.MULTILINE))
    pinned = re.search(r"^apache-airflow==(\S+)$", (REPO / "constraints.txt").read_text(), re.MULTILINE)
    assert pinned
    assert args["AIRFLOW_VERSION"] == pinned.group(1) == "3.3.2"
    assert args["PYTHON_VERSION"] == "3.11"
    assert re.search(r"^FROM apache/airflow:\$\{AIRFLOW_VERSION\}-python\$\{PYTHON_VERSION\}$", text, re.MULTILINE)

    extras = set(args["PROVIDER_EXTRAS"].split(","))
    assert extras <= set(metadata.metadata("airflow-provider-hailuo").get_all("Provides-Extra") or [])
    assert {"amazon", "emulator"} <= extras, "S3 for the DAGs, PyAV for the emulator service"
    assert '"/opt/hailuo-provider[${PROVIDER_EXTRAS}]"' in text
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in text, "pip must not move the image's Airflow"
    for source in re.findall(r"^COPY --chown=\S+ (.+) /opt/hailuo-provider/\S*$", text, re.MULTILINE):
        for path in source.split():
            assert (REPO / path).exists(), f"the Dockerfile copies {path}, which is not in the repository"
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    assert "*" in ignore and {"!pyproject.toml", "!README.md", "!airflow_provider_hailuo/"} <= set(ignore), (
        "the build context must let the copied files through")


# -- emulator --------------------------------------------------------------------------------------

def test_emulator_command_matches_the_console_script(compose: dict[str, Any]) -> None:
    from airflow_provider_hailuo.emulator.__main__ import _parser

    service = compose["services"]["hailuo-emulator"]
    scripts = {point.name: point.value for point in metadata.entry_points(group="console_scripts")}
    entrypoint, command = command_words(service["entrypoint"]), command_words(service["command"])
    assert entrypoint[0] == "/usr/bin/dumb-init", "bypass the Airflow entrypoint, which would run 'airflow ...'"
    assert command[0] in scripts and scripts[command[0]] == "airflow_provider_hailuo.emulator.__main__:main"
    options = _parser().parse_args(command[1:])  # exits (SystemExit) on an unknown option
    assert options.host == "0.0.0.0", "reachable from the other containers"
    assert options.generation_seconds > 0
    assert f"{options.port}:{options.port}" in service["ports"]
    assert f"localhost:{options.port}/_emulator/health" in " ".join(service["healthcheck"]["test"])


def test_vendor_connections_reach_the_emulator(compose: dict[str, Any]) -> None:
    from airflow_provider_hailuo.emulator.__main__ import _parser
    from airflow_provider_hailuo.hooks import hook_class_for_conn_type
    from airflow_provider_hailuo.hooks.base import resolve_base_url

    emulator = compose["services"]["hailuo-emulator"]
    options = _parser().parse_args(command_words(emulator["command"])[1:])
    key = options.api_key or environment(emulator)["HAILUO_EMULATOR_API_KEY"]
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        conns = connections(environment(compose["services"][name]))
        for conn_id, conn_type in VENDOR_CONNECTIONS.items():
            conn = conns[conn_id]
            assert conn["conn_type"] == conn_type
            assert conn["password"] == key, f"{conn_id}: the emulator only accepts its own key"
            hook_class = hook_class_for_conn_type(conn["conn_type"], conn_id)
            vendor = hook_class.dialect_class.name
            # What the hook will compute; raises if the key would go over http without the opt-in.
            base_url = resolve_base_url(hook_class.dialect_class(), conn_id, conn["host"], None, None, conn["extra"])
            assert base_url == f"http://hailuo-emulator:{options.port}/{vendor}"
            hook_class.dialect_class().auth_headers(key, conn["extra"])  # e.g. a valid DMXAPI auth_scheme


def test_real_vendor_env_points_at_the_vendors_over_https() -> None:
    from airflow_provider_hailuo.hooks import hook_class_for_conn_type
    from airflow_provider_hailuo.hooks.base import resolve_base_url

    env = read_env_file(REAL_VENDOR_ENV)
    env.update({name: f"sk-real-{name.lower()}" for name in env if name.endswith("_API_KEY")})
    real = load_compose(env)
    conns = connections(environment(real["services"]["airflow-worker"]))
    for conn_id, conn_type in VENDOR_CONNECTIONS.items():
        conn = conns[conn_id]
        assert conn["extra"]["allow_insecure_http"] is False
        hook_class = hook_class_for_conn_type(conn_type, conn_id)
        dialect = hook_class.dialect_class()
        assert resolve_base_url(dialect, conn_id, conn["host"], None, None, conn["extra"]) == dialect.default_base_url
        assert conn["password"] == f"sk-real-hailuo_{dialect.name}_api_key"
    worker = environment(real["services"]["airflow-worker"])
    assert (float(worker["HAILUO_POLL_INTERVAL"]), float(worker["HAILUO_INITIAL_DELAY"])) == (15.0, 30.0)
    assert "docker/real-vendor.env" in (REPO / ".gitignore").read_text().split(), "the file with the key"


# -- what the DAGs rely on ---------------------------------------------------------------------------

def test_connection_ids_and_variables_the_dags_use_exist(compose: dict[str, Any], dag_settings: Any) -> None:
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        env = environment(compose["services"][name])
        conns = connections(env)
        used = {dag_settings.DEFAULT_CONN_ID, env["HAILUO_CONN_ID"],
                env[f"AIRFLOW_VAR_{dag_settings.CONN_ID_VARIABLE.upper()}"]}
        assert used <= set(conns), f"{name}: DAGs use {used - set(conns)} but no AIRFLOW_CONN_ for it"
        for setting in ("HAILUO_POLL_INTERVAL", "HAILUO_INITIAL_DELAY"):
            assert float(env[setting]) > 0

        media_base = urlsplit(env[f"AIRFLOW_VAR_{dag_settings.MEDIA_BASE_VARIABLE.upper()}"])
        storage_conn_id, _, bucket = media_base.netloc.rpartition("@")
        assert media_base.scheme == "s3" and storage_conn_id in conns, "media base names its connection"
        storage = conns[storage_conn_id]
        assert storage["conn_type"] == "aws"
        minio = compose["services"]["minio"]
        minio_env = environment(minio)
        assert (storage["login"], storage["password"]) == (
            minio_env["MINIO_ROOT_USER"], minio_env["MINIO_ROOT_PASSWORD"])
        endpoint = urlsplit(storage["extra"]["endpoint_url"])
        assert endpoint.hostname == "minio" and f"{endpoint.port}:{endpoint.port}" in minio["ports"]
        assert command_words(minio["command"])[:2] == ["server", "/data"]

        init_script = "\n".join(command_words(compose["services"]["airflow-init"]["command"]))
        assert f'aws_conn_id="{storage_conn_id}"' in init_script and f'bucket = "{bucket}"' in init_script, (
            "airflow-init creates the bucket through the same connection")


def test_init_creates_the_pool_the_dags_use(compose: dict[str, Any], dag_settings: Any) -> None:
    init = compose["services"]["airflow-init"]
    script = "\n".join(command_words(init["command"]))
    match = re.search(r"^airflow pools set (\S+) \"(\d+)\" .*--include-deferred$", script, re.MULTILINE)
    assert match, "airflow-init must create the vendor pool (with --include-deferred)"
    assert match.group(1) == dag_settings.POOL and int(match.group(2)) >= 1
    assert environment(init)["_AIRFLOW_DB_MIGRATE"] == "true"
    assert script.index("/entrypoint airflow version") < script.index("airflow pools set"), "migrate first"


def test_scale_settings_are_the_ones_the_distributed_test_proved(compose: dict[str, Any]) -> None:
    from tests.e2e import distributed_stack as proven
    from tests.e2e.test_distributed_load import POOL_SLOTS

    services = compose["services"]
    assert int(services["airflow-triggerer"]["deploy"]["replicas"]) == len(proven.TRIGGERERS) == 2
    assert int(services["airflow-worker"]["deploy"]["replicas"]) == len(proven.WORKERS) == 2
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        env = environment(services[name])
        assert int(env["AIRFLOW__CELERY__WORKER_CONCURRENCY"]) == proven.WORKER_CONCURRENCY
        assert int(env["AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER"]) == 1
        assert env["AIRFLOW__CELERY__TASK_ACKS_LATE"] == "True"
        assert int(env["AIRFLOW__TRIGGERER__CAPACITY"]) == proven.TRIGGERER_CAPACITY >= POOL_SLOTS
        # >= the harness's (longer than its longest generation); real clips take minutes.
        assert int(env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"]) >= proven.TASK_HEARTBEAT_TIMEOUT
        assert (int(env["AIRFLOW__CORE__PARALLELISM"]), int(env["AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG"])) == (
            proven.PARALLELISM, proven.MAX_ACTIVE_TASKS_PER_DAG)
        assert "+psycopg2://" in env["AIRFLOW__CELERY__RESULT_BACKEND"], "SQLAlchemy 2.1 defaults to psycopg 3"
    script = "\n".join(command_words(services["airflow-init"]["command"]))
    pool = re.search(r'^airflow pools set \S+ "(\d+)"', script, re.MULTILINE)
    assert pool and int(pool.group(1)) == POOL_SLOTS
