"""Faults over real HTTP against the emulator: what users expect, no video paid twice, nothing partial stored.

Each scenario runs the real operator (sync, or deferred with the trigger rebuilt from its
serialised kwargs and run over aiohttp), the transfer, or real processes that are SIGKILLed, and
checks three promises:

* the outcome: the run succeeds when waiting helps (rate limits, 5xx, resets, timeouts, garbage on
  idempotent calls), and fails fast otherwise with the vendor's reason: the documented exception
  class, and a message naming the vendor, the code and its meaning, the video task id once one
  exists, and the ``Trace-Id``;
* videos created at the vendor (``emulator.tasks()``): never more than one per run, whatever
  number of submit requests the faults caused;
* the transfer leaves no object at the final key (and no staging object) when it fails.

The retry policy is the suite's fast one (``conftest.FAST_POLICY``); faults meant for the trigger
are added after the operator deferred, so the worker's one check before deferring does not eat them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from airflow_provider_hailuo.emulator import synthetic_video_sha256
from airflow_provider_hailuo.exceptions import (
    HailuoAuthenticationError,
    HailuoDownloadError,
    HailuoError,
    HailuoInsufficientBalanceError,
    HailuoModerationError,
    HailuoProtocolError,
    HailuoRateLimitError,
    HailuoStorageError,
    HailuoTaskFailedError,
    HailuoTransientError,
    HailuoVendorError,
    HailuoVendorInvalidRequestError,
)
from airflow_provider_hailuo.operators.generate import TASK_STATE_KEY
from airflow_provider_hailuo.operators.resume import HailuoSubmitUnconfirmedError
from tests.conftest import EMULATOR_API_KEY
from tests.reliability.helpers import (
    MODEL,
    PROMPT,
    FileStore,
    MemoryStore,
    files_under,
    finished_video,
    first_event,
    make_generate,
    rebuild_trigger,
    run_generate,
    run_transfer,
    videos_created,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]
REPO = Path(__file__).resolve().parents[2]
SIZE = 600_000  # synthetic videos: several chunks, so truncation happens mid-file


def only_task_id(emulator: Any) -> str:
    (task,) = emulator.tasks()
    return str(task["task_id"])


def check_success(result: dict[str, Any], emulator: Any, vendor: str) -> None:
    """The run returned the one video the vendor made."""
    assert result["status"] == "succeeded" and result["vendor"] == vendor
    assert videos_created(emulator) == 1
    assert result["video_task_id"] == only_task_id(emulator)


def check_names(error: BaseException, *parts: object) -> str:
    message = str(error)
    for part in parts:
        assert str(part) in message, f"{part!r} not in {message!r}"
    assert EMULATOR_API_KEY not in message
    return message


def inject(emulator: Any, **fault: Any) -> Any:
    """A ``before_trigger`` hook: add the fault once the operator has deferred."""
    return lambda trigger: emulator.add_fault(**fault)


# -- rate limits -----------------------------------------------------------------------------------

def test_rate_limit_burst_on_submit_is_waited_out(emulator: Any, vendor_conns: dict[str, str]) -> None:
    emulator.add_fault(endpoint="submit", kind="base_resp", code=1002, times=3)
    result = run_generate(vendor_conns["minimax"], deferrable=False)
    check_success(result, emulator, "minimax")
    assert [entry["task_id"] for entry in emulator.requests(endpoint="submit")] == [None, None, None,
                                                                                   result["video_task_id"]]


def test_rate_limit_beyond_the_budget_fails_with_the_vendor_code(emulator: Any, vendor_conns: dict[str, str],
                                                                  policy: Any) -> None:
    policy(rate_limit_budget=0.3)
    emulator.add_fault(endpoint="submit", kind="base_resp", code=1002, times=1000)
    with pytest.raises(HailuoRateLimitError) as caught:
        run_generate(vendor_conns["dmxapi"], deferrable=False)
    check_names(caught.value, "dmxapi", "submit", "code 1002", "rate limited", "Trace-Id")
    assert caught.value.code == 1002 and caught.value.trace_id
    assert videos_created(emulator) == 0


def test_rate_limit_burst_while_polling_is_waited_out(emulator: Any, vendor_conns: dict[str, str]) -> None:
    result = run_generate(vendor_conns["modelverse"],
                          before_trigger=inject(emulator, endpoint="status", kind="base_resp", code=1002, times=3))
    check_success(result, emulator, "modelverse")
    assert [entry["status"] for entry in emulator.requests(endpoint="status")].count(429) == 3


# -- server errors ---------------------------------------------------------------------------------

def test_5xx_run_while_polling_is_waited_out(emulator: Any, vendor_conns: dict[str, str]) -> None:
    # 6 in a row: more than one poll's transport retries (4), fewer than the polls tolerated (5 more).
    result = run_generate(vendor_conns["minimax"],
                          before_trigger=inject(emulator, endpoint="status", kind="http_status", status=503, times=6))
    check_success(result, emulator, "minimax")


def test_503_on_submit_is_repeated_because_nothing_was_created(emulator: Any,
                                                                 vendor_conns: dict[str, str]) -> None:
    emulator.add_fault(endpoint="submit", kind="http_status", status=503, times=2)
    result = run_generate(vendor_conns["dmxapi"], deferrable=False)
    check_success(result, emulator, "dmxapi")
    assert [entry["status"] for entry in emulator.requests(endpoint="submit")] == [503, 503, 200]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_gateway_error_on_submit_is_not_repeated(status: int, emulator: Any, vendor_conns: dict[str, str]) -> None:
    # A gateway may answer 500/502/504 after the vendor accepted the task: repeating could pay twice.
    emulator.add_fault(endpoint="submit", kind="http_status", status=status, times=1)
    with pytest.raises(HailuoTransientError) as caught:
        run_generate(vendor_conns["dmxapi"], deferrable=False)
    check_names(caught.value, "dmxapi", f"HTTP {status}")
    assert [entry["status"] for entry in emulator.requests(endpoint="submit")] == [status]


def test_5xx_beyond_tolerance_fails_and_the_retry_reconnects(emulator: Any, vendor_conns: dict[str, str]) -> None:
    store = MemoryStore()
    with pytest.raises(HailuoTransientError) as caught:
        run_generate(vendor_conns["minimax"], store=store, max_transient_errors=1,
                     before_trigger=inject(emulator, endpoint="status", kind="http_status", status=500, times=100))
    video_task_id = only_task_id(emulator)
    check_names(caught.value, "minimax", "HTTP 500", f"video_task_id {video_task_id}", "Trace-Id")
    emulator.clear_faults()
    result = run_generate(vendor_conns["minimax"], store=store)  # the Airflow retry: same task_state_store
    check_success(result, emulator, "minimax")
    assert emulator.count("submit") == 1


# -- resets, timeouts, garbage ---------------------------------------------------------------------

def test_connection_reset_while_polling_is_retried(emulator: Any, vendor_conns: dict[str, str]) -> None:
    result = run_generate(vendor_conns["dmxapi"],
                          before_trigger=inject(emulator, endpoint="status", kind="reset", times=2))
    check_success(result, emulator, "dmxapi")


def test_connection_reset_on_submit_is_not_repeated(emulator: Any, vendor_conns: dict[str, str]) -> None:
    emulator.add_fault(endpoint="submit", kind="reset", times=1)
    with pytest.raises(HailuoTransientError) as caught:
        run_generate(vendor_conns["minimax"], deferrable=False)
    check_names(caught.value, "minimax", "submit", "connection failed")
    assert emulator.count("submit") == 1  # a reset leaves it unknown whether a video started
    assert videos_created(emulator) == 0


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_slow_status_past_the_read_timeout_is_retried(emulator: Any, vendor_conns: dict[str, str], policy: Any,
                                                      deferrable: bool) -> None:
    policy(read_timeout=0.4)
    fault = {"endpoint": "status", "kind": "slow", "delay": 1.0, "times": 1}
    if not deferrable:
        emulator.add_fault(**fault)
    result = run_generate(vendor_conns["modelverse"], deferrable=deferrable,
                          before_trigger=inject(emulator, **fault) if deferrable else None)
    check_success(result, emulator, "modelverse")
    assert [entry.get("fault") for entry in emulator.requests(endpoint="status")].count("slow") == 1


def test_slow_submit_past_the_read_timeout_is_not_repeated(emulator: Any, vendor_conns: dict[str, str],
                                                           policy: Any) -> None:
    policy(read_timeout=0.4)
    emulator.add_fault(endpoint="submit", kind="slow", delay=1.0, times=1)
    with pytest.raises(HailuoTransientError) as caught:
        run_generate(vendor_conns["minimax"], deferrable=False)
    check_names(caught.value, "minimax", "submit", "no answer within the read timeout")
    # A real vendor may have started the video after all: that is why the submit is not repeated.
    # (The emulator drops it once the client has gone.) Let its late handler finish before checking.
    time.sleep(0.8)
    assert emulator.count("submit") == 1
    assert videos_created(emulator) <= 1


def test_malformed_json_while_polling_is_retried(emulator: Any, vendor_conns: dict[str, str]) -> None:
    result = run_generate(vendor_conns["minimax"],
                          before_trigger=inject(emulator, endpoint="status", kind="malformed_json", times=2))
    check_success(result, emulator, "minimax")


def test_malformed_json_on_submit_is_not_repeated(emulator: Any, vendor_conns: dict[str, str]) -> None:
    emulator.add_fault(endpoint="submit", kind="malformed_json", times=1)
    with pytest.raises(HailuoProtocolError) as caught:
        run_generate(vendor_conns["dmxapi"], deferrable=False)
    check_names(caught.value, "dmxapi", "submit answer is not a JSON object", "Trace-Id")
    assert emulator.count("submit") == 1
    assert videos_created(emulator) == 0


def test_truncated_status_answer_is_retried(emulator: Any, vendor_conns: dict[str, str]) -> None:
    result = run_generate(vendor_conns["modelverse"],
                          before_trigger=inject(emulator, endpoint="status", kind="truncated", times=2))
    check_success(result, emulator, "modelverse")


# -- HTTP 200 with a non-retryable base_resp code ------------------------------------------------------

NON_RETRYABLE: dict[int, tuple[type[HailuoVendorError], str]] = {
    1004: (HailuoAuthenticationError, "authentication failed"),
    1008: (HailuoInsufficientBalanceError, "insufficient balance"),
    1026: (HailuoModerationError, "input (prompt or image) flagged as sensitive"),
    1027: (HailuoModerationError, "generated video flagged as sensitive"),
    1042: (HailuoVendorInvalidRequestError, "invisible characters in input"),
    2013: (HailuoVendorInvalidRequestError, "invalid parameters"),
    2049: (HailuoAuthenticationError, "invalid API key"),
    2056: (HailuoInsufficientBalanceError, "usage limit reached"),
}


@pytest.mark.parametrize("code", list(NON_RETRYABLE))
def test_non_retryable_code_on_submit_fails_fast(emulator: Any, vendor_conns: dict[str, str], code: int) -> None:
    error_class, meaning = NON_RETRYABLE[code]
    emulator.add_fault(endpoint="submit", kind="base_resp", code=code, times=5)
    with pytest.raises(HailuoError) as caught:
        run_generate(vendor_conns["minimax"], deferrable=False)
    assert type(caught.value) is error_class
    check_names(caught.value, "minimax", "submit failed", f"code {code} ({meaning}", "Trace-Id")
    assert caught.value.code == code  # type: ignore[attr-defined]
    assert emulator.count("submit") == 1  # not retried
    assert videos_created(emulator) == 0


@pytest.mark.parametrize("code", list(NON_RETRYABLE))
def test_non_retryable_code_while_polling_fails_fast(emulator: Any, vendor_conns: dict[str, str], code: int) -> None:
    error_class, meaning = NON_RETRYABLE[code]
    with pytest.raises(HailuoError) as caught:
        run_generate(vendor_conns["dmxapi"],
                     before_trigger=inject(emulator, endpoint="status", kind="base_resp", code=code, times=5))
    assert type(caught.value) is error_class
    video_task_id = only_task_id(emulator)
    check_names(caught.value, "dmxapi", f"code {code} ({meaning}", f"video_task_id {video_task_id}", "Trace-Id")
    statuses = emulator.requests(endpoint="status")
    assert [entry.get("fault") for entry in statuses].count("base_resp") == 1  # the trigger gave up at once
    assert emulator.count("submit") == 1


# -- the vendor's own verdicts -------------------------------------------------------------------------

@pytest.mark.parametrize(("vendor", "word"), [("minimax", "Fail"), ("dmxapi", "Failed"), ("modelverse", "Failure")])
def test_final_failure_fails_with_the_vendor_reason(emulator: Any, vendor_conns: dict[str, str], vendor: str,
                                                    word: str) -> None:
    emulator.configure(final_status="fail", fail_reason="the render farm is on fire")
    with pytest.raises(HailuoTaskFailedError) as caught:
        run_generate(vendor_conns[vendor])
    video_task_id = only_task_id(emulator)
    check_names(caught.value, vendor, f"video task {video_task_id} failed", "the render farm is on fire")
    assert caught.value.task_id == video_task_id
    assert emulator.requests(endpoint="status")[-1]["status"] == 200
    assert emulator.count("submit") == 1


@pytest.mark.parametrize("vendor", ["minimax", "dmxapi", "modelverse"])
def test_input_moderation_fails_fast_and_makes_no_video(emulator: Any, vendor_conns: dict[str, str],
                                                        vendor: str) -> None:
    emulator.configure(moderation="input")
    with pytest.raises(HailuoModerationError) as caught:
        run_generate(vendor_conns[vendor], deferrable=False)
    check_names(caught.value, vendor, "submit", "sensitive", "Trace-Id")
    assert emulator.count("submit") == 1
    assert videos_created(emulator) == 0


@pytest.mark.parametrize(("vendor", "error_class"), [
    ("minimax", HailuoModerationError),  # base_resp 1027 on the query
    ("dmxapi", HailuoModerationError),
    ("modelverse", HailuoTaskFailedError),  # task_status Failure, the reason in output.error_message
])
def test_output_moderation_fails_naming_the_task(emulator: Any, vendor_conns: dict[str, str], vendor: str,
                                                 error_class: type[HailuoError]) -> None:
    emulator.configure(moderation="output")
    with pytest.raises(HailuoError) as caught:
        run_generate(vendor_conns[vendor])
    assert type(caught.value) is error_class
    video_task_id = only_task_id(emulator)
    check_names(caught.value, vendor, video_task_id, "sensitive")
    if error_class is HailuoModerationError:
        check_names(caught.value, "code 1027", "Trace-Id")
    assert emulator.count("submit") == 1


# -- downloads and storage -----------------------------------------------------------------------------

@pytest.fixture
def synthetic(emulator: Any) -> int:
    emulator.configure(synthetic_video_bytes=SIZE)
    return SIZE


def test_expired_download_url_is_refreshed(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                           tmp_path: Path) -> None:
    video = finished_video(vendor_conns["minimax"])
    emulator.add_fault(endpoint="download", kind="expired_url", times=1)
    result = run_transfer(vendor_conns["minimax"], f"file://{tmp_path}/v.mp4", video)
    assert result["sha256"] == synthetic_video_sha256(SIZE) == hashlib.sha256((tmp_path / "v.mp4").read_bytes()
                                                                              ).hexdigest()
    assert [entry["status"] for entry in emulator.requests(endpoint="download")] == [403, 200]
    assert emulator.count("retrieve") == 2  # a fresh signed URL after the 403
    assert files_under(tmp_path) == ["v.mp4", "v.mp4.json"]


def test_failing_download_urls_fall_back_to_the_vendor_api(emulator: Any, vendor_conns: dict[str, str],
                                                           synthetic: int, tmp_path: Path) -> None:
    video = finished_video(vendor_conns["minimax"])
    emulator.add_fault(endpoint="download", kind="http_status", status=503, times=50)
    emulator.add_fault(endpoint="backup_download", kind="reset", times=50)
    result = run_transfer(vendor_conns["minimax"], f"file://{tmp_path}/v.mp4", video)
    assert result["sha256"] == synthetic_video_sha256(SIZE)
    assert emulator.count("retrieve_content") == 1
    assert files_under(tmp_path) == ["v.mp4", "v.mp4.json"]


def test_download_failing_everywhere_stores_nothing(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                                    tmp_path: Path) -> None:
    video = finished_video(vendor_conns["dmxapi"])
    emulator.add_fault(endpoint="download", kind="http_status", status=500, times=100)
    with pytest.raises(HailuoDownloadError) as caught:
        run_transfer(vendor_conns["dmxapi"], f"file://{tmp_path}/v.mp4", video)
    check_names(caught.value, f"dmxapi video_task_id {video['video_task_id']}", "download failed", "HTTP 500")
    assert files_under(tmp_path) == []  # no video, no sidecar, no staging file


def test_truncated_download_resumes_and_stores_the_whole_video(emulator: Any, vendor_conns: dict[str, str],
                                                               synthetic: int, tmp_path: Path) -> None:
    video = finished_video(vendor_conns["modelverse"])
    emulator.add_fault(endpoint="download", kind="truncated", times=2)
    result = run_transfer(vendor_conns["modelverse"], f"file://{tmp_path}/v.mp4", video)
    data = (tmp_path / "v.mp4").read_bytes()
    assert len(data) == SIZE and hashlib.sha256(data).hexdigest() == result["sha256"] == synthetic_video_sha256(SIZE)
    assert [entry["status"] for entry in emulator.requests(endpoint="download")] == [200, 206, 206]


def test_download_reset_everywhere_stores_nothing(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                                 tmp_path: Path) -> None:
    video = finished_video(vendor_conns["modelverse"])
    emulator.add_fault(endpoint="download", kind="reset", times=100)
    with pytest.raises(HailuoDownloadError) as caught:
        run_transfer(vendor_conns["modelverse"], f"file://{tmp_path}/v.mp4", video)
    check_names(caught.value, f"modelverse video_task_id {video['video_task_id']}", "download failed")
    assert files_under(tmp_path) == []


def test_object_store_write_failure_leaves_no_object(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                                     moto_s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from s3fs.core import S3File

    from airflow_provider_hailuo.transfers.object_storage import HailuoToObjectStorageOperator

    original_write = S3File.write

    def failing_write(self: Any, data: bytes) -> int:
        if self.loc + len(data) > SIZE // 2:
            raise PermissionError("AccessDenied: injected write failure")
        return int(original_write(self, data))

    monkeypatch.setattr(S3File, "write", failing_write)
    monkeypatch.setattr(HailuoToObjectStorageOperator, "upload_block_size", 5 * 1024 * 1024)
    bucket = moto_s3.new_bucket()
    video = finished_video(vendor_conns["minimax"])
    with pytest.raises(HailuoStorageError) as caught:
        run_transfer(vendor_conns["minimax"], f"s3://{bucket}/daily/v.mp4", video, dest_conn_id=moto_s3.conn_id)
    check_names(caught.value, f"s3://{bucket}/daily/v.mp4", "injected write failure")
    assert moto_s3.keys(bucket) == []
    assert moto_s3.open_uploads(bucket) == []
    assert emulator.count("download") == 1  # a storage failure is not retried as a download failure


# -- processes killed ----------------------------------------------------------------------------------

def finish_now(emulator: Any) -> None:
    """Let the vendor finish every video now (test hook into the emulator's state)."""
    with emulator.state.lock:
        for task in emulator.state.tasks.values():
            task.generation_seconds = max(0.001, time.monotonic() - task.created_mono)


def run_python(code: str, *args: str, log: Path) -> subprocess.Popen[bytes]:
    """A fresh interpreter (the test's environment: AIRFLOW_HOME, connections) running ``code``."""
    output = log.open("wb")
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO, stdout=output, stderr=output)


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


