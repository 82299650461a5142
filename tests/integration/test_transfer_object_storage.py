"""HailuoToObjectStorageOperator end to end over real HTTP: the vendor emulator in, file:// and S3 (moto) out.

Each vendor's video goes to a local directory and to a moto S3 server through the Amazon
provider's filesystem; the stored bytes must hash to what the emulator served. The fault tests
make the emulator misbehave (expired URL, truncated body, reset, failing main URL) and the
destination fail, and check that the final key never holds a partial video.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from airflow_provider_hailuo.emulator import synthetic_video_sha256
from airflow_provider_hailuo.exceptions import HailuoDownloadError, HailuoStorageError
from airflow_provider_hailuo.transfers.object_storage import HAILUO_VIDEOS_ALIAS, HailuoToObjectStorageOperator
from airflow_provider_hailuo.transfers.paths import parse_destination
from tests.conftest import EMULATOR_API_KEY
from tests.integration.transfer_helpers import MODEL, PROMPT, MotoS3, finished_video

pytestmark = pytest.mark.integration
VENDORS = ("minimax", "dmxapi", "modelverse")
SIZE = 2_500_000  # > 2 chunks of 1 MiB, so truncation and resumption happen mid-file
SIDECAR_KEYS = {"vendor", "api", "model", "video_task_id", "file_id", "prompt", "mode", "duration", "resolution",
                "ratio", "width", "height", "size", "sha256", "content_type", "uri", "created", "usage",
                "estimated_cost", "billed_cost"}


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HailuoToObjectStorageOperator, "retry_backoff", 0.0)


@pytest.fixture
def synthetic(emulator: Any) -> int:
    emulator.configure(synthetic_video_bytes=SIZE)
    return SIZE


def run(dest: str, conn_id: str, video: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """Run the operator's execute() with a minimal context holding real outlet-event accessors."""
    from airflow.sdk.execution_time.context import OutletEventAccessors

    op = HailuoToObjectStorageOperator(task_id="store", hailuo_conn_id=conn_id, video=video, dest=dest, **kwargs)
    context: dict[str, Any] = {"outlet_events": OutletEventAccessors()}
    result = op.execute(context)  # type: ignore[arg-type]
    events = context["outlet_events"]._dict  # noqa: SLF001 - the alias event is the contract here
    alias_events = [event for accessor in events.values() for event in accessor.asset_alias_events]
    assert [(event.source_alias_name, event.dest_asset_key.uri) for event in alias_events] == [
        (HAILUO_VIDEOS_ALIAS, result["uri"])
    ]
    return result


def served_sha256(emulator: Any, task_id: str) -> list[str]:
    """sha256 of each complete body the emulator served for a task (its request log)."""
    return [entry["sha256"] for entry in emulator.requests()
            if entry.get("task_id") == task_id and entry["endpoint"] in ("download", "backup_download",
                                                                          "retrieve_content")
            and entry.get("complete") and entry.get("status") == 200]


def check_result(result: dict[str, Any], video: dict[str, Any], uri: str, data: bytes) -> None:
    sha = hashlib.sha256(data).hexdigest()
    # a synthetic video has no frame to decode: no poster (poster="auto" logs why), no audio
    assert result == {"uri": uri, "size": len(data), "sha256": sha, "content_type": "video/mp4",
                      "video_task_id": video["video_task_id"], "poster_uri": None, "has_audio": False}


def check_sidecar(sidecar: dict[str, Any], video: dict[str, Any], result: dict[str, Any]) -> None:
    assert set(sidecar) == SIDECAR_KEYS
    assert sidecar["vendor"] == video["vendor"] and sidecar["model"] == MODEL and sidecar["prompt"] == PROMPT
    assert sidecar["video_task_id"] == video["video_task_id"] and sidecar["file_id"] == video["file_id"]
    assert (sidecar["size"], sidecar["sha256"], sidecar["uri"]) == (result["size"], result["sha256"], result["uri"])
    assert (sidecar["width"], sidecar["height"]) == (video["video_width"], video["video_height"])
    if video["vendor"] == "modelverse":
        assert sidecar["duration"] == 6
    else:
        assert sidecar["resolution"] == "768P"
    text = json.dumps(sidecar)
    assert EMULATOR_API_KEY not in text and "Signature" not in text and "Expires" not in text


def local_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


