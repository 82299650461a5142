"""The API key and the signed-URL signatures do not leak.

With the suite's distinctive key (``tests.conftest.EMULATOR_API_KEY``), every example DAG in
``dags/`` runs with ``dag.test()`` against the emulator (MiniMax for the DAGs that take their
connection at parse time, Modelverse, whose status answer hands out signed URLs, for the daily
one). Then everything a user, an operator of the deployment or a log shipper can see is searched:

* task logs: what ``dag.test()`` printed (the task runner's structured log goes to stdout), the
  log records captured by pytest (after Airflow's secrets masker, which every task log passes
  through) and every log file under ``AIRFLOW_HOME``;
* the metadata database: XCom values, rendered template fields and trigger rows of the runs;
* every file the runs wrote: sidecars, manifests, indexes, catalog entries;
* exception texts of failing runs.

The key appears in none of them. Every signature and ``OSSAccessKeyId`` the emulator signed
during the runs (recorded at the signer) appears in no log. And the key is never sent over plain
HTTP to a host other than loopback: the hook refuses before a socket is opened.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from airflow_provider_hailuo.exceptions import HailuoConfigurationError, HailuoError
from tests.conftest import EMULATOR_API_KEY, conn_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
#: The examples when this suite was written; any DAG added to dags/ runs too.
EXAMPLE_DAGS = ("hailuo_daily_content", "hailuo_image_to_video", "hailuo_first_last_frame",
                "hailuo_subject_reference", "hailuo_product_videos", "hailuo_video_catalog")
SIZE = 300_000


@pytest.fixture
def signed_urls(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL the emulator signs during the test (download_url, backup_download_url, output.urls)."""
    signer = emulator._app.signer  # noqa: SLF001 - the only place every signed URL passes through
    original = signer.sign
    produced: list[str] = []

    def sign(*args: Any, **kwargs: Any) -> str:
        url = original(*args, **kwargs)
        produced.append(url)
        return url

    monkeypatch.setattr(signer, "sign", sign)
    return produced


def url_secrets(urls: list[str]) -> set[str]:
    """The Signature and OSSAccessKeyId values, raw and as they appear percent-encoded."""
    found: set[str] = set()
    for url in urls:
        query = parse_qs(urlsplit(url).query)
        for key in ("Signature", "OSSAccessKeyId"):
            for value in query.get(key, []):
                found.update({value, quote(value, safe="")})
    return found


@pytest.fixture
def example_env(airflow_db: Path, emulator: Any, vendor_conns: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                tmp_path: Path) -> Iterator[Path]:
    """The demo's settings: fast polling, no retries, dags/ as the DAGs folder, media under tmp_path."""
    from airflow import settings

    media = tmp_path / "media"
    monkeypatch.setenv("HAILUO_POLL_INTERVAL", "0.1")
    monkeypatch.setenv("HAILUO_INITIAL_DELAY", "0.1")
    monkeypatch.setenv("HAILUO_TASK_RETRIES", "0")
    monkeypatch.setenv("HAILUO_CONN_ID", vendor_conns["minimax"])
    monkeypatch.setenv("AIRFLOW_VAR_HAILUO_MEDIA_BASE", media.as_uri())
    monkeypatch.setenv("AIRFLOW_VAR_HAILUO_CONN_ID", vendor_conns["minimax"])
    monkeypatch.delenv("AIRFLOW_VAR_HAILUO_DAILY_PROMPTS", raising=False)
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS))
    monkeypatch.setattr(settings, "DAGS_FOLDER", str(DAGS))
    monkeypatch.syspath_prepend(str(DAGS))
    for module in [name for name in sys.modules if name == "hailuo_common" or name.startswith("hailuo_common.")]:
        monkeypatch.delitem(sys.modules, module)
    emulator.configure(synthetic_video_bytes=SIZE)
    yield media


def load_example_dags() -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=DAGS, bundle_path=DAGS, bundle_name="dags-folder")
    assert bag.import_errors == {}
    assert set(EXAMPLE_DAGS) <= set(bag.dags), sorted(bag.dags)
    return bag.dags