TRIGGERER = """
import asyncio, json, sys
from airflow_provider_hailuo.triggers.video import HailuoVideoTrigger

async def main():
    async for event in HailuoVideoTrigger(**json.loads(sys.argv[1])).run():
        print("TRIGGER EVENT", json.dumps(event.payload), flush=True)

asyncio.run(main())
"""


def test_triggerer_killed_mid_poll(emulator: Any, vendor_conns: dict[str, str], tmp_path: Path) -> None:
    """The triggerer process dies with the trigger mid-poll; a new one, built from the trigger row, finishes it.

    The real-stack version (scheduler, triggerer, LocalExecutor; the triggerer SIGKILLed and a new
    one adopting the triggers) is tests/e2e/test_generate_e2e.py::test_generates_survive_a_triggerer_sigkill.
    """
    emulator.configure(generation_seconds=600)  # finished by hand once the triggerer is dead
    operator = make_generate(vendor_conns["dmxapi"], initial_delay=0.1, poll_interval=0.1)
    store = MemoryStore()
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({"task_state_store": store})
    _, kwargs = deferred.value.trigger.serialize()
    checks_before = emulator.count("status")
    triggerer = run_python(TRIGGERER, json.dumps(kwargs), log=tmp_path / "triggerer.log")
    try:
        wait_until(lambda: emulator.count("status") >= checks_before + 2 or triggerer.poll() is not None,
                   timeout=60, what="the triggerer to poll")
        assert triggerer.poll() is None, (tmp_path / "triggerer.log").read_text()[-2000:]
    finally:
        kill(triggerer)
    assert triggerer.returncode == -signal.SIGKILL
    assert "TRIGGER EVENT" not in (tmp_path / "triggerer.log").read_text()  # it died before sending an event
    finish_now(emulator)
    event = asyncio.run(first_event(rebuild_trigger(deferred.value.trigger)))  # the new triggerer
    result = operator.execute_complete({"task_state_store": store}, event=event)
    check_success(result, emulator, "dmxapi")
    assert emulator.count("submit") == 1
    assert EMULATOR_API_KEY not in json.dumps(kwargs)


