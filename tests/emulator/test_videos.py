"""The MP4s are real: H.264, the announced pixel size, the requested duration."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_hailuo.emulator import EmulatorServer

from .helpers import TIMEOUT, data_url, generate

av = pytest.importorskip("av")

pytestmark = pytest.mark.integration


def probe(content: bytes) -> dict[str, Any]:
    with av.open(io.BytesIO(content)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return {
            "codec": stream.codec_context.name,
            "size": (stream.codec_context.width, stream.codec_context.height),
            "pix_fmt": stream.codec_context.pix_fmt,
            "duration": container.duration / 1_000_000,
            "frames": frames,
        }


def fetch(server: EmulatorServer, vendor: str = "minimax", **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    server.configure(generation_seconds=0)
    result = generate(server, vendor, **fields)
    response = requests.get(result["url"], timeout=TIMEOUT)
    assert response.status_code == 200
    return result["final"], probe(response.content)


@pytest.mark.parametrize(
    ("fields", "size", "duration"),
    [
        ({"model": "MiniMax-Hailuo-2.3", "resolution": "1080P"}, (1920, 1080), 6),
        ({"model": "MiniMax-Hailuo-2.3", "resolution": "768P"}, (1366, 768), 6),
        ({"model": "MiniMax-Hailuo-02", "duration": 10}, (1366, 768), 10),
        ({"model": "T2V-01"}, (1280, 720), 6),
    ],
    ids=["1080P", "768P", "768P-10s", "01-series-720P"],
)
def test_text_mode_sizes(
    emulator: EmulatorServer, fields: dict[str, Any], size: tuple[int, int], duration: int
) -> None:
    final, info = fetch(emulator, **fields)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["size"] == size
    assert (final["video_width"], final["video_height"]) == size  # the query answer matches the file
    assert abs(info["duration"] - duration) < 0.5
    assert info["frames"] >= duration * 4


@pytest.mark.parametrize(
    ("image_size", "resolution", "expected"),
    [
        ((1280, 720), "768P", (1366, 768)),  # 16:9
        ((720, 1280), "768P", (768, 1366)),  # 9:16
        ((1000, 1000), "512P", (512, 512)),
    ],
)
def test_image_mode_follows_first_frame(
    emulator: EmulatorServer, image_size: tuple[int, int], resolution: str, expected: tuple[int, int]
) -> None:
    final, info = fetch(
        emulator, model="MiniMax-Hailuo-02", first_frame_image=data_url(image_size), resolution=resolution
    )
    assert info["size"] == expected
    assert (final["video_width"], final["video_height"]) == expected


def test_image_url_is_assumed_16_9(emulator: EmulatorServer) -> None:
    final, info = fetch(
        emulator, model="MiniMax-Hailuo-02", first_frame_image="https://example.com/a.png", resolution="512P"
    )
    assert info["size"] == (910, 512) == (final["video_width"], final["video_height"])


def test_videos_are_cached(emulator: EmulatorServer) -> None:
    """One render per request (each clip draws its own task id since issue 17): a second download of
    the same task is served from the cache, a new task gets its own file. The cache directory is
    shared by the session's tests, so files are counted before and after."""

    def clips() -> set[Path]:
        return set(emulator.cache.directory.glob("hailuo-emu-v*-1366x768-*.mp4"))

    emulator.configure(generation_seconds=0)
    before = clips()
    result = generate(emulator, "minimax", model="MiniMax-Hailuo-2.3", resolution="768P")
    first = requests.get(result["url"], timeout=TIMEOUT)
    assert first.status_code == 200
    new = clips() - before
    assert len(new) == 1, new
    (path,) = new
    stamp = path.stat().st_mtime_ns
    again = requests.get(result["url"], timeout=TIMEOUT)
    assert again.content == first.content == path.read_bytes()
    assert clips() - before == new and path.stat().st_mtime_ns == stamp  # served, not rendered again
    fetch(emulator, "dmxapi", model="MiniMax-Hailuo-02")
    assert len(clips() - before) == 2
