"""H3 videos are real: H.264 at 24 fps, a stereo AAC track, the size of the resolution and ratio."""

from __future__ import annotations

import io
from typing import Any

import pytest
import requests

from airflow_provider_hailuo.emulator import EmulatorServer

from .helpers import TIMEOUT
from .v2_helpers import body, create, data_url, image_item, png, task, task_id, text_item

av = pytest.importorskip("av")

pytestmark = pytest.mark.integration


def probe(content: bytes) -> dict[str, Any]:
    with av.open(io.BytesIO(content)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        return {
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "size": (video.codec_context.width, video.codec_context.height),
            "fps": float(video.average_rate),
            "frames": sum(1 for _ in container.decode(video)),
            "audio": (audio.codec_context.name, audio.codec_context.layout.name, audio.codec_context.channels),
            "duration": container.duration / 1_000_000,
        }


def render(server: EmulatorServer, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    server.configure(generation_seconds=0)
    tid = task_id(create(server, body(**fields)))
    result = task(server, tid)
    response = requests.get(result["content"]["url"], timeout=60)
    assert response.status_code == 200
    summary = next(item for item in server.tasks() if item["task_id"] == tid)
    info = probe(response.content)
    assert (summary["video_width"], summary["video_height"]) == info["size"]
    return result, info


@pytest.mark.parametrize(
    ("fields", "size"),
    [
        ({"ratio": "16:9"}, (1366, 768)),
        ({"ratio": "9:16"}, (768, 1366)),
        ({"ratio": "21:9"}, (1792, 768)),
        ({"ratio": "4:3"}, (1024, 768)),
        ({"ratio": "1:1"}, (768, 768)),
        ({"ratio": "3:4"}, (768, 1024)),
        ({"ratio": "16:9", "resolution": "2K"}, (2560, 1440)),
        ({"ratio": "9:16", "resolution": "2K"}, (1440, 2560)),
        ({"model": "MiniMax-H3-Max", "resolution": "480P", "ratio": "16:9"}, (854, 480)),
        ({"model": "MiniMax-H3-Max", "resolution": "480P", "ratio": "4:3"}, (640, 480)),
    ],
    ids=[
        "768P-16:9",
        "768P-9:16",
        "768P-21:9",
        "768P-4:3",
        "768P-1:1",
        "768P-3:4",
        "2K-16:9",
        "2K-9:16",
        "480P-16:9",
        "480P-4:3",
    ],
)
def test_sizes_per_resolution_and_ratio(
    emulator: EmulatorServer, fields: dict[str, Any], size: tuple[int, int]
) -> None:
    fields.setdefault("duration", 5)
    _, info = render(emulator, **fields)
    assert info["size"] == size
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["fps"] == 24.0
    assert info["audio"] == ("aac", "stereo", 2)
    assert abs(info["duration"] - 5) < 0.2
    assert info["frames"] == 5 * 24


def test_fifteen_seconds_at_2k(emulator: EmulatorServer) -> None:
    result, info = render(emulator, resolution="2K", duration=15)
    assert result["duration"] == 15
    assert info["size"] == (2560, 1440) and info["frames"] == 15 * 24 and abs(info["duration"] - 15) < 0.2


def test_a_first_frame_sets_the_aspect(emulator: EmulatorServer) -> None:
    square = data_url(png((1000, 1000)), "image/png")
    result, info = render(emulator, ratio="16:9", content=[image_item(square), text_item()])
    assert result["ratio"] == "adaptive" and info["size"] == (768, 768)
    portrait = data_url(png((1080, 1920)), "image/png")
    _, info = render(emulator, content=[image_item(portrait), text_item()], resolution="2K")
    assert info["size"] == (1440, 2560)


def test_synthetic_bytes_on_v2(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0, synthetic_video_bytes=300_000)
    url = task(emulator, task_id(create(emulator, body())))["content"]["url"]
    response = requests.get(url, timeout=TIMEOUT)
    assert len(response.content) == 300_000 and response.content[4:12] == b"ftypisom"
    ranged = requests.get(url, headers={"Range": "bytes=100-199"}, timeout=TIMEOUT)
    assert ranged.status_code == 206 and ranged.content == response.content[100:200]