WORKER = """
import json, os, sys
from pathlib import Path
from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator

class FileStore:
    def __init__(self, path):
        self.path = Path(path)
    def _values(self):
        return json.loads(self.path.read_text()) if self.path.exists() else {}
    def get(self, key, default=None):
        return self._values().get(key, default)
    def set(self, key, value, *, retention=None):
        values = self._values()
        values[key] = value
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps(values))
        os.replace(temp, self.path)
    def delete(self, key):
        values = self._values()
        values.pop(key, None)
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps(values))
        os.replace(temp, self.path)

conn_id, store, model, prompt = sys.argv[1:5]
operator = HailuoGenerateVideoOperator(task_id="generate", hailuo_conn_id=conn_id, model=model, prompt=prompt,
                                       deferrable=False, initial_delay=0.05, poll_interval=0.05, timeout=600)
operator.execute({"task_state_store": FileStore(store)})
"""


def test_worker_killed_after_submit_the_retry_reconnects(emulator: Any, vendor_conns: dict[str, str],
                                                         tmp_path: Path) -> None:
    """A sync generate dies mid-wait (OOM kill, node lost); the retry reconnects: one video, one submit."""
    emulator.configure(generation_seconds=600)
    store_path = tmp_path / "task_state_store.json"
    worker = run_python(WORKER, vendor_conns["minimax"], str(store_path), MODEL, PROMPT, log=tmp_path / "worker.log")
    try:
        wait_until(lambda: (emulator.count("submit") and store_path.exists() and emulator.count("status"))
                   or worker.poll() is not None, timeout=60, what="the worker to submit and poll")
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
    finally:
        kill(worker)
    assert worker.returncode == -signal.SIGKILL
    stored = json.loads(store_path.read_text())[TASK_STATE_KEY]
    assert stored["video_task_id"] == only_task_id(emulator) and stored["vendor"] == "minimax"
    finish_now(emulator)
    result = run_generate(vendor_conns["minimax"], store=FileStore(store_path), deferrable=False)  # the retry
    check_success(result, emulator, "minimax")
    assert result["video_task_id"] == stored["video_task_id"]
    assert emulator.count("submit") == 1


