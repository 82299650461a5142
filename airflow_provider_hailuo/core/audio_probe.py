"""Duration, rate and channels of WAV and MP3 audio from their headers, in pure Python.

MiniMax-H3 takes reference audio of 2-15 s each; reading the RIFF header of a WAV, or the MP3
frame headers (the Xing/Info or VBRI frame count for VBR files, else a CBR estimate from the
bitrate and the size), tells the length without decoding and without ffmpeg.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from airflow_provider_hailuo.core.media_probe import MediaProbeError, truncation_is_an_error


@dataclass(frozen=True)
class AudioProbe:
    format: str  # wav or mp3
    duration: float
    sample_rate: int
    channels: int


def audio_format(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or _mp3_header(data, 0) is not None:
        return "mp3"
    return None


@truncation_is_an_error
def probe_wav(data: bytes) -> AudioProbe:
    """Duration from the ``fmt `` byte rate and the ``data`` chunk size."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise MediaProbeError("not a WAV file (no RIFF/WAVE header)")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk, size = struct.unpack_from("<4sI", data, pos)
        if chunk == b"fmt " and size >= 16:
            fmt = struct.unpack_from("<HHII", data, pos + 8)
        elif chunk == b"data":
            if fmt is None:
                raise MediaProbeError("WAV 'data' chunk comes before its 'fmt ' chunk")
            _, channels, rate, byte_rate = fmt
            available = len(data) - pos - 8
            size = available if size in (0, 0xFFFFFFFF) else min(size, available)
            if not byte_rate or not rate or not channels:
                raise MediaProbeError(f"WAV 'fmt ' chunk is invalid (rate {rate}, byte rate {byte_rate})")
            return AudioProbe("wav", size / byte_rate, rate, channels)
        pos += 8 + size + (size & 1)
    raise MediaProbeError("WAV file has no 'fmt ' and 'data' chunks")


_BITRATES = {  # (MPEG-1?, layer) -> kbit/s by index
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class _Mp3Frame:
    version: int  # 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
    layer: int
    bitrate: int  # bit/s
    sample_rate: int
    channels: int
    length: int  # bytes
    samples: int  # per frame


def _mp3_header(data: bytes, pos: int) -> _Mp3Frame | None:
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (data[pos + 1] >> 3) & 3, (data[pos + 1] >> 1) & 3
    bitrate_index, rate_index = data[pos + 2] >> 4, (data[pos + 2] >> 2) & 3
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved values, or "free format" whose frame length cannot be told
    layer = 4 - layer_bits
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer if mpeg1 or layer == 1 else 2)][bitrate_index] * 1000
    rate = _SAMPLE_RATES[version][rate_index]
    padding = (data[pos + 2] >> 1) & 1
    if layer == 1:
        length, samples = (12 * bitrate // rate + padding) * 4, 384
    else:
        samples = 1152 if (layer == 2 or mpeg1) else 576
        length = samples // 8 * bitrate // rate + padding
    channels = 1 if data[pos + 3] >> 6 == 3 else 2
    return _Mp3Frame(version, layer, bitrate, rate, channels, length, samples)


@truncation_is_an_error
def probe_mp3(data: bytes) -> AudioProbe:
    """Duration from the Xing/Info or VBRI frame count, else from the CBR bitrate and the size."""
    start = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        start = 10 + ((data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | data[9] & 0x7F)
        start += 10 if data[5] & 0x10 else 0
    frame = None
    for pos in range(start, min(len(data), start + 64 * 1024)):
        frame = _mp3_header(data, pos)
        # One header pattern can occur by chance; a real stream has a second frame right after it.
        if frame and _mp3_header(data, pos + frame.length):
            start = pos
            break
        frame = None
    if frame is None:
        raise MediaProbeError("no MPEG audio frame found (not an MP3 file)")
    if frame.layer != 3:
        raise MediaProbeError(f"the file is MPEG audio layer {frame.layer}, not MP3 (layer 3)")
    side_info = (32 if frame.channels == 2 else 17) if frame.version == 3 else (17 if frame.channels == 2 else 9)
    xing = start + 4 + side_info
    frames = None
    if data[xing:xing + 4] in (b"Xing", b"Info") and struct.unpack_from(">I", data, xing + 4)[0] & 1:
        (frames,) = struct.unpack_from(">I", data, xing + 8)
    elif data[start + 36:start + 40] == b"VBRI":
        (frames,) = struct.unpack_from(">I", data, start + 36 + 14)
    if frames:
        duration = frames * frame.samples / frame.sample_rate
    else:
        audio_bytes = len(data) - start - (128 if data[-128:-125] == b"TAG" else 0)
        duration = audio_bytes * 8 / frame.bitrate
    return AudioProbe("mp3", duration, frame.sample_rate, frame.channels)


def probe_audio(data: bytes) -> AudioProbe:
    fmt = audio_format(data)
    if fmt == "wav":
        return probe_wav(data)
    if fmt == "mp3":
        return probe_mp3(data)
    raise MediaProbeError("not a WAV or MP3 file")
