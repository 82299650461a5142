"""The three hooks over real HTTP against a scripted local server: sync and async, retries, auth."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_provider_hailuo.core.models import TaskState
from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.exceptions import (
    HailuoAuthenticationError,
    HailuoConfigurationError,
    HailuoRateLimitError,
    HailuoTransientError,
)
from airflow_provider_hailuo.hooks import get_hook
from airflow_provider_hailuo.hooks.dmxapi import DMXAPIHook
from airflow_provider_hailuo.hooks.minimax import MiniMaxHook
from airflow_provider_hailuo.hooks.modelverse import ModelverseHook
from airflow_provider_hailuo.transport.policy import RetryPolicy
from tests.conftest import EMULATOR_API_KEY, conn_env
from tests.integration.scripted_server import Reply, ScriptedServer

pytestmark = pytest.mark.integration
FAST = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.02, rate_limit_initial_backoff=0.01,
                   rate_limit_max_backoff=0.02, rate_limit_budget=5, read_timeout=2)
OK = {"status_code": 0, "status_msg": "success"}
TEXT = VideoRequest.build(model="MiniMax-Hailuo-2.3", prompt="A lighthouse at dusk [推进]")


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


def set_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, conn_type: str, host: str, **extra: object) -> None:
    name, value = conn_env(conn_id, conn_type, host, extra=extra or None)
    monkeypatch.setenv(name, value)


VENDORS = {
    "minimax": (MiniMaxHook, "hailuo_minimax", "/mm", f"Bearer {EMULATOR_API_KEY}"),
    "dmxapi": (DMXAPIHook, "hailuo_dmxapi", "/dmx", EMULATOR_API_KEY),
    "modelverse": (ModelverseHook, "hailuo_modelverse", "/mv", EMULATOR_API_KEY),
}


def script_cycle(server: ScriptedServer, vendor: str, prefix: str) -> None:
    cdn = server.url + "/cdn/v.mp4?Expires=9999999999&Signature=abc"
    if vendor == "modelverse":
        server.add(prefix + "/v1/tasks/submit", Reply({"output": {"task_id": "555"}, "request_id": "r1"}))
        running = {"output": {"task_id": "555", "task_status": "Running"}}
        done = {"output": {"task_id": "555", "task_status": "Success", "urls": [cdn]}, "usage": {"duration": 6}}
        server.add(prefix + "/v1/tasks/status", Reply(running), Reply(done), Reply(done), Reply(done))
    else:
        server.add(prefix + "/v1/video_generation", Reply({"task_id": "555", "base_resp": OK}))
        running = {"task_id": "555", "status": "Processing", "base_resp": OK}
        done = {"task_id": "555", "status": "Success", "file_id": "777", "video_width": 1366, "video_height": 768,
                "base_resp": OK}
        server.add(prefix + "/v1/query/video_generation", Reply(running), Reply(done), Reply(done))
        server.add(prefix + "/v1/files/retrieve", Reply({"file": {"file_id": 777, "bytes": 0, "download_url": cdn},
                                                         "base_resp": OK}))


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_full_cycle_sync_and_async(vendor: str, server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    hook_cls, conn_type, prefix, auth = VENDORS[vendor]
    set_conn(monkeypatch, "hailuo_t", conn_type, server.url + prefix)
    script_cycle(server, vendor, prefix)
    hook = get_hook("hailuo_t", retry_policy=FAST)
    assert isinstance(hook, hook_cls)

    task_id = hook.submit(TEXT)
    assert task_id == "555"
    assert hook.get_status(task_id).state is TaskState.RUNNING

    async def poll() -> object:
        async with await hook.async_transport() as transport:
            return await hook.aget_status(task_id, transport)

    import asyncio

    status = asyncio.run(poll())
    assert status.state is TaskState.SUCCEEDED  # type: ignore[attr-defined]
    location = hook.get_download_location(task_id, status.file_id)  # type: ignore[attr-defined]
    assert location.url is not None and location.url.startswith(server.url + "/cdn/")

    assert {seen.headers.get("Authorization") for seen in server.seen} == {auth}
    submit = server.seen[0]
    assert submit.method == "POST"
    if vendor == "modelverse":
        assert submit.body == {"model": "MiniMax-Hailuo-2.3", "input": {"prompt": "A lighthouse at dusk [推进]"}}
    else:
        assert submit.body == {"model": "MiniMax-Hailuo-2.3", "prompt": "A lighthouse at dusk [推进]"}
    if vendor == "dmxapi":
        assert server.hits(prefix + "/v1/files/retrieve")[0].query == {"file_id": ["777"], "task_id": ["555"]}


def test_dmxapi_bearer_scheme(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "hailuo_t", "hailuo_dmxapi", server.url, auth_scheme="bearer")
    server.add("/v1/query/video_generation", Reply({"task_id": "1", "status": "Queueing", "base_resp": OK}))
    DMXAPIHook("hailuo_t").get_status("1")
    assert server.seen[0].headers["Authorization"] == f"Bearer {EMULATOR_API_KEY}"


def test_status_retries_rate_limit_and_5xx_then_succeeds(server: ScriptedServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "hailuo_t", "hailuo_minimax", server.url)
    path = "/v1/query/video_generation"
    server.add(path, Reply({"base_resp": {"status_code": 1002, "status_msg": "rate limit"}}),
               Reply({"error": "boom"}, status=502),
               Reply({"task_id": "1", "status": "Processing", "base_resp": OK}))
    status = MiniMaxHook("hailuo_t", retry_policy=FAST).get_status("1")
    assert status.state is TaskState.RUNNING
    assert len(server.hits(path)) == 3


def test_submit_retries_1002_but_never_1004(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "hailuo_t", "hailuo_minimax", server.url)
    path = "/v1/video_generation"
    server.add(path, Reply({"base_resp": {"status_code": 1002, "status_msg": "rpm"}}),
               Reply({"task_id": "9", "base_resp": OK}))
    hook = MiniMaxHook("hailuo_t", retry_policy=FAST)
    assert hook.submit(TEXT) == "9"
    assert len(server.hits(path)) == 2

    server.add(path, Reply({"base_resp": {"status_code": 1004, "status_msg": "login fail"}}),
               Reply({"task_id": "10", "base_resp": OK}))
    with pytest.raises(HailuoAuthenticationError) as info:
        hook.submit(TEXT)
    assert len(server.hits(path)) == 3  # one more call, not retried
    assert "1004" in str(info.value) and "trace-scripted" in str(info.value)
    assert EMULATOR_API_KEY not in str(info.value)


def test_rate_limit_gives_up_after_its_budget(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "hailuo_t", "hailuo_minimax", server.url)
    server.default["/v1/query/video_generation"] = Reply({"base_resp": {"status_code": 1002, "status_msg": "rpm"}})
    policy = RetryPolicy(rate_limit_initial_backoff=0.05, rate_limit_max_backoff=0.05, rate_limit_budget=0.3)
    with pytest.raises(HailuoRateLimitError):
        MiniMaxHook("hailuo_t", retry_policy=policy).get_status("1")
    assert 3 <= len(server.seen) <= 15


def test_submit_is_not_repeated_after_connection_reset(server: ScriptedServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "hailuo_t", "hailuo_minimax", server.url)
    server.add("/v1/video_generation", Reply(reset=True), Reply({"task_id": "9", "base_resp": OK}))
    with pytest.raises(HailuoTransientError):
        MiniMaxHook("hailuo_t", retry_policy=FAST).submit(TEXT)
    assert len(server.hits("/v1/video_generation")) == 1


def test_status_is_repeated_after_connection_reset(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "hailuo_t", "hailuo_minimax", server.url)
    server.add("/v1/query/video_generation", Reply(reset=True),
               Reply({"task_id": "1", "status": "Success", "file_id": "2", "base_resp": OK}))
    assert MiniMaxHook("hailuo_t", retry_policy=FAST).get_status("1").file_id == "2"


async def test_async_retries_and_auth_failure(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "hailuo_t", "hailuo_modelverse", server.url)
    path = "/v1/tasks/status"
    server.add(path, Reply({"error": {"code": "RateLimit", "message": "slow down"}}, status=429),
               Reply({"error": "x"}, status=503),
               Reply({"output": {"task_id": "3", "task_status": "Pending"}}),
               Reply({"error": {"code": "Unauthorized", "message": "bad key"}}, status=401),
               Reply({"output": {"task_id": "3", "task_status": "Pending"}}))
    hook = ModelverseHook("hailuo_t", retry_policy=FAST)
    async with await hook.async_transport() as transport:
        assert (await hook.aget_status("3", transport)).state is TaskState.QUEUED
        with pytest.raises(HailuoAuthenticationError, match="bad key"):
            await hook.aget_status("3", transport)
    assert len(server.hits(path)) == 4


async def test_async_reads_connection_without_sync_property(server: ScriptedServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "hailuo_t", "hailuo_minimax", server.url)
    hook = MiniMaxHook("hailuo_t")
    monkeypatch.setattr(MiniMaxHook, "get_connection", lambda *a, **k: pytest.fail("sync lookup in async path"))
    settings = await hook.aget_settings()
    assert settings.base_url == server.url
    assert EMULATOR_API_KEY not in repr(settings)


def test_test_connection(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "hailuo_t", "hailuo_minimax", server.url)
    server.add("/v1/query/video_generation",
               Reply({"base_resp": {"status_code": 2013, "status_msg": "invalid task_id"}}),
               Reply({"base_resp": {"status_code": 1004, "status_msg": "login fail"}}))
    hook = MiniMaxHook("hailuo_t", retry_policy=FAST)
    assert hook.test_connection()[0] is True
    ok, message = hook.test_connection()
    assert ok is False and "refused the key" in message
    assert len(server.seen) == 2


# --- connection handling, no request sent ---------------------------------------------------------------

def test_key_over_plain_http_to_remote_host_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "hailuo_t", "hailuo_minimax", "http://video.example.com")
    with pytest.raises(HailuoConfigurationError, match="plain http"):
        MiniMaxHook("hailuo_t").settings  # noqa: B018
    set_conn(monkeypatch, "hailuo_t", "hailuo_minimax", "http://video.example.com", allow_insecure_http=True)
    assert MiniMaxHook("hailuo_t").settings.base_url == "http://video.example.com"


def test_host_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    cases = {
        "http://127.0.0.1:8089/dmx": "http://127.0.0.1:8089/dmx",
        "127.0.0.1:8089/minimax/": "http://127.0.0.1:8089/minimax",
        "api.minimax.io": "https://api.minimax.io",
        "": "https://api.minimaxi.com",
    }
    for host, expected in cases.items():
        set_conn(monkeypatch, "hailuo_t", "hailuo_minimax", host)
        assert MiniMaxHook("hailuo_t").settings.base_url == expected
    set_conn(monkeypatch, "hailuo_t", "hailuo_minimax", "", region="global")
    assert MiniMaxHook("hailuo_t").settings.base_url == "https://api.minimax.io"


def test_bad_connections_raise_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(HailuoConfigurationError, match="not defined"):
        get_hook("hailuo_nowhere")
    monkeypatch.setenv("AIRFLOW_CONN_HAILUO_HTTP", json.dumps({"conn_type": "http", "host": "x", "password": "k"}))
    with pytest.raises(HailuoConfigurationError, match="not a Hailuo connection"):
        get_hook("hailuo_http")
    with pytest.raises(HailuoConfigurationError, match="hailuo_minimax"):
        MiniMaxHook("hailuo_http").settings  # noqa: B018
    monkeypatch.setenv("AIRFLOW_CONN_HAILUO_NOKEY", json.dumps({"conn_type": "hailuo_dmxapi", "host": ""}))
    with pytest.raises(HailuoConfigurationError, match="no API key"):
        get_hook("hailuo_nokey").settings  # noqa: B018


def test_key_is_registered_with_the_secrets_masker(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.log import redact

    set_conn(monkeypatch, "hailuo_t", "hailuo_minimax", "http://127.0.0.1:9")
    MiniMaxHook("hailuo_t").settings  # noqa: B018
    assert EMULATOR_API_KEY not in str(redact(f"key={EMULATOR_API_KEY}"))
