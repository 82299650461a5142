"""The triggerer's shared aiohttp sessions and de-duplicated connection reads, without a network."""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any

import pytest

from airflow_provider_hailuo.hooks import connection_reads
from airflow_provider_hailuo.transport.policy import DEFAULT_POLICY
from airflow_provider_hailuo.transport.shared_sessions import SHARED_SESSIONS, SessionKey

KEY = SessionKey.of("hailuo_test", "http://127.0.0.1:9/minimax", {"Authorization": "Bearer sk-1"}, DEFAULT_POLICY)


def test_the_key_hashes_the_auth_headers_and_never_holds_them() -> None:
    rotated = SessionKey.of("hailuo_test", "http://127.0.0.1:9/minimax", {"Authorization": "Bearer sk-2"},
                            DEFAULT_POLICY)
    assert rotated != KEY
    assert "sk-1" not in repr(KEY) and "sk-1" not in str(KEY.__dict__)


@pytest.mark.filterwarnings("error::ResourceWarning")
def test_users_of_one_key_share_one_session_and_the_last_one_closes_it() -> None:
    async def scenario() -> None:
        first, second = SHARED_SESSIONS.acquire(KEY), SHARED_SESSIONS.acquire(KEY)
        assert first is second and SHARED_SESSIONS.open_sessions() == 1
        await SHARED_SESSIONS.release(KEY)
        assert not first.closed  # one user left
        await SHARED_SESSIONS.release(KEY)
        assert first.closed and SHARED_SESSIONS.open_sessions() == 0
        third = SHARED_SESSIONS.acquire(KEY)  # a new user after the last left: a new session
        assert third is not first
        await SHARED_SESSIONS.release(KEY)
        assert third.closed

    asyncio.run(scenario())


