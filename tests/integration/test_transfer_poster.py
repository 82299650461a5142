"""Poster frames and the audio probe: a JPEG beside a complete MP4, never one without it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from airflow_provider_hailuo.exceptions import HailuoDownloadError, HailuoInvalidRequestError, HailuoStorageError
from airflow_provider_hailuo.transfers import poster as poster_module
from airflow_provider_hailuo.transfers.mp4_tracks import handler_types, has_audio
from airflow_provider_hailuo.transfers.object_storage import HailuoToObjectStorageOperator
from tests.integration.transfer_helpers import MotoS3, finished_video

av = pytest.importorskip("av")
pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HailuoToObjectStorageOperator, "retry_backoff", 0.0)


def run(dest: str, conn_id: str, video: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    op = HailuoToObjectStorageOperator(task_id="store", hailuo_conn_id=conn_id, video=video, dest=dest, **kwargs)
    return op.execute({})  # type: ignore[arg-type]


def files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def first_frame(path: Path) -> Image.Image:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_image()


def test_poster_beside_a_local_video(emulator: Any, vendor_conns: dict[str, str], tmp_path: Path) -> None:
    video = finished_video(vendor_conns["minimax"], prompt="a red kite over dunes")
    result = run(f"file://{tmp_path}/clip.mp4", vendor_conns["minimax"], video)
    assert result["poster_uri"] == f"file://{tmp_path}/clip.mp4.jpg" and result["has_audio"] is False
    assert files(tmp_path) == ["clip.mp4", "clip.mp4.jpg", "clip.mp4.json"]
    with Image.open(tmp_path / "clip.mp4.jpg") as poster:
        assert poster.format == "JPEG" and poster.size == (1280, 720)  # 1366x768 shrunk to 1280 wide
        thumb = poster.convert("L").resize((32, 18))
    frame = first_frame(tmp_path / "clip.mp4").convert("L").resize((32, 18))
    assert sum(abs(a - b) for a, b in zip(thumb.getdata(), frame.getdata(), strict=True)) / (32 * 18) < 4


def test_poster_beside_an_s3_video(emulator: Any, vendor_conns: dict[str, str], moto_s3: MotoS3) -> None:
    bucket = moto_s3.new_bucket()
    video = finished_video(vendor_conns["dmxapi"])
    result = run(f"s3://{bucket}/d/clip.mp4", vendor_conns["dmxapi"], video, dest_conn_id=moto_s3.conn_id,
                 poster=True)
    assert result["poster_uri"] == f"s3://{bucket}/d/clip.mp4.jpg"
    assert moto_s3.keys(bucket) == ["d/clip.mp4", "d/clip.mp4.jpg", "d/clip.mp4.json"]
    stored = moto_s3.client().get_object(Bucket=bucket, Key="d/clip.mp4.jpg")
    assert stored["ContentType"] == "image/jpeg"
    assert Image.open(io.BytesIO(stored["Body"].read())).format == "JPEG"
    assert moto_s3.open_uploads(bucket) == []


def test_poster_false_writes_none(emulator: Any, vendor_conns: dict[str, str], tmp_path: Path) -> None:
    video = finished_video(vendor_conns["minimax"])
    result = run(f"file://{tmp_path}/clip.mp4", vendor_conns["minimax"], video, poster=False)
    assert result["poster_uri"] is None and files(tmp_path) == ["clip.mp4", "clip.mp4.json"]


def test_poster_true_without_pyav_fails_before_downloading(emulator: Any, vendor_conns: dict[str, str],
                                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    video = finished_video(vendor_conns["minimax"])
    monkeypatch.setattr(poster_module, "pyav_available", lambda: False)
    with pytest.raises(HailuoInvalidRequestError, match=r"poster=True needs PyAV.*\[poster\]") as raised:
        run(f"file://{tmp_path}/clip.mp4", vendor_conns["minimax"], video, poster=True)
    assert raised.value.parameter == "poster"
    assert emulator.count("download") == 0 and files(tmp_path) == []
    # "auto" without PyAV: the video, no poster, and a line that says why
    result = run(f"file://{tmp_path}/clip.mp4", vendor_conns["minimax"], video)
    assert result["poster_uri"] is None and files(tmp_path) == ["clip.mp4", "clip.mp4.json"]


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_a_bad_poster_value_is_refused(emulator: Any, vendor_conns: dict[str, str], tmp_path: Path,
                                       value: Any) -> None:
    video = finished_video(vendor_conns["minimax"])
    with pytest.raises(HailuoInvalidRequestError, match="poster must be True, False or 'auto'"):
        run(f"file://{tmp_path}/clip.mp4", vendor_conns["minimax"], video, poster=value)
    assert emulator.count("download") == 0


def test_failed_download_leaves_no_poster(emulator: Any, vendor_conns: dict[str, str], tmp_path: Path) -> None:
    video = finished_video(vendor_conns["dmxapi"])
    emulator.add_fault(endpoint="download", kind="http_status", status=500, times=100)
    with pytest.raises(HailuoDownloadError):
        run(f"file://{tmp_path}/clip.mp4", vendor_conns["dmxapi"], video, poster=True)
    assert files(tmp_path) == []


def test_failed_move_of_the_video_leaves_no_poster(emulator: Any, vendor_conns: dict[str, str], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_hailuo.transfers import storage

    original = storage.LocalStagedWrite.commit

    def failing_commit(self: Any, *, overwrite: bool) -> None:
        if self.final.name == "clip.mp4":
            raise HailuoStorageError("injected: the move into place failed")
        original(self, overwrite=overwrite)

    monkeypatch.setattr(storage.LocalStagedWrite, "commit", failing_commit)
    video = finished_video(vendor_conns["minimax"])
    with pytest.raises(HailuoStorageError, match="injected"):
        run(f"file://{tmp_path}/clip.mp4", vendor_conns["minimax"], video, poster=True)
    assert [name for name in files(tmp_path) if not name.startswith(".")] == []


def test_an_undecodable_video_leaves_no_poster_and_removes_an_old_one(
        emulator: Any, vendor_conns: dict[str, str], tmp_path: Path) -> None:
    video = finished_video(vendor_conns["minimax"])
    run(f"file://{tmp_path}/clip.mp4", vendor_conns["minimax"], video)
    assert "clip.mp4.jpg" in files(tmp_path)
    emulator.configure(synthetic_video_bytes=300_000)  # not H.264: no frame to decode
    video = finished_video(vendor_conns["minimax"])
    result = run(f"file://{tmp_path}/clip.mp4", vendor_conns["minimax"], video, overwrite=True)  # "auto": warns
    assert result["poster_uri"] is None
    assert files(tmp_path) == ["clip.mp4", "clip.mp4.json"]  # the old poster showed the old video: gone
    video = finished_video(vendor_conns["minimax"])
    with pytest.raises(HailuoStorageError, match="no poster frame written.*the MP4 itself is stored"):
        run(f"file://{tmp_path}/clip.mp4", vendor_conns["minimax"], video, overwrite=True, poster=True)
    assert files(tmp_path) == ["clip.mp4", "clip.mp4.json"]


def mp4_with_audio(path: Path, channels: int = 2) -> None:
    with av.open(str(path), mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=8)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio = container.add_stream("aac", rate=48000)
        audio.layout = "stereo" if channels == 2 else "mono"
        for index in range(4):
            frame = av.VideoFrame(64, 64, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.pts = index
            for packet in video.encode(frame):
                container.mux(packet)
        for index in range(8):
            samples = av.AudioFrame(format="fltp", layout=audio.layout.name, samples=1024)
            for plane in samples.planes:
                plane.update(bytes(plane.buffer_size))
            samples.sample_rate, samples.pts = 48000, index * 1024
            for packet in audio.encode(samples):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                container.mux(packet)


def test_has_audio_reads_the_track_handlers(tmp_path: Path) -> None:
    with_audio = tmp_path / "a.mp4"
    mp4_with_audio(with_audio)
    with with_audio.open("rb") as handle:
        assert sorted(handler_types(handle)) == ["soun", "vide"] and has_audio(handle)
    from airflow_provider_hailuo.emulator.render import RenderSpec, render_request_mp4

    silent = tmp_path / "s.mp4"
    render_request_mp4(str(silent), RenderSpec(width=64, height=64, duration=1))
    with silent.open("rb") as handle:
        assert handler_types(handle) == ["vide"] and not has_audio(handle)
    assert not has_audio(io.BytesIO(b"\x00\x00\x00\x08free"))  # no moov at all
