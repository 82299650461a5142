"""Header probes on real files: PyAV-encoded MP4/MOV/MP3, stdlib WAV, box-built HEIF."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_hailuo.core.audio_probe import probe_audio, probe_mp3, probe_wav
from airflow_provider_hailuo.core.media_probe import (
    MediaProbeError,
    heif_format,
    probe_heif,
    probe_video,
    video_container,
)
from tests.unit.v2_media import heif_bytes, make_image, make_mp3, make_video, make_wav


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe-media")


def test_mp4_with_aac_track(media_dir: Path) -> None:
    data = make_video(media_dir / "a.mp4", seconds=3, fps=24, audio=True).read_bytes()
    info = probe_video(data)
    assert info.container == "mp4"
    assert info.video_codec == "avc1" and info.audio_codec == "mp4a"
    assert info.fps == pytest.approx(24, abs=0.01)
    assert info.duration == pytest.approx(3, abs=0.05)
    assert (info.width, info.height) == (320, 240)


def test_mov_without_audio(media_dir: Path) -> None:
    data = make_video(media_dir / "b.mov", seconds=2.5, fps=30, audio=False, container="mov").read_bytes()
    info = probe_video(data)
    assert info.container == "mov"
    assert info.audio_codec is None
    assert info.duration == pytest.approx(2.5, abs=0.04)
    assert info.fps == pytest.approx(30, abs=0.01)


def test_hevc_and_mpeg4_codecs_are_told_apart(media_dir: Path) -> None:
    hevc = probe_video(make_video(media_dir / "h.mp4", seconds=2, audio=False, codec="libx265").read_bytes())
    mpeg4 = probe_video(make_video(media_dir / "m.mp4", seconds=2, audio=False, codec="mpeg4").read_bytes())
    assert hevc.video_codec in ("hev1", "hvc1")
    assert mpeg4.video_codec == "mp4v"


def test_fragmented_mp4_duration_comes_from_its_fragments(media_dir: Path) -> None:
    data = make_video(media_dir / "f.mp4", seconds=4, fps=25, audio=True,
                      movflags="frag_keyframe+empty_moov").read_bytes()
    moov_end = data.index(b"moof") - 4
    assert b"moof" in data and b"mehd" not in data[:moov_end]  # really no duration in the header
    info = probe_video(data)
    assert info.duration == pytest.approx(4, abs=0.1)
    assert info.fps == pytest.approx(25, abs=0.01)
    assert (info.video_codec, info.audio_codec) == ("avc1", "mp4a")
    with pytest.raises(MediaProbeError, match="no duration"):
        probe_video(data[:moov_end])  # the header alone, its fragments cut off


def test_truncated_and_foreign_files_are_probe_errors(media_dir: Path) -> None:
    data = make_video(media_dir / "t.mp4", seconds=2, audio=False).read_bytes()
    with pytest.raises(MediaProbeError, match="truncated"):
        probe_video(data[: len(data) // 2])
    with pytest.raises(MediaProbeError, match="not an MP4"):
        probe_video(b"hello, this is a text file and not a video at all")
    with pytest.raises(MediaProbeError):
        probe_video(heif_bytes((800, 600)))  # a HEIF still is not a video
    assert video_container(b"\x00" * 3) is None


def test_heif_primary_item_size_not_the_thumbnail() -> None:
    info = probe_heif(heif_bytes((4032, 3024), thumbnail=(320, 240)))
    assert (info.format, info.width, info.height) == ("heic", 4032, 3024)


def test_heif_rotation_swaps_sides_and_brand_decides_format() -> None:
    rotated = probe_heif(heif_bytes((4032, 3024), brand=b"mif1", rotation=1))
    assert (rotated.format, rotated.width, rotated.height) == ("heif", 3024, 4032)
    assert heif_format(heif_bytes((10, 10), brand=b"heix")) == "heic"


def test_heif_without_properties_is_refused(tmp_path: Path) -> None:
    data = heif_bytes((800, 600))
    with pytest.raises(MediaProbeError, match="truncated"):
        probe_heif(data[:60])
    png = make_image(tmp_path / "x.png").read_bytes()
    assert heif_format(png) is None
    with pytest.raises(MediaProbeError, match="not a HEIF"):
        probe_heif(png)


@pytest.mark.parametrize(("seconds", "rate", "channels"), [(3, 16000, 1), (2.5, 44100, 2), (14, 8000, 1)])
def test_wav_duration_from_header(tmp_path: Path, seconds: float, rate: int, channels: int) -> None:
    info = probe_wav(make_wav(tmp_path / "a.wav", seconds, rate, channels).read_bytes())
    assert (info.format, info.sample_rate, info.channels) == ("wav", rate, channels)
    assert info.duration == pytest.approx(seconds, abs=0.001)


def test_wav_broken_headers(tmp_path: Path) -> None:
    data = make_wav(tmp_path / "a.wav").read_bytes()
    with pytest.raises(MediaProbeError):
        probe_wav(data[:20])
    with pytest.raises(MediaProbeError, match="RIFF"):
        probe_wav(b"RIFX" + data[4:])


@pytest.mark.parametrize("xing", [True, False], ids=["xing-header", "cbr-estimate"])
@pytest.mark.parametrize("bit_rate", [None, 64000])
def test_mp3_duration(tmp_path: Path, xing: bool, bit_rate: int | None) -> None:
    data = make_mp3(tmp_path / "a.mp3", seconds=4, bit_rate=bit_rate, xing=xing).read_bytes()
    info = probe_mp3(data)
    assert (info.format, info.sample_rate, info.channels) == ("mp3", 44100, 2)
    # LAME pads a frame or two at each end; the file really is 4 s plus that padding.
    assert info.duration == pytest.approx(4, abs=0.1)


def test_audio_detection_and_garbage(tmp_path: Path) -> None:
    assert probe_audio(make_wav(tmp_path / "a.wav").read_bytes()).format == "wav"
    assert probe_audio(make_mp3(tmp_path / "a.mp3").read_bytes()).format == "mp3"
    with pytest.raises(MediaProbeError, match="not a WAV or MP3"):
        probe_audio(b"OggS" + b"\0" * 100)
    # One header-like pattern by chance is not a stream: no second frame where the first ends.
    with pytest.raises(MediaProbeError, match="no MPEG audio frame"):
        probe_mp3(b"\xff\xfb\x90\x64" + b"\x01" * 50)