# -- happy paths -----------------------------------------------------------------------------
@pytest.mark.parametrize("vendor", VENDORS)
def test_to_local_file(vendor: str, emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                       tmp_path: Path) -> None:
    video = finished_video(vendor_conns[vendor])
    dest = tmp_path / "videos" / vendor / "clip.mp4"
    result = run(f"file://{dest}", vendor_conns[vendor], video)
    data = dest.read_bytes()
    check_result(result, video, f"file://{dest}", data)
    assert served_sha256(emulator, video["video_task_id"]) == [result["sha256"]]
    assert result["sha256"] == synthetic_video_sha256(SIZE)
    check_sidecar(json.loads((tmp_path / "videos" / vendor / "clip.mp4.json").read_text()), video, result)
    assert local_files(tmp_path) == [f"videos/{vendor}/clip.mp4", f"videos/{vendor}/clip.mp4.json"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_to_s3(vendor: str, emulator: Any, vendor_conns: dict[str, str], synthetic: int, moto_s3: MotoS3) -> None:
    bucket = moto_s3.new_bucket()
    video = finished_video(vendor_conns[vendor])
    key = f"hailuo/{vendor}/clip.mp4"
    result = run(f"s3://{bucket}/{key}", vendor_conns[vendor], video, dest_conn_id=moto_s3.conn_id)
    s3 = moto_s3.client()
    stored = s3.get_object(Bucket=bucket, Key=key)
    data = stored["Body"].read()
    check_result(result, video, f"s3://{bucket}/{key}", data)
    assert stored["ContentType"] == "video/mp4"
    assert served_sha256(emulator, video["video_task_id"]) == [result["sha256"]]
    sidecar = s3.get_object(Bucket=bucket, Key=key + ".json")
    assert sidecar["ContentType"] == "application/json"
    check_sidecar(json.loads(sidecar["Body"].read()), video, result)
    assert moto_s3.keys(bucket) == [key, key + ".json"]
    assert moto_s3.open_uploads(bucket) == []


def test_real_rendered_mp4_via_video_task_id(emulator: Any, vendor_conns: dict[str, str], tmp_path: Path) -> None:
    """A real H.264 MP4 from the emulator, found from the vendor task id alone (file_id looked up)."""
    video = finished_video(vendor_conns["minimax"])
    dest = tmp_path / "real.mp4"
    result = run(f"file://{dest}", vendor_conns["minimax"], video_task_id=video["video_task_id"])
    data = dest.read_bytes()
    assert data[4:8] == b"ftyp" and b"avc1" in data[:64]
    assert served_sha256(emulator, video["video_task_id"]) == [result["sha256"]]
    sidecar = json.loads((tmp_path / "real.mp4.json").read_text())
    assert sidecar["file_id"] == video["file_id"] and sidecar["width"] == 1366 and sidecar["model"] is None


# -- faults ----------------------------------------------------------------------------------
def test_expired_url_is_refreshed(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                  tmp_path: Path) -> None:
    video = finished_video(vendor_conns["minimax"])
    emulator.add_fault(endpoint="download", kind="expired_url", times=1)
    result = run(f"file://{tmp_path}/v.mp4", vendor_conns["minimax"], video)
    assert result["sha256"] == synthetic_video_sha256(SIZE)
    assert emulator.count("retrieve") == 2  # a fresh files/retrieve after the 403
    assert [entry["status"] for entry in emulator.requests(endpoint="download")] == [403, 200]


def test_stale_url_in_the_video_result_is_not_used(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                                   tmp_path: Path) -> None:
    """Hours later the result's video_url has expired: the operator asks Modelverse for a fresh one."""
    import time

    emulator.configure(download_url_ttl=1)
    video = finished_video(vendor_conns["modelverse"])
    time.sleep(1.2)
    emulator.configure(download_url_ttl=3600)
    import requests

    assert requests.get(video["video_url"], timeout=10).status_code == 403  # the old URL is dead
    result = run(f"file://{tmp_path}/v.mp4", vendor_conns["modelverse"], video)
    assert result["sha256"] == synthetic_video_sha256(SIZE)


def test_truncated_body_resumes_with_range(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                           tmp_path: Path) -> None:
    video = finished_video(vendor_conns["dmxapi"])
    emulator.add_fault(endpoint="download", kind="truncated", times=2)
    result = run(f"file://{tmp_path}/v.mp4", vendor_conns["dmxapi"], video)
    downloads = emulator.requests(endpoint="download")
    assert [entry["status"] for entry in downloads] == [200, 206, 206]
    starts = [entry["range"][0] for entry in downloads[1:]]
    assert 0 < starts[0] < starts[1] < SIZE  # each attempt continues where the last one stopped
    stored = hashlib.sha256((tmp_path / "v.mp4").read_bytes()).hexdigest()
    assert result["sha256"] == synthetic_video_sha256(SIZE) == stored


def test_reset_connection_is_retried(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                     tmp_path: Path) -> None:
    video = finished_video(vendor_conns["dmxapi"])
    emulator.add_fault(endpoint="download", kind="reset", times=2)
    result = run(f"file://{tmp_path}/v.mp4", vendor_conns["dmxapi"], video)
    assert emulator.count("download") == 3
    assert result["sha256"] == synthetic_video_sha256(SIZE)


def test_backup_url_used_when_main_fails(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                         tmp_path: Path) -> None:
    video = finished_video(vendor_conns["minimax"])
    emulator.add_fault(endpoint="download", kind="http_status", status=503, times=10)
    result = run(f"file://{tmp_path}/v.mp4", vendor_conns["minimax"], video)
    assert (emulator.count("download"), emulator.count("backup_download")) == (1, 1)
    assert served_sha256(emulator, video["video_task_id"]) == [result["sha256"]]


def test_retrieve_content_when_both_urls_fail(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                              tmp_path: Path) -> None:
    video = finished_video(vendor_conns["minimax"])
    emulator.add_fault(endpoint="download", kind="http_status", status=500, times=10)
    emulator.add_fault(endpoint="backup_download", kind="reset", times=10)
    result = run(f"file://{tmp_path}/v.mp4", vendor_conns["minimax"], video)
    assert emulator.count("retrieve_content") == 1
    assert result["sha256"] == synthetic_video_sha256(SIZE)


def test_download_that_never_succeeds_leaves_nothing(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                                     tmp_path: Path) -> None:
    video = finished_video(vendor_conns["dmxapi"])
    emulator.add_fault(endpoint="download", kind="http_status", status=500, times=100)
    with pytest.raises(HailuoDownloadError, match=r"dmxapi video_task_id \d+: download failed after 6 attempts"):
        run(f"file://{tmp_path}/v.mp4", vendor_conns["dmxapi"], video)
    assert local_files(tmp_path) == []


class _FailingWrites:
    """Wraps a file object: the write that crosses ``limit`` bytes raises ENOSPC."""

    def __init__(self, inner: Any, limit: int) -> None:
        self.inner, self.limit, self.written = inner, limit, 0

    def write(self, data: bytes) -> int:
        if self.written + len(data) > self.limit:
            raise OSError(28, "No space left on device")
        self.written += len(data)
        return int(self.inner.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_local_write_failure_leaves_no_file(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_hailuo.transfers import storage

    original_open = storage.LocalStagedWrite.open

    def open_failing(self: Any) -> None:
        original_open(self)
        if self.final.name == "v.mp4":
            self._file = _FailingWrites(self._file, limit=SIZE // 2)

    monkeypatch.setattr(storage.LocalStagedWrite, "open", open_failing)
    video = finished_video(vendor_conns["minimax"])
    with pytest.raises(HailuoStorageError, match=rf"could not write file://{tmp_path}/v.mp4: .*No space left"):
        run(f"file://{tmp_path}/v.mp4", vendor_conns["minimax"], video)
    assert local_files(tmp_path) == []  # no video, no temporary, no sidecar
    assert emulator.count("download") == 1  # a storage failure is not retried as a download failure


def test_s3_write_failure_mid_stream_leaves_no_object(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                                      moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch) -> None:
    from s3fs.core import S3File

    original_write = S3File.write

    def failing_write(self: Any, data: bytes) -> int:
        if self.loc + len(data) > SIZE // 2:
            raise PermissionError("AccessDenied: injected failure")
        return int(original_write(self, data))

    monkeypatch.setattr(S3File, "write", failing_write)
    monkeypatch.setattr(HailuoToObjectStorageOperator, "upload_block_size", 5 * 1024 * 1024)
    bucket = moto_s3.new_bucket()
    video = finished_video(vendor_conns["modelverse"])
    with pytest.raises(HailuoStorageError, match=rf"could not upload s3://{bucket}/v.mp4: .*injected failure"):
        run(f"s3://{bucket}/v.mp4", vendor_conns["modelverse"], video, dest_conn_id=moto_s3.conn_id)
    assert moto_s3.keys(bucket) == []
    assert moto_s3.open_uploads(bucket) == []


def test_s3_failure_after_verification_leaves_no_object(emulator: Any, vendor_conns: dict[str, str],
                                                        synthetic: int, moto_s3: MotoS3,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The server-side copy into place fails: no video, no sidecar, no temporary object remain."""
    from airflow_provider_hailuo.transfers import storage

    bucket = moto_s3.new_bucket()
    fs = storage.filesystem_for(parse_destination(f"s3://{bucket}/v.mp4", moto_s3.conn_id))
    original_copy = fs.copy

    def failing_copy(source: str, target: str, **kwargs: Any) -> None:
        if target.endswith("/v.mp4"):
            raise PermissionError("AccessDenied: injected copy failure")
        original_copy(source, target, **kwargs)

    monkeypatch.setattr(fs, "copy", failing_copy)
    video = finished_video(vendor_conns["minimax"])
    with pytest.raises(HailuoStorageError, match="could not copy the finished upload to"):
        run(f"s3://{bucket}/v.mp4", vendor_conns["minimax"], video, dest_conn_id=moto_s3.conn_id)
    assert moto_s3.keys(bucket) == []


def test_overwrite_false_local_leaves_existing_untouched(emulator: Any, vendor_conns: dict[str, str],
                                                         synthetic: int, tmp_path: Path) -> None:
    video = finished_video(vendor_conns["minimax"])
    dest = tmp_path / "v.mp4"
    dest.write_bytes(b"the editor's final cut")
    before = dest.stat()
    requests_before = len(emulator.requests())
    with pytest.raises(HailuoStorageError, match=rf"file://{dest} already exists and overwrite=False; nothing was "
                                                 rf"downloaded.*video_task_id {video['video_task_id']}"):
        run(f"file://{dest}", vendor_conns["minimax"], video)
    assert dest.read_bytes() == b"the editor's final cut"
    assert (dest.stat().st_mtime_ns, dest.stat().st_ino) == (before.st_mtime_ns, before.st_ino)
    assert len(emulator.requests()) == requests_before  # not even files/retrieve
    assert local_files(tmp_path) == ["v.mp4"]
    result = run(f"file://{dest}", vendor_conns["minimax"], video, overwrite=True)
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == result["sha256"]


def test_object_appearing_during_the_download_is_not_replaced(emulator: Any, vendor_conns: dict[str, str],
                                                              synthetic: int, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_hailuo.transfers import storage

    dest = tmp_path / "v.mp4"
    original_close = storage.LocalStagedWrite.close

    def close_and_race(self: Any) -> int:
        size = original_close(self)
        if self.final.name == "v.mp4":
            dest.write_bytes(b"another writer won")  # e.g. a second run of the same DAG
        return int(size)

    monkeypatch.setattr(storage.LocalStagedWrite, "close", close_and_race)
    video = finished_video(vendor_conns["minimax"])
    with pytest.raises(HailuoStorageError, match="appeared while the video was downloading and overwrite=False"):
        run(f"file://{dest}", vendor_conns["minimax"], video)
    assert dest.read_bytes() == b"another writer won"
    assert local_files(tmp_path) == ["v.mp4"]  # no sidecar, no temporary


def test_overwrite_false_s3_leaves_existing_untouched(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                                      moto_s3: MotoS3) -> None:
    bucket = moto_s3.new_bucket()
    s3 = moto_s3.client()
    s3.put_object(Bucket=bucket, Key="v.mp4", Body=b"the editor's final cut")
    etag = s3.head_object(Bucket=bucket, Key="v.mp4")["ETag"]
    video = finished_video(vendor_conns["dmxapi"])
    requests_before = len(emulator.requests())
    with pytest.raises(HailuoStorageError, match=rf"s3://{bucket}/v.mp4 already exists and overwrite=False"):
        run(f"s3://{bucket}/v.mp4", vendor_conns["dmxapi"], video, dest_conn_id=moto_s3.conn_id)
    assert s3.get_object(Bucket=bucket, Key="v.mp4")["Body"].read() == b"the editor's final cut"
    assert s3.head_object(Bucket=bucket, Key="v.mp4")["ETag"] == etag
    assert len(emulator.requests()) == requests_before
    assert moto_s3.keys(bucket) == ["v.mp4"]
    result = run(f"s3://{bucket}/v.mp4", vendor_conns["dmxapi"], video, dest_conn_id=moto_s3.conn_id, overwrite=True,
                 write_metadata=False)
    assert hashlib.sha256(s3.get_object(Bucket=bucket, Key="v.mp4")["Body"].read()).hexdigest() == result["sha256"]
    assert moto_s3.keys(bucket) == ["v.mp4"]  # write_metadata=False: no sidecar


def test_logs_never_show_a_signed_url_or_the_key(emulator: Any, vendor_conns: dict[str, str], synthetic: int,
                                                 tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from airflow.sdk._shared.secrets_masker import redact

    video = finished_video(vendor_conns["minimax"])
    emulator.add_fault(endpoint="download", kind="expired_url", times=1)
    emulator.add_fault(endpoint="download", kind="truncated", times=1)
    with caplog.at_level(logging.DEBUG):
        result = run(f"file://{tmp_path}/v.mp4", vendor_conns["minimax"], video)
    signatures = {entry["query"]["Signature"] for entry in emulator.requests()
                  if entry["endpoint"] in ("download", "backup_download")}
    assert signatures
    ours = capsys.readouterr().out + "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("urllib3"))
    stored = json.dumps(result) + (tmp_path / "v.mp4.json").read_text()
    # Lines we write name the URL, redacted; the sidecar and XCom never hold it.
    assert "Signature=***" in ours and "resuming at byte" in ours and "fresh URL" in ours
    # urllib3 quotes full URLs at DEBUG: the signatures were handed to Airflow's secrets masker,
    # which task logs pass through.
    masked = redact(caplog.text)
    for signature in signatures:
        assert signature not in ours and signature not in stored
        assert signature not in masked and quote(signature, safe="") not in masked
    assert EMULATOR_API_KEY not in ours + stored


def test_a_download_logs_its_progress(emulator: Any, vendor_conns: dict[str, str], synthetic: int, tmp_path: Path,
                                      caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_hailuo.transfers import progress

    monkeypatch.setattr(progress, "PROGRESS_INTERVAL", 0.0)  # every chunk here: the wiring is what is tested
    video = finished_video(vendor_conns["modelverse"])
    with caplog.at_level(logging.INFO):
        run(f"file://{tmp_path}/v.mp4", vendor_conns["modelverse"], video)
    ours = capsys.readouterr().out + "\n".join(record.getMessage() for record in caplog.records)
    assert f"downloading modelverse video_task_id {video['video_task_id']}: 2.5 MB of 2.5 MB (100 %)" in ours


def test_dag_test_templates_dest_and_pushes_xcom(airflow_db: Path, emulator: Any, vendor_conns: dict[str, str],
                                                 synthetic: int, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A real dag.test(): video from an upstream task's XCom, ``dest`` rendered from ``{{ ds }}``."""
    import pendulum
    from airflow.models.asset import AssetEvent
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    monkeypatch.setenv("HAILUO_TRANSFER_TEST_DIR", str(tmp_path))
    dags_folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    dags_folder.mkdir(parents=True, exist_ok=True)
    dag_file = dags_folder / "hailuo_transfer_test_dag.py"
    dag_file.write_text(DAG_FILE.format(conn_id=vendor_conns["minimax"]))
    try:
        spec = importlib.util.spec_from_file_location("hailuo_transfer_test_dag", dag_file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        dag_run = module.dag.test(logical_date=pendulum.datetime(2026, 3, 4, tz="UTC"))
    finally:
        dag_file.unlink()
    assert str(dag_run.state) in ("success", "DagRunState.SUCCESS")
    dest = tmp_path / "2026-03-04" / "-1.mp4"
    assert dest.is_file() and (tmp_path / "2026-03-04" / "-1.mp4.json").is_file()
    with create_session() as session:
        rows = session.scalars(XComModel.get_many(run_id=dag_run.run_id, task_ids="store", key="return_value")).all()
        values = [XComModel.deserialize_value(row) for row in rows]
        events = session.scalars(select(AssetEvent).where(AssetEvent.source_run_id == dag_run.run_id)).all()
        event_uris = [(event.asset.uri, [alias.name for alias in event.source_aliases]) for event in events]
    assert values == [{"uri": f"file://{dest}", "size": SIZE, "sha256": synthetic_video_sha256(SIZE),
                       "content_type": "video/mp4", "video_task_id": values[0]["video_task_id"],
                       "poster_uri": None, "has_audio": False}]
    assert event_uris == [(f"file://{dest}", [HAILUO_VIDEOS_ALIAS])]


DAG_FILE = '''
"""Written by tests/integration/test_transfer_object_storage.py for one dag.test() run."""
import os

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_hailuo.transfers.object_storage import HailuoToObjectStorageOperator

with DAG("hailuo_transfer_test", schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False) as dag:

    @task
    def generate():
        from tests.integration.transfer_helpers import finished_video

        return finished_video("{conn_id}")

    HailuoToObjectStorageOperator(
        task_id="store",
        hailuo_conn_id="{conn_id}",
        video=generate(),
        dest="file://" + os.environ.get("HAILUO_TRANSFER_TEST_DIR", "/tmp")
        + "/{{{{ ds }}}}/{{{{ ti.map_index }}}}.mp4",
    )
'''