def without_video_urls(value: Any) -> Any:
    """``value`` with every ``video_url`` dropped: Modelverse's signed URL is in the video result by contract."""
    if isinstance(value, dict):
        return {key: without_video_urls(item) for key, item in value.items() if key != "video_url"}
    if isinstance(value, (list, tuple)):
        return [without_video_urls(item) for item in value]
    return value


def database_rows(run_ids: list[str]) -> dict[str, Any]:
    """XCom values and rendered template fields of the runs; every trigger row of this provider."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.trigger import Trigger
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        xcoms = session.query(XComModel).filter(XComModel.run_id.in_(run_ids)).all()
        rendered = session.query(RenderedTaskInstanceFields).filter(
            RenderedTaskInstanceFields.run_id.in_(run_ids)).all()
        triggers = session.query(Trigger).filter(Trigger.classpath.like("airflow_provider_hailuo.%")).all()
        return {
            "xcom": [[row.task_id, row.map_index, row.key, row.value] for row in xcoms],
            "rendered": [[row.task_id, row.map_index, row.rendered_fields] for row in rendered],
            "triggers": [[row.classpath, dict(row.kwargs)] for row in triggers],
        }


def log_files_since(started: float) -> dict[str, str]:
    """Log files under AIRFLOW_HOME written during the test (``dag.test()`` itself logs to stdout)."""
    home = Path(os.environ["AIRFLOW_HOME"])
    found = {}
    for path in home.rglob("*.log"):
        if path.is_file() and path.stat().st_mtime >= started - 1:
            found[str(path)] = path.read_text(errors="replace")
    return found


def written_files(root: Path) -> dict[str, str]:
    """Every text file the runs wrote: sidecars, manifests, the product index, catalog entries."""
    return {str(path): path.read_text(errors="replace") for path in root.rglob("*")
            if path.is_file() and path.suffix in (".json", ".csv", ".txt", ".log")}


def test_example_dags_leak_neither_key_nor_signatures(example_env: Path, emulator: Any,
                                                      vendor_conns: dict[str, str], signed_urls: list[str],
                                                      capsys: pytest.CaptureFixture[str],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    from airflow.sdk._shared.secrets_masker import redact

    started = time.time()
    dags = load_example_dags()
    # Downloads that fail once and are retried with a fresh signed URL: the logs then name URLs.
    emulator.add_fault(endpoint="download", kind="expired_url", times=1)
    emulator.add_fault(endpoint="download", kind="truncated", times=1)
    confs: dict[str, dict[str, Any]] = {
        "hailuo_daily_content": {"prompts": ["A red kite over a windy beach"], "max_prompts": 1,
                                 "hailuo_conn_id": vendor_conns["modelverse"]},
    }
    runs = {dag_id: dags[dag_id].test(run_conf=confs.get(dag_id)) for dag_id in sorted(dags)}  # every example
    states = {dag_id: str(run.state) for dag_id, run in runs.items()}
    assert all(state in ("success", "DagRunState.SUCCESS") for state in states.values()), states

    printed = capsys.readouterr()
    logs = {"stdout": printed.out, "stderr": printed.err, "captured log records": redact(caplog.text),
            **log_files_since(started)}
    rows = database_rows([run.run_id for run in runs.values()])
    files = written_files(example_env)
    stored = {"xcom": json.dumps(rows["xcom"], default=str), "rendered fields": json.dumps(rows["rendered"],
                                                                                          default=str),
              "trigger rows": json.dumps(rows["triggers"], default=str), **files}

    # What was searched is real: the runs submitted, logged, pushed XComs, rendered, deferred, wrote.
    assert emulator.count("submit") >= 6  # daily 1, image 1, first+last 1, subject 1, products 2
    assert "Submitted to modelverse" in printed.out and "Submitted to minimax" in printed.out
    assert "Signature=***" in printed.out  # a URL was logged, redacted
    assert len(rows["xcom"]) >= 10 and len(rows["rendered"]) >= 10 and len(rows["triggers"]) >= 6
    assert sum(path.endswith(".mp4.json") for path in files) >= 6

    # 1. the key: nowhere
    assert [where for where, text in {**logs, **stored}.items() if EMULATOR_API_KEY in text] == []
    # 2. trigger rows hold ids, the deadline and poll settings, nothing else
    allowed = {"hailuo_conn_id", "video_task_id", "deadline", "poll_interval", "initial_delay",
               "max_transient_errors"}
    # (MiniMax-H3 rows add which API to poll, "v2"; v1 rows hold none)
    assert all(set(kwargs) - {"api"} == allowed and kwargs.get("api", "v2") == "v2"
               for _, kwargs in rows["triggers"]), rows["triggers"]
    assert any(kwargs.get("api") == "v2" for _, kwargs in rows["triggers"])  # hailuo_h3_social deferred too
    # 3. signatures: in no log, no file; in the database only as Modelverse's video_url (the contract)
    secrets = url_secrets(signed_urls)
    assert secrets and len(signed_urls) >= 6
    assert sorted({where for where, text in {**logs, **files}.items() for secret in secrets if secret in text}) == []
    database = json.dumps([without_video_urls(rows["xcom"]), without_video_urls(rows["rendered"]), rows["triggers"]],
                          default=str)
    assert [secret for secret in secrets if secret in database] == []
    # 4. on the wire: the key only in the Authorization header of API calls, never to a download host
    for entry in emulator.requests():
        assert EMULATOR_API_KEY not in json.dumps(entry["query"]) + json.dumps(entry["body"], default=str)
        has_auth = "Authorization" in entry["headers"]
        assert has_auth is (entry["endpoint"] not in ("download", "backup_download", "v2_download")), entry


# -- exception texts ---------------------------------------------------------------------------------

WRONG_KEY = "sk-test-HAILUO-WRONG-KEY-b41d07"


def error_text(call: Any) -> str:
    """The full traceback text of what ``call`` raised (chained causes included)."""
    import traceback

    with pytest.raises(HailuoError) as caught:
        call()
    return "".join(traceback.format_exception(caught.value)) + repr(caught.value)


def test_error_texts_hold_no_key(emulator: Any, vendor_conns: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                 policy: Any) -> None:
    from airflow_provider_hailuo.core.request import VideoRequest
    from airflow_provider_hailuo.hooks import get_hook
    from tests.reliability.helpers import run_generate

    policy(read_timeout=0.3)
    request = VideoRequest.build(model="MiniMax-Hailuo-2.3", prompt="A tram in the fog")
    conns = {
        "wrong_key": ("hailuo_minimax", emulator.base_url("minimax"), WRONG_KEY),
        "wrong_key_dmx": ("hailuo_dmxapi", emulator.base_url("dmxapi"), WRONG_KEY),
        "wrong_key_mv": ("hailuo_modelverse", emulator.base_url("modelverse"), WRONG_KEY),
        "closed_port": ("hailuo_minimax", "http://127.0.0.1:9/minimax", EMULATOR_API_KEY),
        "remote_http": ("hailuo_minimax", "http://203.0.113.10/minimax", EMULATOR_API_KEY),
    }
    for conn_id, (conn_type, host, key) in conns.items():
        name, value = conn_env(conn_id, conn_type, host, password=key)
        monkeypatch.setenv(name, value)

    def faulted(kind: str, **fault: Any) -> Any:
        def call() -> Any:
            emulator.add_fault(endpoint="submit", kind=kind, **fault)
            return get_hook(vendor_conns["minimax"]).submit(request)
        return call

    texts = {
        "key refused (MiniMax)": error_text(lambda: get_hook("wrong_key").submit(request)),
        "key refused (DMXAPI)": error_text(lambda: get_hook("wrong_key_dmx").get_status("1")),
        "key refused (Modelverse)": error_text(lambda: get_hook("wrong_key_mv").submit(request)),
        "1004": error_text(faulted("base_resp", code=1004)),
        "2049": error_text(faulted("base_resp", code=2049)),
        "read timeout": error_text(faulted("slow", delay=0.8)),
        "reset": error_text(faulted("reset")),
        "no connection": error_text(lambda: get_hook("closed_port").get_status("1")),
        "plain http to a remote host": error_text(lambda: get_hook("remote_http").get_status("1")),
        "operator, key refused": error_text(lambda: run_generate("wrong_key", deferrable=False)),
        "operator, failed task": error_text(lambda: (emulator.configure(final_status="fail"),
                                                     run_generate(vendor_conns["dmxapi"]))),
    }
    time.sleep(0.6)  # let the slow submit's handler finish before the emulator is reset
    for name, text in texts.items():
        assert EMULATOR_API_KEY not in text and WRONG_KEY not in text, name


# -- the key never crosses the network in clear ---------------------------------------------------------

@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail on any attempt to resolve or connect (sync and asyncio both go through these)."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError(f"a connection was attempted: {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.mark.parametrize("host", ["http://203.0.113.10:8089/minimax", "http://hailuo-emulator:8089/minimax",
                                  "http://10.0.0.7/minimax", "http://[2001:db8::1]:8089/minimax"])
def test_key_is_never_sent_over_plain_http_to_a_remote_host(host: str, monkeypatch: pytest.MonkeyPatch,
                                                            no_sockets: list[Any], tmp_path: Path) -> None:
    import asyncio

    from airflow_provider_hailuo.core.request import VideoRequest
    from airflow_provider_hailuo.hooks import aget_hook, get_hook
    from tests.reliability.helpers import run_generate, run_transfer

    name, value = conn_env("hailuo_remote_plain", "hailuo_minimax", host)
    monkeypatch.setenv(name, value)
    request = VideoRequest.build(model="MiniMax-Hailuo-2.3", prompt="A tram in the fog")

    async def poll() -> Any:
        hook = await aget_hook("hailuo_remote_plain")
        async with await hook.async_transport() as transport:
            return await hook.aget_status("1", transport)

    calls = {
        "submit": lambda: get_hook("hailuo_remote_plain").submit(request),
        "status": lambda: get_hook("hailuo_remote_plain").get_status("1"),
        "status (trigger)": lambda: asyncio.run(poll()),
        "operator": lambda: run_generate("hailuo_remote_plain", deferrable=False),
        "transfer": lambda: run_transfer("hailuo_remote_plain", f"file://{tmp_path}/v.mp4",
                                         {"video_task_id": "1", "file_id": "2", "vendor": "minimax"}),
    }
    for what, call in calls.items():
        with pytest.raises(HailuoConfigurationError) as caught:
            call()
        assert caught.value.parameter == "host", what
        assert "plain http" in str(caught.value) and "allow_insecure_http" in str(caught.value), what
        assert EMULATOR_API_KEY not in str(caught.value)
    assert no_sockets == []
    # the guard itself works, for requests and for aiohttp
    import aiohttp
    import requests

    with pytest.raises(AssertionError):
        requests.get("http://127.0.0.1:9/", timeout=1)

    async def fetch() -> None:
        async with aiohttp.ClientSession() as session, session.get("http://127.0.0.1:9/"):
            pass

    with pytest.raises(AssertionError):
        asyncio.run(fetch())
    assert no_sockets


def test_plain_http_is_allowed_only_for_loopback_or_by_explicit_opt_in(monkeypatch: pytest.MonkeyPatch,
                                                                      no_sockets: list[Any]) -> None:
    from airflow_provider_hailuo.hooks import get_hook

    cases = {
        "hailuo_loopback": ("http://127.0.0.1:8089/minimax", None, "http://127.0.0.1:8089/minimax"),
        "hailuo_localhost": ("http://localhost:8089/minimax", None, "http://localhost:8089/minimax"),
        "hailuo_no_scheme_remote": ("api.example.com/minimax", None, "https://api.example.com/minimax"),
        "hailuo_opt_in": ("http://203.0.113.10/minimax", {"allow_insecure_http": True}, "http://203.0.113.10/minimax"),
    }
    for conn_id, (host, extra, expected) in cases.items():
        name, value = conn_env(conn_id, "hailuo_minimax", host, extra=extra)
        monkeypatch.setenv(name, value)
        settings = get_hook(conn_id).settings
        assert settings.base_url == expected
        assert EMULATOR_API_KEY not in repr(settings)  # the headers are not in its repr
    assert no_sockets == []
