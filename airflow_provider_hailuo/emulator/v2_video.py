"""MiniMax-H3 videos: H.264 at 24 fps with a stereo AAC track, sized per resolution and ratio.

H3 videos carry sound (API_V2_NOTES "Query"), unlike the silent 8 fps v1 renders, so they get their
own renderer and their own cache files (by width, height and duration) beside the v1 ones.
"""

from __future__ import annotations

import math
import os
import struct
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

H3_RENDER_VERSION = 2
H3_FPS = 24
AUDIO_RATE = 48_000
AUDIO_FRAME = 1024

# The short side of each resolution; the long side follows the ratio (or a frame's aspect).
SHORT_SIDE = {"480P": 480, "768P": 768, "2K": 1440}
RATIOS = {"21:9": (21, 9), "16:9": (16, 9), "4:3": (4, 3), "1:1": (1, 1), "3:4": (3, 4), "9:16": (9, 16)}


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def h3_size(resolution: str, aspect: float) -> tuple[int, int]:
    """Pixel size for ``resolution`` at ``aspect`` (w/h): the short side is the resolution's."""
    short = SHORT_SIDE[resolution]
    if aspect >= 1:
        return _even(short * aspect), short
    return short, _even(short / aspect)


def ratio_aspect(ratio: str) -> float:
    width, height = RATIOS[ratio]
    return width / height


class H3VideoCache:
    """Renders H3 MP4s on demand into ``directory`` and keeps them; thread-safe."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[int, int, int], threading.Lock] = {}

    def path_for(self, width: int, height: int, duration: int) -> Path:
        return self.directory / f"hailuo-emu-h3-v{H3_RENDER_VERSION}-{width}x{height}-{duration}s.mp4"

    def cached(self, width: int, height: int, duration: int) -> Path | None:
        path = self.path_for(width, height, duration)
        return path if path.is_file() and path.stat().st_size > 0 else None

    def get(self, width: int, height: int, duration: int) -> Path:
        """The MP4's path, rendering it first when it is not cached (blocking)."""
        key = (width, height, duration)
        path = self.cached(*key)
        if path is not None:
            return path
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            path = self.cached(*key)
            if path is not None:
                return path
            target = self.path_for(*key)
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(prefix=target.stem + ".", suffix=".part.mp4", dir=self.directory)
            os.close(fd)
            try:
                render_h3_mp4(temp_name, width, height, duration)
                os.replace(temp_name, target)
            finally:
                if os.path.exists(temp_name):
                    os.unlink(temp_name)
            return target


def _tone_frame(samples: int) -> tuple[bytes, bytes]:
    """One planar float32 stereo frame; both tones repeat exactly every ``samples`` samples."""
    left = struct.pack(f"<{samples}f", *(0.2 * math.sin(2 * math.pi * 10 * i / samples) for i in range(samples)))
    right = struct.pack(f"<{samples}f", *(0.15 * math.sin(2 * math.pi * 15 * i / samples) for i in range(samples)))
    return left, right


def _one_second(av: Any, width: int, height: int) -> Iterator[Any]:
    """24 frames of a flat picture with a block sweeping across the middle."""
    probe = av.VideoFrame(width, height, "yuv420p")
    line = probe.planes[0].line_size
    base_row = bytes([40 + (width + height) % 60]) * line
    block = max(16, (width // 16) & ~1)
    block_rows = min(block, height)
    top = (height - block_rows) // 2
    above, below = base_row * top, base_row * (height - top - block_rows)
    u_data = bytes([90]) * probe.planes[1].buffer_size
    v_data = bytes([170]) * probe.planes[2].buffer_size
    for index in range(H3_FPS):
        frame = av.VideoFrame(width, height, "yuv420p")
        y_plane, u_plane, v_plane = frame.planes
        row = bytearray(base_row)
        left = (index * (width - block)) // (H3_FPS - 1)
        row[left : left + block] = b"\xe0" * block
        y_plane.update((above + bytes(row) * block_rows + below)[: y_plane.buffer_size])
        u_plane.update(u_data)
        v_plane.update(v_data)
        frame.pts = index
        yield frame


def render_h3_mp4(path: str, width: int, height: int, duration: int) -> None:
    """Write an H.264 + stereo AAC MP4: a block sweeping across a flat picture each second, two tones."""
    try:
        import av
    except ImportError as exc:  # pragma: no cover - depends on the environment
        from .media import VideoRenderError

        raise VideoRenderError("rendering MP4s needs PyAV: pip install 'airflow-provider-hailuo[emulator]'") from exc
    container = av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"})
    try:
        video = container.add_stream("libx264", rate=H3_FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        # one closed GOP per second: the second is encoded once and its packets repeated
        video.options = {"preset": "ultrafast", "crf": "38", "g": str(H3_FPS), "keyint_min": str(H3_FPS)}
        audio = container.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
        audio.bit_rate = 64_000
        encoded = [packet for frame in _one_second(av, width, height) for packet in video.encode(frame)]
        encoded += video.encode(None)
        second = [(bytes(p), p.pts or 0, p.dts or 0, p.is_keyframe, p.time_base) for p in encoded]
        for index in range(duration):
            for data, pts, dts, keyframe, time_base in second:
                packet = av.Packet(data)
                packet.pts, packet.dts = pts + index * H3_FPS, dts + index * H3_FPS
                packet.time_base, packet.is_keyframe, packet.stream = time_base, keyframe, video
                container.mux(packet)
        left_samples, right_samples = _tone_frame(AUDIO_FRAME)
        total = duration * AUDIO_RATE
        for start in range(0, total, AUDIO_FRAME):
            count = min(AUDIO_FRAME, total - start)
            sound = av.AudioFrame(format="fltp", layout="stereo", samples=count)
            sound.planes[0].update(left_samples[: count * 4].ljust(sound.planes[0].buffer_size, b"\0"))
            sound.planes[1].update(right_samples[: count * 4].ljust(sound.planes[1].buffer_size, b"\0"))
            sound.sample_rate = AUDIO_RATE
            sound.pts = start
            for packet in audio.encode(sound):
                container.mux(packet)
        for packet in audio.encode(None):
            container.mux(packet)
    finally:
        container.close()
