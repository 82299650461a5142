"""Real small media files for the v2 tests: PyAV-encoded MP4/MOV/MP3, stdlib WAV, Pillow images,
and a HEIF container assembled box by box (its headers are what the provider reads)."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import av
from PIL import Image


def make_image(path: Path, size: tuple[int, int] = (1280, 720), fmt: str = "PNG") -> Path:
    Image.new("L" if fmt == "PNG" else "RGB", size, 120).save(path, format=fmt)
    return path


def _video_frame(width: int, height: int) -> av.VideoFrame:
    frame = av.VideoFrame(width, height, "yuv420p")
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    return frame


def _audio_frame(samples: int, rate: int) -> av.AudioFrame:
    frame = av.AudioFrame(format="fltp", layout="stereo", samples=samples)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = rate
    return frame


def make_video(path: Path, seconds: float = 3, fps: int = 24, audio: bool = True, codec: str = "libx264",
               size: tuple[int, int] = (320, 240), container: str | None = None,
               movflags: str | None = None) -> Path:
    """An H.264 (or ``codec``) video with, optionally, a stereo AAC track, as H3 makes them.

    ``movflags="frag_keyframe+empty_moov"`` writes a fragmented MP4 (no duration in its header).
    """
    output = av.open(str(path), "w", format=container, options={"movflags": movflags} if movflags else {})
    video = output.add_stream(codec, rate=fps)
    video.width, video.height = size
    video.pix_fmt = "yuv420p"
    sound = output.add_stream("aac", rate=44100) if audio else None
    if sound is not None:
        sound.layout = "stereo"
    for _ in range(round(seconds * fps)):
        for packet in video.encode(_video_frame(*size)):
            output.mux(packet)
    for packet in video.encode():
        output.mux(packet)
    if sound is not None:
        written = 0
        while written < seconds * 44100:
            frame = _audio_frame(1024, 44100)
            frame.pts = written
            for packet in sound.encode(frame):
                output.mux(packet)
            written += 1024
        for packet in sound.encode():
            output.mux(packet)
    output.close()
    return path


def make_mp3(path: Path, seconds: float = 3, bit_rate: int | None = None, xing: bool = True) -> Path:
    """LAME-encoded MP3; ``xing=False`` leaves out the Xing/Info frame (duration from the bitrate)."""
    output = av.open(str(path), "w", format="mp3", options={} if xing else {"write_xing": "0"})
    stream = output.add_stream("libmp3lame", rate=44100)
    stream.layout = "stereo"
    if bit_rate:
        stream.bit_rate = bit_rate
    written = 0
    while written < seconds * 44100:
        frame = _audio_frame(1152, 44100)
        frame.pts = written
        for packet in stream.encode(frame):
            output.mux(packet)
        written += 1152
    for packet in stream.encode():
        output.mux(packet)
    output.close()
    return path


def make_wav(path: Path, seconds: float = 3, rate: int = 16000, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(b"\0\0" * channels * int(rate * seconds))
    return path


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _full_box(kind: bytes, payload: bytes, version: int = 0, flags: int = 0) -> bytes:
    return _box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def heif_bytes(size: tuple[int, int], brand: bytes = b"heic", rotation: int = 0,
               thumbnail: tuple[int, int] = (320, 240)) -> bytes:
    """A HEIF file: primary item 1 (``ispe`` + ``irot``) and a thumbnail item 2 with its own ``ispe``."""
    ftyp = _box(b"ftyp", brand + b"\0\0\0\0" + b"mif1" + brand)
    hdlr = _full_box(b"hdlr", b"\0" * 4 + b"pict" + b"\0" * 13)
    pitm = _full_box(b"pitm", struct.pack(">H", 1))
    ipco = _box(b"ipco", _full_box(b"ispe", struct.pack(">II", *thumbnail))
                + _full_box(b"ispe", struct.pack(">II", *size)) + _box(b"irot", bytes([rotation])))
    # item 1 -> properties 2 (essential bit set) and 3; item 2 -> property 1
    ipma = _full_box(b"ipma", struct.pack(">I", 2) + struct.pack(">HB", 1, 2) + bytes([0x82, 3])
                     + struct.pack(">HB", 2, 1) + bytes([1]))
    meta = _full_box(b"meta", hdlr + pitm + _box(b"iprp", ipco + ipma))
    return ftyp + meta + _box(b"mdat", b"\0" * 256)


def make_heif(path: Path, size: tuple[int, int] = (1920, 1080), **kwargs: object) -> Path:
    path.write_bytes(heif_bytes(size, **kwargs))  # type: ignore[arg-type]
    return path


def make_sparse(path: Path, size: int, head: bytes = b"") -> Path:
    """A file of ``size`` bytes that takes no disk space (for the size limits)."""
    with open(path, "wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path
