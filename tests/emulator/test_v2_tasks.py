"""v2 tasks: statuses, query, list, delete per status, URL expiry on the CDN, limits and key types."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_hailuo.emulator import EmulatorServer

from .helpers import AUTH, TIMEOUT, submit, task_id_of
from .v2_helpers import (
    BEARER,
    OTHER_KEY,
    PACKAGE_KEY,
    PLAN_KEY,
    assert_error,
    body,
    create,
    delete,
    listing,
    query,
    task,
    task_id,
    wait_final,
)

pytestmark = pytest.mark.integration

LONG = 600.0  # seconds: a phase that cannot end during a test


def summary(server: EmulatorServer, tid: str) -> dict[str, object]:
    return next(item for item in server.tasks() if item["task_id"] == tid)


def queued_task(server: EmulatorServer) -> str:
    server.configure(generation_seconds=LONG, v2_queue_seconds=LONG)
    return task_id(create(server, body()))


def running_task(server: EmulatorServer) -> str:
    server.configure(generation_seconds=LONG, v2_queue_seconds=0)
    return task_id(create(server, body()))


def succeeded_task(server: EmulatorServer, **fields: object) -> str:
    server.configure(generation_seconds=0, v2_queue_seconds=None, synthetic_video_bytes=4096)
    return task_id(create(server, body(**fields)))


def test_statuses_queued_running_succeeded(emulator: EmulatorServer) -> None:
    queued, running, done = queued_task(emulator), running_task(emulator), succeeded_task(emulator)
    assert task(emulator, queued)["status"] == "queued"
    assert task(emulator, running)["status"] == "running"
    final = task(emulator, done)
    assert final["status"] == "succeeded"
    assert {"id", "model", "status", "created_at", "updated_at", "content", "resolution", "duration", "ratio"} <= set(
        final
    )
    assert (final["id"], final["model"], final["resolution"], final["duration"], final["ratio"]) == (
        done, "MiniMax-H3", "768P", 5, "16:9",
    )  # fmt: skip
    assert (final["task_type"], final["modality"]) == ("generation", "video")
    assert final["usage"] == {"total_seconds": 5, "input_seconds": 0, "output_seconds": 5, "input_image_count": 0}
    assert final["updated_at"] >= final["created_at"]
    for in_flight in (queued, running):
        current = task(emulator, in_flight)
        assert "content" not in current and "usage" not in current and "error" not in current


def test_a_real_lifecycle_moves_through_the_statuses(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=1.0, v2_queue_seconds=0.5, synthetic_video_bytes=1000)
    tid = task_id(create(emulator, body()))
    seen = [task(emulator, tid)["status"]]
    while seen[-1] != "succeeded":
        time.sleep(0.02)
        status = task(emulator, tid)["status"]
        if status != seen[-1]:
            seen.append(status)
    assert seen[-1] == "succeeded" and set(seen) <= {"queued", "running", "succeeded"}
    assert seen == sorted(seen, key=["queued", "running", "succeeded"].index)


def test_failed_task_has_a_string_code_and_zero_usage(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0, final_status="fail", fail_reason="the render farm caught fire")
    failed = task(emulator, task_id(create(emulator, body())))
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "1000", "message": "the render farm caught fire"}
    assert "content" not in failed and set(failed["usage"].values()) == {0}
    emulator.configure(final_status="success", moderation="output")
    flagged = task(emulator, task_id(create(emulator, body())))
    assert flagged["status"] == "failed" and flagged["error"]["code"] == "1027"
    assert not summary(emulator, flagged["id"])["charged"]


def test_expired_after_the_task_lifetime(emulator: EmulatorServer) -> None:
    tid = succeeded_task(emulator)
    assert task(emulator, tid)["status"] == "succeeded"
    emulator.configure(v2_task_lifetime=0)
    expired = task(emulator, tid)
    assert expired["status"] == "expired" and "content" not in expired
    assert expired["usage"]["output_seconds"] == 5  # it was charged
    assert listing(emulator, **{"filter.status": "expired"}).json()["total"] == 1


def test_seven_day_window(emulator: EmulatorServer) -> None:
    assert emulator.config["v2_query_window"] == 7 * 86400
    tid = succeeded_task(emulator)
    assert task(emulator, tid)["status"] == "succeeded"
    emulator.configure(v2_query_window=0)  # every task is now older than the window
    assert "invalid task_id" in assert_error(query(emulator, tid), 400, "bad_request_error", 2013)
    assert listing(emulator).json() == {"items": [], "total": 0}
    assert_error(delete(emulator, tid), 400, "bad_request_error", 2013)


def test_unknown_and_foreign_task_ids(emulator: EmulatorServer) -> None:
    assert_error(query(emulator, "123456789012345"), 400, "bad_request_error", 2013)
    emulator.configure(v2_keys={OTHER_KEY: "pay_as_you_go"})
    other = {"Authorization": f"Bearer {OTHER_KEY}"}
    theirs = task_id(create(emulator, body(), headers=other))
    assert query(emulator, theirs, headers=other).status_code == 200
    assert "invalid task_id" in assert_error(query(emulator, theirs), 400, "bad_request_error", 2013)
    assert listing(emulator).json()["total"] == 0 and listing(emulator, headers=other).json()["total"] == 1
    v1_task = task_id_of("minimax", submit(emulator, "minimax", prompt="a v1 task"))
    assert_error(query(emulator, v1_task), 400, "bad_request_error", 2013)


def test_url_is_on_another_origin_and_needs_no_key(emulator: EmulatorServer) -> None:
    final = task(emulator, succeeded_task(emulator))
    url = final["content"]["url"]
    api_origin = emulator.url
    assert not url.startswith(api_origin) and "/minimax" not in url
    assert url.startswith(f"http://127.0.0.1:{emulator.v2_cdn_port}/inference_output/video/")
    response = requests.get(url, timeout=TIMEOUT)
    assert response.status_code == 200 and len(response.content) == 4096
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Content-Disposition"].startswith("attachment")
    # the same object is not served on the API's port
    assert requests.get(api_origin + url.split(str(emulator.v2_cdn_port), 1)[1], timeout=TIMEOUT).status_code == 404
    logged = emulator.requests(endpoint="v2_download")
    assert logged[-1]["vendor"] == "minimax" and logged[-1]["task_id"] == final["id"] and logged[-1]["complete"]


def test_expired_url_is_refused_and_a_fresh_query_signs_a_new_one(emulator: EmulatorServer) -> None:
    tid = succeeded_task(emulator)
    emulator.configure(download_url_ttl=0)
    stale = task(emulator, tid)["content"]["url"]
    expired = requests.get(stale, timeout=TIMEOUT)
    assert expired.status_code == 403 and "Request has expired." in expired.text
    emulator.configure(download_url_ttl=3600)
    fresh = task(emulator, tid)["content"]["url"]
    assert fresh != stale
    assert requests.get(fresh, timeout=TIMEOUT).status_code == 200
    tampered = fresh.replace("Signature=", "Signature=A")
    assert requests.get(tampered, timeout=TIMEOUT).status_code == 403
    assert len([item for item in emulator.tasks() if item.get("api") == "v2"]) == 1  # no resubmission needed


def test_list_pages_newest_first(emulator: EmulatorServer) -> None:
    ids = [succeeded_task(emulator) for _ in range(5)]
    first = listing(emulator, page_num=1, page_size=2).json()
    second = listing(emulator, page_num=2, page_size=2).json()
    third = listing(emulator, page_num=3, page_size=2).json()
    assert first["total"] == second["total"] == third["total"] == 5
    pages = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert pages == list(reversed(ids))
    assert [len(page["items"]) for page in (first, second, third)] == [2, 2, 1]
    assert listing(emulator, page_num=4, page_size=2).json() == {"items": [], "total": 5}
    assert listing(emulator).json()["items"][0]["content"]["url"].startswith("http://127.0.0.1:")


def test_list_filters(emulator: EmulatorServer) -> None:
    done = succeeded_task(emulator)
    max_task = succeeded_task(emulator, model="MiniMax-H3-Max", resolution="480P")
    waiting = queued_task(emulator)
    by_status = listing(emulator, **{"filter.status": "queued"}).json()
    assert [item["id"] for item in by_status["items"]] == [waiting] and by_status["total"] == 1
    by_ids = listing(emulator, **{"filter.task_ids": f"{done},{waiting}"}).json()
    assert sorted(item["id"] for item in by_ids["items"]) == sorted([done, waiting])
    by_model = listing(emulator, **{"filter.model": "MiniMax-H3-Max"}).json()
    assert [item["id"] for item in by_model["items"]] == [max_task]
    assert listing(emulator, **{"filter.task_type": "generation"}).json()["total"] == 3
    assert listing(emulator, **{"filter.task_type": "h3_context_ir"}).json()["total"] == 0


@pytest.mark.parametrize(
    "params",
    [{"page_size": 0}, {"page_size": 101}, {"page_num": 0}, {"page_num": "x"}, {"filter.status": "done"}],
)
def test_list_bad_parameters(emulator: EmulatorServer, params: dict[str, object]) -> None:
    assert_error(listing(emulator, **params), 400, "bad_request_error", 2013)


def test_delete_queued_cancels_without_charge(emulator: EmulatorServer) -> None:
    tid = queued_task(emulator)
    answer = delete(emulator, tid)
    assert answer.status_code == 200
    assert answer.json() == {"task_id": tid, "action": "cancelled", "status": "cancelled"}
    cancelled = task(emulator, tid)
    assert cancelled["status"] == "cancelled" and set(cancelled["usage"].values()) == {0}
    entry = summary(emulator, tid)
    assert entry["status"] == "cancelled" and entry["cancelled"] is True and entry["charged"] is False
    # cancelling again is an error
    assert "cancelled" in assert_error(delete(emulator, tid), 400, "bad_request_error", 2013)


def test_delete_running_is_an_error(emulator: EmulatorServer) -> None:
    tid = running_task(emulator)
    assert "running" in assert_error(delete(emulator, tid), 400, "bad_request_error", 2013)
    assert task(emulator, tid)["status"] == "running"


@pytest.mark.parametrize("outcome", ["success", "fail"])
def test_delete_finished_deletes(emulator: EmulatorServer, outcome: str) -> None:
    emulator.configure(final_status=outcome)
    tid = succeeded_task(emulator)
    assert task(emulator, tid)["status"] in ("succeeded", "failed")
    assert delete(emulator, tid).json() == {"task_id": tid, "action": "deleted", "status": "deleted"}
    assert_error(query(emulator, tid), 400, "bad_request_error", 2013)
    assert_error(delete(emulator, tid), 400, "bad_request_error", 2013)


def test_thirty_tasks_in_flight(emulator: EmulatorServer) -> None:
    assert emulator.config["v2_max_in_flight"] == 30
    ids = [queued_task(emulator) for _ in range(30)]
    over = create(emulator, body())
    assert "30" in assert_error(over, 429, "rate_limit_error", 1002)
    tasks = requests.get(emulator.url + "/_emulator/tasks", headers=AUTH["dmxapi"], timeout=TIMEOUT).json()
    assert tasks["v2_in_flight"] == {"default": 30}
    assert len(tasks["tasks"]) == 30
    delete(emulator, ids[0])  # a cancelled task leaves the count
    task_id(create(emulator, body()))
    assert_error(create(emulator, body()), 429, "rate_limit_error", 1002)
    emulator.configure(v2_max_in_flight=None)
    task_id(create(emulator, body()))


def test_finished_tasks_leave_the_in_flight_count(emulator: EmulatorServer) -> None:
    emulator.configure(v2_max_in_flight=2)
    succeeded_task(emulator)
    succeeded_task(emulator)
    succeeded_task(emulator)  # finished tasks do not count
    queued_task(emulator)
    running_task(emulator)
    assert_error(create(emulator, body()), 429, "rate_limit_error", 1002)


def test_300_requests_per_minute(emulator: EmulatorServer) -> None:
    assert emulator.config["v2_rpm"] == 300
    emulator.configure(generation_seconds=0, synthetic_video_bytes=100, v2_max_in_flight=None)
    session = requests.Session()
    url = emulator.base_url("minimax") + "/v2/video_generation"
    statuses = [session.post(url, json=body(), headers=BEARER, timeout=TIMEOUT).status_code for _ in range(301)]
    assert statuses[:300] == [200] * 300
    assert_error(create(emulator, body()), 429, "rate_limit_error", 1002)
    assert statuses[300] == 429
    assert len(emulator.tasks()) == 300


def test_rpm_is_configurable_and_refusals_do_not_count(emulator: EmulatorServer) -> None:
    emulator.configure(v2_rpm=2)
    task_id(create(emulator, body()))
    task_id(create(emulator, body()))
    for _ in range(3):
        assert_error(create(emulator, body()), 429, "rate_limit_error", 1002)
    assert len(emulator.tasks()) == 2
    emulator.configure(v2_keys={OTHER_KEY: "pay_as_you_go"})  # the window is per account
    task_id(create(emulator, body(), headers={"Authorization": f"Bearer {OTHER_KEY}"}))


@pytest.mark.parametrize(("key", "plan"), [(PLAN_KEY, "Token Plan"), (PACKAGE_KEY, "Video Package")])
def test_plan_keys_work_on_v1_but_not_on_h3(emulator: EmulatorServer, key: str, plan: str) -> None:
    emulator.configure(v2_keys={key: plan.lower().replace(" ", "_")}, generation_seconds=0)
    headers = {"Authorization": f"Bearer {key}"}
    message = assert_error(create(emulator, body(), headers=headers), 400, "bad_request_error", 2013)
    assert plan in message and "pay-as-you-go" in message
    v1 = submit(emulator, "minimax", headers=headers, prompt="v1 still works")
    task_id_of("minimax", v1)
    assert listing(emulator, headers=headers).json() == {"items": [], "total": 0}
    # a key that is not configured is unknown on both APIs
    emulator.configure(v2_keys={})
    assert submit(emulator, "minimax", headers=headers, prompt="x").json()["base_resp"]["status_code"] == 1004
    assert_error(create(emulator, body(), headers=headers), 401, "authorized_error", 1004)


def test_bad_v2_options_are_refused(emulator: EmulatorServer) -> None:
    for options in ({"v2_keys": {"k": "gold"}}, {"v2_rpm": 0}, {"v2_max_in_flight": "30"}, {"v2_task_lifetime": -1}):
        response = requests.post(
            emulator.url + "/_emulator/config", json=options, headers=AUTH["dmxapi"], timeout=TIMEOUT
        )
        assert response.status_code == 400, options


def test_request_log_and_reset(emulator: EmulatorServer) -> None:
    tid = succeeded_task(emulator)
    wait_final(emulator, tid)
    listing(emulator)
    delete(emulator, tid)
    endpoints = [entry["endpoint"] for entry in emulator.requests(vendor="minimax")]
    assert endpoints[0] == "v2_submit" and {"v2_status", "v2_list", "v2_delete"} <= set(endpoints)
    submit_entry = emulator.requests(endpoint="v2_submit")[0]
    assert submit_entry["task_id"] == tid and submit_entry["body"]["model"] == "MiniMax-H3"
    assert submit_entry["headers"]["Authorization"] == "***"
    queued_task(emulator)
    emulator.reset()
    assert emulator.tasks() == [] and listing(emulator).json()["total"] == 0