@pytest.mark.parametrize("vendor", ["minimax", "dmxapi", "modelverse"])
def test_worker_killed_between_accepted_submit_and_stored_id_is_not_paid_twice(
        emulator: Any, vendor_conns: dict[str, str], tmp_path: Path, vendor: str) -> None:
    """The worker dies after the vendor accepted the submit but before the task id was stored.

    The v1 APIs cannot find that task again; the retry finds the "about to submit" marker and
    refuses (an AirflowFailException naming what to do), so the vendor sees one submit, not two."""
    emulator.configure(generation_seconds=600)
    emulator.add_fault(endpoint="submit", kind="slow_answer", delay=60, vendor=vendor)
    store_path = tmp_path / "task_state_store.json"
    worker = run_python(WORKER, vendor_conns[vendor], str(store_path), MODEL, PROMPT, log=tmp_path / "worker.log")
    try:
        wait_until(lambda: (len(emulator.state.tasks) == 1 and store_path.exists()) or worker.poll() is not None,
                   timeout=60, what="the vendor to accept the submit while its answer is held back")
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
    finally:
        kill(worker)
    stored = json.loads(store_path.read_text())[TASK_STATE_KEY]
    assert "video_task_id" not in stored and stored["submitting"]["summary"].startswith(MODEL)
    with pytest.raises(HailuoSubmitUnconfirmedError, match="not paid twice") as info:
        run_generate(vendor_conns[vendor], store=FileStore(store_path), deferrable=False)  # the retry
    assert isinstance(info.value, AirflowFailException)
    assert emulator.count("submit") == 1 and len(emulator.state.tasks) == 1
    assert EMULATOR_API_KEY not in str(info.value)


