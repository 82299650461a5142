"""A fourth vendor API, defined in this test module alone, runs through every layer.

"Toy Video" has its own paths, body shape, status words and auth style. It is a dialect with a
spec, registered from here (no package file names it), and then drives submit, status, download
and store through the generic hook, the generate operator (``dag.test()``, deferred and in the
worker) and HailuoToObjectStorageOperator to a ``file://`` destination, against a scripted
HTTP server. If a vendor fact still lived outside ``vendors/``, this vendor would miss it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from airflow_provider_hailuo.core.models import DownloadLocation, TaskState, TaskStatus
from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.hooks import get_hook
from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
from airflow_provider_hailuo.transfers.object_storage import HailuoToObjectStorageOperator
from airflow_provider_hailuo.vendors import registry
from airflow_provider_hailuo.vendors.base import (
    HttpRequest,
    HttpResponse,
    VendorDialect,
    as_str_id,
    check_download_url,
    map_status_word,
)
from airflow_provider_hailuo.vendors.spec import AuthStyle, VendorSpec
from tests.conftest import EMULATOR_API_KEY, conn_env
from tests.integration.scripted_server import Reply, ScriptedServer
from tests.integration.test_generate_dag import new_dag, run_dag, task_results, task_states

pytestmark = pytest.mark.integration

CONN_ID = "hailuo_toy_test"
#: Enough of an MP4 for the transfer's checks: an ``ftyp`` box, then bytes.
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 40


class ToyDialect(VendorDialect):
    """Toy Video's API: ``POST /jobs``, ``GET /jobs/state?job=``; the video URL comes with the state."""

    spec: ClassVar[VendorSpec] = VendorSpec(
        name="toy", display_name="Toy Video", conn_type="hailuo_toy", hook_name="Hailuo (Toy Video)",
        hook_class_path="", default_conn_id="hailuo_toy_default", default_base_url="https://toy.invalid",
        auth=AuthStyle.RAW,
    )
    trace_headers: ClassVar[tuple[str, ...]] = ("Trace-Id",)
    video_by_file_id: ClassVar[bool] = False
    status_words: ClassVar[dict[str, TaskState]] = {"cooking": TaskState.QUEUED, "plating": TaskState.RUNNING,
                                                    "served": TaskState.SUCCEEDED, "burnt": TaskState.FAILED}

    def build_submit(self, request: VideoRequest) -> HttpRequest:
        self.check_supported(request)
        body = {"engine": request.model, "text": request.prompt, "seconds": request.effective_duration}
        return HttpRequest("POST", "/jobs", "submit", json=body, idempotent=False)

    def parse_submit(self, response: HttpResponse) -> str:
        data = self.decode_json(response, "submit")
        return as_str_id(data.get("job"), self.name, "job", self.trace_id(response, data))

    def build_status(self, task_id: str) -> HttpRequest:
        return HttpRequest("GET", "/jobs/state", "status", params={"job": task_id})

    def parse_status(self, response: HttpResponse, task_id: str) -> TaskStatus:
        data = self.decode_json(response, "status", task_id)
        state = map_status_word(data.get("phase"), self.status_words)
        assert state is not None, data
        video_url = check_download_url(data.get("mp4"), self.name, "mp4") if state is TaskState.SUCCEEDED else None
        return TaskStatus(vendor=self.name, task_id=task_id, state=state, raw_status=str(data.get("phase")),
                          video_url=video_url, video_width=data.get("w"), video_height=data.get("h"),
                          error_message=data.get("why"), trace_id=self.trace_id(response, data))

    def build_file_lookup(self, task_id: str | None, file_id: str | None) -> HttpRequest:
        return self.build_status(str(task_id))

    def parse_file_lookup(self, response: HttpResponse, task_id: str | None,
                          file_id: str | None) -> DownloadLocation:
        return DownloadLocation(url=self.parse_status(response, str(task_id)).video_url)


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    registry.register(ToyDialect)
    with ScriptedServer() as server:
        server.add("/jobs", *(Reply({"job": f"job-{n}"}) for n in range(1, 6)))
        server.add("/jobs/state", Reply({"phase": "cooking"}), Reply({"phase": "plating"}))
        server.default["/jobs/state"] = Reply({"phase": "served", "mp4": server.url + "/cdn/clip.mp4",
                                               "w": 1280, "h": 720})
        server.default["/cdn/clip.mp4"] = Reply(MP4, headers={"Content-Type": "video/mp4"})
        name, value = conn_env(CONN_ID, "hailuo_toy", server.url)
        monkeypatch.setenv(name, value)
        yield server
    registry.unregister("hailuo_toy")


def test_the_hook_submits_polls_and_finds_the_video(toy: ScriptedServer) -> None:
    hook = get_hook(CONN_ID)
    assert (hook.vendor, hook.conn_type, hook.default_conn_name) == ("toy", "hailuo_toy", "hailuo_toy_default")
    task_id = hook.submit(VideoRequest.build(model="MiniMax-Hailuo-2.3", prompt="A kite over dunes"))
    states = [hook.get_status(task_id).state for _ in range(3)]
    assert (task_id, states) == ("job-1", [TaskState.QUEUED, TaskState.RUNNING, TaskState.SUCCEEDED])
    assert hook.get_download_location(task_id, None).url == toy.url + "/cdn/clip.mp4"
    submit = toy.hits("/jobs")[0]
    assert submit.headers["Authorization"] == EMULATOR_API_KEY  # AuthStyle.RAW, from the spec
    assert submit.body == {"engine": "MiniMax-Hailuo-2.3", "text": "A kite over dunes", "seconds": 6}


def test_operator_and_transfer_store_the_toy_video(airflow_db: Any, toy: ScriptedServer, tmp_path: Path) -> None:
    fast: dict[str, Any] = {"initial_delay": 0.1, "poll_interval": 0.1, "timeout": 60}
    with new_dag("hailuo_toy_vendor") as dag:
        deferred = HailuoGenerateVideoOperator(task_id="generate_deferred", hailuo_conn_id=CONN_ID,
                                               model="MiniMax-Hailuo-2.3", prompt="A kite over dunes", **fast)
        in_worker = HailuoGenerateVideoOperator(task_id="generate_sync", hailuo_conn_id=CONN_ID,
                                                model="MiniMax-Hailuo-2.3", prompt="A boat", deferrable=False,
                                                **fast)
        store = HailuoToObjectStorageOperator(task_id="store", hailuo_conn_id=CONN_ID, video=deferred.output,
                                              dest=f"file://{tmp_path}/toy.mp4")
        deferred >> in_worker >> store
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {(t, -1): "success" for t in ("generate_deferred", "generate_sync", "store")}
    results = task_results(dag_run)
    video = results[("generate_deferred", -1)]
    assert (video["vendor"], video["video_task_id"], video["video_url"]) == ("toy", "job-1",
                                                                            toy.url + "/cdn/clip.mp4")
    assert (video["video_width"], video["video_height"], video["mode"]) == (1280, 720, "text")
    assert results[("generate_sync", -1)]["video_task_id"] == "job-2"
    stored = results[("store", -1)]
    assert (tmp_path / "toy.mp4").read_bytes() == MP4
    assert stored["sha256"] == hashlib.sha256(MP4).hexdigest() and stored["size"] == len(MP4)
    assert json.loads((tmp_path / "toy.mp4.json").read_text())["vendor"] == "toy"
    assert len(toy.hits("/jobs")) == 2  # one submit per generate task, none from the transfer
