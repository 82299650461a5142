"""Small real media for the H3 integration tests: PNGs (Pillow), an MP4 with sound (PyAV), a WAV (wave)."""

from __future__ import annotations

from pathlib import Path

from tests.emulator.v2_helpers import mp4, png, wav


def png_file(path: Path, size: tuple[int, int] = (1280, 720)) -> str:
    path.write_bytes(png(size))
    return str(path)


def mp4_file(path: Path, seconds: float = 3.0) -> str:
    path.write_bytes(mp4(seconds))
    return str(path)


def wav_file(path: Path, seconds: float = 3.0) -> str:
    path.write_bytes(wav(seconds))
    return str(path)


def audio_streams(path: str | Path) -> list[dict[str, object]]:
    """The MP4's audio streams as PyAV reads them: codec, channels, sample rate."""
    import av

    with av.open(str(path)) as container:
        return [{"codec": stream.codec_context.name, "channels": stream.codec_context.channels,
                 "rate": stream.codec_context.sample_rate} for stream in container.streams.audio]


def video_facts(path: str | Path) -> tuple[int, int, float]:
    """(width, height, seconds) of the MP4's video stream, probed with PyAV."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        seconds = float(container.duration or 0) / 1_000_000
        return stream.codec_context.width, stream.codec_context.height, seconds