def test_an_answer_lost_after_an_accepted_submit_blocks_the_retry(emulator: Any, vendor_conns: dict[str, str]) -> None:
    """No kill: the vendor accepts, the answer is cut off. The try fails; its retry does not pay again."""
    emulator.add_fault(endpoint="submit", kind="truncated", vendor="minimax")
    store = MemoryStore()
    with pytest.raises(HailuoError):
        run_generate(vendor_conns["minimax"], store=store, deferrable=False)
    assert emulator.count("submit") == 1 and len(emulator.state.tasks) == 1
    with pytest.raises(HailuoSubmitUnconfirmedError):
        run_generate(vendor_conns["minimax"], store=store, deferrable=False)
    assert emulator.count("submit") == 1


def test_a_refused_submit_lets_the_retry_submit(emulator: Any, vendor_conns: dict[str, str]) -> None:
    """The vendor said no (1002 after the retry budget): nothing was started, so the retry submits."""
    emulator.add_fault(endpoint="submit", kind="base_resp", code=1008, vendor="minimax")  # insufficient balance
    store = MemoryStore()
    with pytest.raises(HailuoError):
        run_generate(vendor_conns["minimax"], store=store, deferrable=False)
    assert TASK_STATE_KEY not in store.values
    result = run_generate(vendor_conns["minimax"], store=store, deferrable=False)
    check_success(result, emulator, "minimax")


def test_no_marker_is_left_while_a_rate_limited_submit_waits(emulator: Any, vendor_conns: dict[str, str]) -> None:
    """Waiting out a 1002 nothing is in flight: the marker is dropped for the wait, so a worker killed
    then is retried normally instead of refusing a submit that never happened."""
    emulator.add_fault(endpoint="submit", kind="base_resp", code=1002, vendor="minimax")

    class Recording(MemoryStore):
        def __init__(self) -> None:
            super().__init__()
            self.log: list[str] = []

        def set(self, key: str, value: Any, *, retention: Any = None) -> None:
            self.log.append("id" if value.get("video_task_id") else "marker")
            super().set(key, value)

        def delete(self, key: str) -> None:
            self.log.append("delete")
            super().delete(key)

    store = Recording()
    result = run_generate(vendor_conns["minimax"], store=store, deferrable=False)
    check_success(result, emulator, "minimax")
    assert store.log == ["marker", "delete", "marker", "id"]
    assert emulator.count("submit") == 2  # the refused one and the accepted one
