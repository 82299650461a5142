"""The bad MiniMax-H3 inputs table, shared by the unit tests and the reliability suite.

Each row is (case, operator keyword arguments, the parameter the error must name). Values that
name a key of :func:`build_media_files` stand for that real file; ``data-url:<key>:<mime>`` for
the file inlined as a data: URL under that MIME type. :func:`resolve` turns a row into kwargs.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from tests.unit.v2_media import make_heif, make_image, make_mp3, make_sparse, make_video, make_wav

H3, MAX = "MiniMax-H3", "MiniMax-H3-Max"
URL = "https://cdn.example.com/ref.png"
VIDEO_URL = "https://cdn.example.com/ref.mp4"
AUDIO_URL = "https://cdn.example.com/ref.mp3"


def build_media_files(d: Path) -> dict[str, str]:
    """Every medium the table (and the valid cases of the unit tests) needs, made in ``d``."""
    made = {
        "png": make_image(d / "frame.png"),
        "jpg": make_image(d / "last.jpg", (1080, 1920), "JPEG"),
        "webp": make_image(d / "ref.webp", (800, 800), "WEBP"),
        "heic": make_heif(d / "photo.heic", (4032, 3024)),
        "small": make_image(d / "small.png", (200, 200)),
        "tall": make_image(d / "tall.png", (300, 1000)),
        "wide_5800": make_image(d / "wide.png", (5800, 2400)),
        "gif": make_image(d / "anim.gif", (800, 600), "GIF"),
        "big_image": make_sparse(d / "big.png", 30 * 1024 * 1024 + 1, b"\x89PNG\r\n\x1a\n"),
        "mp4": make_video(d / "ref.mp4", seconds=3),
        "mov": make_video(d / "ref.mov", seconds=2.5, audio=False, container="mov"),
        "mp4_6s": make_video(d / "six.mp4", seconds=6, size=(64, 64)),
        "mp4_short": make_video(d / "short.mp4", seconds=1, size=(64, 64)),
        "mp4_long": make_video(d / "long.mp4", seconds=16, fps=24, size=(64, 64), audio=False),
        "mp4v": make_video(d / "mpeg4.mp4", seconds=2.5, codec="mpeg4", size=(64, 64), audio=False),
        "mp4_12fps": make_video(d / "slow.mp4", seconds=3, fps=12, size=(64, 64), audio=False),
        "big_video": make_sparse(d / "big.mp4", 50 * 1024 * 1024 + 1),
        "wav": make_wav(d / "voice.wav", seconds=3),
        "wav_8s": make_wav(d / "eight.wav", seconds=8),
        "wav_short": make_wav(d / "short.wav", seconds=1),
        "mp3": make_mp3(d / "music.mp3", seconds=3),
        "big_audio": make_sparse(d / "big.wav", 15 * 1024 * 1024 + 1, b"RIFF"),
        "text": d / "notes.txt",
    }
    made["text"].write_text("not a video")
    truncated = d / "truncated.mp4"
    data = made["mp4"].read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    made["truncated"] = truncated
    return {name: str(path) for name, path in made.items()}


def data_url(path: str, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(Path(path).read_bytes()).decode()


BAD_INPUTS: list[tuple[str, Any, str]] = [
    ("unknown model", {"model": "MiniMax-H4"}, "model"),
    ("model wrong case", {"model": "minimax-h3"}, "model"),
    ("model not a string", {"model": 3}, "model"),
    ("no prompt", {"prompt": None}, "prompt"),
    ("blank prompt", {"prompt": "  \n "}, "prompt"),
    ("prompt over 7000 characters", {"prompt": "x" * 7001}, "prompt"),
    ("prompt not a string", {"prompt": 42}, "prompt"),
    ("H3 duration below 4", {"duration": 3}, "duration"),
    ("H3-Max duration below 5", {"model": MAX, "duration": 4}, "duration"),
    ("duration above 15", {"duration": 16}, "duration"),
    ("fractional duration", {"duration": 5.5}, "duration"),
    ("duration word", {"duration": "ten"}, "duration"),
    ("duration bool", {"duration": True}, "duration"),
    ("H3 at 1080P", {"resolution": "1080P"}, "resolution"),
    ("H3 at 480P", {"resolution": "480P"}, "resolution"),
    ("H3-Max at 2K", {"model": MAX, "resolution": "2K"}, "resolution"),
    ("unknown ratio", {"ratio": "2:1"}, "ratio"),
    ("ratio not a string", {"ratio": 1.78}, "ratio"),
    ("adaptive without media", {"ratio": "adaptive"}, "ratio"),
    ("ratio with a first frame", {"ratio": "9:16", "first_frame_image": "png"}, "ratio"),
    ("prompt expansion on H3", {"prompt_expansion_mode": "balanced"}, "prompt_expansion_mode"),
    ("unknown prompt expansion", {"model": MAX, "prompt_expansion_mode": "max"}, "prompt_expansion_mode"),
    ("watermark not a bool", {"aigc_watermark": "yes"}, "aigc_watermark"),
    ("lone last frame", {"last_frame_image": "png"}, "last_frame_image"),
    ("frame mixed with references", {"first_frame_image": "png", "reference_images": [URL]}, "reference_images"),
    ("last frame mixed with a video", {"first_frame_image": "png", "last_frame_image": "jpg",
                                       "reference_videos": [VIDEO_URL]}, "reference_videos"),
    ("ten reference images", {"reference_images": [URL] * 10}, "reference_images"),
    ("four reference videos", {"reference_videos": [VIDEO_URL] * 4}, "reference_videos"),
    ("four reference audios", {"reference_audios": [AUDIO_URL] * 4, "reference_images": [URL]}, "reference_audios"),
    ("thirteen files in all", {"reference_images": [URL] * 9, "reference_videos": [VIDEO_URL] * 3,
                               "reference_audios": [AUDIO_URL]}, "reference_audios"),
    ("audio without image or video", {"reference_audios": [AUDIO_URL]}, "reference_audios"),
    ("references not a list", {"reference_images": {"url": URL}}, "reference_images"),
    ("empty item in a list", {"reference_videos": [""]}, "reference_videos"),
    ("image side under 256", {"reference_images": ["small"]}, "reference_images"),
    ("image aspect under 0.4", {"first_frame_image": "tall"}, "first_frame_image"),
    ("image side over 5760", {"reference_images": ["wide_5800"]}, "reference_images"),
    ("GIF image", {"first_frame_image": "gif"}, "first_frame_image"),
    ("image over 30 MB", {"first_frame_image": "big_image"}, "first_frame_image"),
    ("missing local file", {"first_frame_image": "/nonexistent/frame.png"}, "first_frame_image"),
    ("unsupported scheme", {"reference_images": ["ftp://example.com/a.png"]}, "reference_images"),
    ("URL without host", {"first_frame_image": "https:///a.png"}, "first_frame_image"),
    ("plain http image URL", {"reference_images": ["http://cdn.example.com/a.png"]}, "reference_images"),
    ("plain http video URL on loopback", {"reference_videos": ["http://127.0.0.1:8089/a.mp4"]}, "reference_videos"),
    ("mm_file without id", {"reference_images": ["mm_file://"]}, "reference_images"),
    ("object storage outside Airflow", {"reference_images": ["s3://bucket/a.png"]}, "reference_images"),
    ("image data URL as a video", {"reference_videos": ["data-url:png:image/png"], "reference_images": [URL]},
     "reference_videos"),
    ("data URL with bad base64", {"reference_images": ["data:image/png;base64,@@@@"]}, "reference_images"),
    ("data URL mislabelled", {"first_frame_image": "data-url:jpg:image/png"}, "first_frame_image"),
    ("video under 2 s", {"reference_videos": ["mp4_short"]}, "reference_videos"),
    ("video over 15 s", {"reference_videos": ["mp4_long"]}, "reference_videos"),
    ("MPEG-4 part 2 video", {"reference_videos": ["mp4v"]}, "reference_videos"),
    ("video at 12 fps", {"reference_videos": ["mp4_12fps"]}, "reference_videos"),
    ("text file as a video", {"reference_videos": ["text"]}, "reference_videos"),
    ("truncated video", {"reference_videos": ["truncated"]}, "reference_videos"),
    ("video over 50 MB", {"reference_videos": ["big_video"]}, "reference_videos"),
    ("videos over 15 s together", {"reference_videos": ["mp4_6s", "mp4_6s", "mp4_6s"]}, "reference_videos"),
    ("audio under 2 s", {"reference_audios": ["wav_short"], "reference_images": [URL]}, "reference_audios"),
    ("audio over 15 MB", {"reference_audios": ["big_audio"], "reference_images": [URL]}, "reference_audios"),
    ("audios over 15 s together", {"reference_audios": ["wav_8s", "wav_8s"], "reference_images": [URL]},
     "reference_audios"),
    ("image as audio", {"reference_audios": ["png"], "reference_images": [URL]}, "reference_audios"),
]


def resolve(value: Any, files: dict[str, str]) -> Any:
    """Table values name files of the ``files`` fixture; ``data-url:<file>:<mime>`` inlines one."""
    if isinstance(value, list):
        return [resolve(v, files) for v in value]
    if isinstance(value, str) and value.startswith("data-url:"):
        _, name, mime = value.split(":", 2)
        return data_url(files[name], mime)
    if isinstance(value, str) and value in files:
        return files[value]
    return value