@pytest.mark.filterwarnings("error::ResourceWarning")
def test_two_event_loops_never_share_a_session() -> None:
    """Two threads, each with its own loop, hold a session for the same key at the same time; then
    ``asyncio.run`` twice in a row. aiohttp sessions are bound to their loop: sharing one would fail."""
    both_hold = threading.Barrier(2, timeout=30)
    seen: dict[str, tuple[Any, Any]] = {}

    def in_thread(name: str) -> None:
        async def hold() -> None:
            session = SHARED_SESSIONS.acquire(KEY)
            seen[name] = (session, asyncio.get_running_loop())
            await asyncio.to_thread(both_hold.wait)  # both sessions open at once
            assert session.connector is not None and session.connector._loop is asyncio.get_running_loop()
            await SHARED_SESSIONS.release(KEY)

        asyncio.run(hold())

    threads = [threading.Thread(target=in_thread, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    (session_a, loop_a), (session_b, loop_b) = seen["a"], seen["b"]
    assert loop_a is not loop_b and session_a is not session_b
    assert session_a.closed and session_b.closed

    async def one_run() -> Any:
        session = SHARED_SESSIONS.acquire(KEY)
        await SHARED_SESSIONS.release(KEY)
        return session

    assert asyncio.run(one_run()) is not asyncio.run(one_run())


def test_reads_of_one_connection_in_flight_are_one_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten polls asking at once cause one read; a poll after it has ended causes a new one, and a
    cancelled waiter does not cancel the read the others wait for."""
    calls: list[str] = []

    async def scenario() -> None:
        release = asyncio.Event()

        async def slow_read(conn_id: str, hook: Any = None) -> str:
            calls.append(conn_id)
            await release.wait()
            return f"conn-{len(calls)}"

        monkeypatch.setattr("airflow.providers.common.compat.connection.get_async_connection", slow_read)
        waiters = [asyncio.ensure_future(connection_reads.read_connection("c1")) for _ in range(10)]
        other = asyncio.ensure_future(connection_reads.read_connection("c2"))
        await asyncio.sleep(0.01)
        waiters[0].cancel()
        await asyncio.sleep(0)
        release.set()
        results = await asyncio.gather(*waiters[1:], other)
        assert calls == ["c1", "c2"]
        assert len(set(results[:-1])) == 1  # the nine left all got the one read's answer
        assert waiters[0].cancelled()
        again = await connection_reads.read_connection("c1")  # the read is over: a fresh one
        assert calls == ["c1", "c2", "c1"] and again == "conn-3"

    asyncio.run(scenario())
    gc.collect()


def test_a_failed_read_reaches_every_waiter_and_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[int] = []

    async def scenario() -> None:
        async def failing_read(conn_id: str, hook: Any = None) -> str:
            attempts.append(1)
            await asyncio.sleep(0.01)
            raise LookupError("supervisor unreachable")

        monkeypatch.setattr("airflow.providers.common.compat.connection.get_async_connection", failing_read)
        outcomes = await asyncio.gather(*(connection_reads.read_connection("c1") for _ in range(5)),
                                        return_exceptions=True)
        assert all(isinstance(outcome, LookupError) for outcome in outcomes) and len(attempts) == 1
        with pytest.raises(LookupError):
            await connection_reads.read_connection("c1")
        assert len(attempts) == 2

    asyncio.run(scenario())


def test_the_loop_s_triggers_share_one_hook_per_connection_and_a_failed_one_is_not_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_hailuo.hooks import polling

    made: list[str] = []
    fail = {"c2": True}

    class Hook:
        def for_api(self, api: str) -> Hook:
            return self

    async def aget_hook(conn_id: str, **kwargs: object) -> Hook:
        made.append(conn_id)
        await asyncio.sleep(0.01)
        if fail.get(conn_id):
            raise LookupError(f"no connection {conn_id}")
        return Hook()

    monkeypatch.setattr("airflow_provider_hailuo.hooks.aget_hook", aget_hook)

    async def scenario() -> tuple[list[Any], list[Any]]:
        shared = await asyncio.gather(*(polling.polling_hook("c1", "v1") for _ in range(20)))
        failed = await asyncio.gather(*(polling.polling_hook("c2", "v1") for _ in range(5)), return_exceptions=True)
        fail["c2"] = False
        again = await polling.polling_hook("c2", "v1")  # the failure was not kept
        return list(shared), [*failed, again]

    first_loop, second = asyncio.run(scenario())
    assert len({id(hook) for hook in first_loop}) == 1  # twenty triggers, one hook, one lookup
    assert all(isinstance(outcome, LookupError) for outcome in second[:5]) and isinstance(second[5], Hook)
    assert made == ["c1", "c2", "c2"]
    other_loop = asyncio.run(polling.polling_hook("c1", "v1"))  # another loop makes its own
    assert other_loop is not first_loop[0] and made[-1] == "c1"


def test_a_shared_session_has_one_slot_per_pooled_connection() -> None:
    async def scenario() -> tuple[int, int | None]:
        session = SHARED_SESSIONS.acquire(KEY)
        try:
            assert session.connector is not None
            return SHARED_SESSIONS.slots(KEY)._value, session.connector.limit
        finally:
            await SHARED_SESSIONS.release(KEY)

    slots, limit = asyncio.run(scenario())
    assert slots == limit == 100


def test_polls_beyond_the_slots_wait_before_building_a_request_and_cancelled_ones_give_theirs_back() -> None:
    """Over real HTTP: twelve polls through three slots never have more than three requests at the
    server, and a poll cancelled while it waits for a slot (or while it holds one) leaves none taken."""
    from aiohttp import web

    from airflow_provider_hailuo.transport.aio import AsyncTransport
    from airflow_provider_hailuo.vendors.base import HttpRequest

    async def scenario() -> tuple[int, list[int], int]:
        at_server = [0, 0]  # now, most at once

        async def slow(request: web.Request) -> web.Response:
            at_server[0] += 1
            at_server[1] = max(at_server[1], at_server[0])
            try:
                await asyncio.sleep(0.05)
                return web.json_response({"ok": True})
            finally:
                at_server[0] -= 1

        app = web.Application()
        app.router.add_get("/status", slow)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        slots = asyncio.Semaphore(3)
        request = HttpRequest("GET", "/status", "status")
        try:
            async with AsyncTransport(f"http://127.0.0.1:{port}", {}, vendor="minimax", slots=slots) as transport:
                statuses = [answer.status for answer in
                            await asyncio.gather(*(transport.send(request) for _ in range(12)))]
                polls = [asyncio.ensure_future(transport.send(request)) for _ in range(6)]
                await asyncio.sleep(0.01)  # three hold a slot, three wait for one
                for poll in polls:
                    poll.cancel()
                await asyncio.gather(*polls, return_exceptions=True)
        finally:
            await runner.cleanup()
        return at_server[1], statuses, slots._value

    most_at_once, statuses, free_after = asyncio.run(scenario())
    assert statuses == [200] * 12
    assert most_at_once == 3
    assert free_after == 3


@pytest.mark.filterwarnings("error::ResourceWarning")
def test_the_users_of_a_session_share_one_client_rebuilt_when_what_it_is_for_changes() -> None:
    async def scenario() -> None:
        session = SHARED_SESSIONS.acquire(KEY)
        SHARED_SESSIONS.acquire(KEY)
        built: list[tuple[Any, Any]] = []

        def build(on: Any, slots: asyncio.Semaphore) -> object:
            built.append((on, slots))
            return object()

        first = SHARED_SESSIONS.client(KEY, ("settings-1",), build)
        assert SHARED_SESSIONS.client(KEY, ("settings-1",), build) is first  # the second user: the same one
        assert built == [(session, SHARED_SESSIONS.slots(KEY))]
        changed = SHARED_SESSIONS.client(KEY, ("settings-2",), build)  # e.g. a new retry policy, same key
        assert changed is not first and len(built) == 2
        await SHARED_SESSIONS.release(KEY)
        await SHARED_SESSIONS.release(KEY)
        SHARED_SESSIONS.acquire(KEY)  # a new session after the last user left: a new client on it
        again = SHARED_SESSIONS.client(KEY, ("settings-2",), build)
        assert again is not changed and built[-1][0] is not session and not built[-1][0].closed
        await SHARED_SESSIONS.release(KEY)

    asyncio.run(scenario())
