"""Emulator clips show their request: prompts differ per clip, images open/close it, camera moves it."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

import pytest
import requests
from PIL import Image, ImageDraw

from airflow_provider_hailuo.emulator import EmulatorServer, fonts
from airflow_provider_hailuo.emulator.render import RenderSpec, camera_moves, render_frames

from .helpers import TIMEOUT, generate

av = pytest.importorskip("av")


def picture(size: tuple[int, int], seed: int) -> Image.Image:
    """A picture with structure (so a perceptual comparison means something), unique per seed."""
    image = Image.new("RGB", size, ((seed * 70) % 256, 90, 200 - seed * 30))
    draw = ImageDraw.Draw(image)
    for index in range(5):
        x = (index * 197 + seed * 61) % size[0]
        draw.ellipse((x, size[1] // 4, x + size[0] // 5, size[1] // 4 + size[1] // 3),
                     fill=(255 - index * 40, (seed * 90 + index * 50) % 256, index * 50))
    draw.rectangle((0, size[1] * 3 // 4, size[0] // 2, size[1]), fill=(250, 250, 250))
    return image


def as_data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def difference(a: Image.Image, b: Image.Image, size: tuple[int, int] = (32, 18)) -> float:
    """Mean absolute difference (0-255) of the two images shrunk to a thumbnail, in greyscale."""
    small_a = a.convert("L").resize(size, Image.Resampling.BILINEAR)
    small_b = b.convert("L").resize(size, Image.Resampling.BILINEAR)
    pairs = zip(small_a.getdata(), small_b.getdata(), strict=True)
    return sum(abs(x - y) for x, y in pairs) / (size[0] * size[1])


def download(server: EmulatorServer, vendor: str = "minimax", **fields: Any) -> bytes:
    server.configure(generation_seconds=0)
    result = generate(server, vendor, **fields)
    response = requests.get(result["url"], timeout=TIMEOUT)
    assert response.status_code == 200
    return response.content


def frames_of(content: bytes) -> list[Image.Image]:
    with av.open(io.BytesIO(content)) as container:
        return [frame.to_image() for frame in container.decode(video=0)]


FIRST, LAST, SUBJECT = picture((1280, 720), 1), picture((1280, 720), 2), picture((720, 720), 3)
MODES = {
    "text": ("minimax", {"model": "MiniMax-Hailuo-2.3"}),
    "image": ("minimax", {"model": "MiniMax-Hailuo-2.3", "first_frame_image": as_data_url(FIRST)}),
    "first_last": ("dmxapi", {"model": "MiniMax-Hailuo-02", "first_frame_image": as_data_url(FIRST),
                              "last_frame_image": as_data_url(LAST)}),
    "subject": ("minimax", {"model": "S2V-01", "subject_reference": [
        {"type": "character", "image": [as_data_url(SUBJECT)]}]}),
    "modelverse_text": ("modelverse", {"model": "MiniMax-Hailuo-2.3"}),
}


@pytest.mark.integration
@pytest.mark.parametrize("mode", list(MODES))
def test_every_mode_renders_a_different_video_per_prompt(emulator: EmulatorServer, mode: str) -> None:
    vendor, fields = MODES[mode]
    one = download(emulator, vendor, prompt="a heron lands on a misty lake", **fields)
    two = download(emulator, vendor, prompt="雨夜的霓虹街道 [左摇]", **fields)
    assert hashlib.sha256(one).hexdigest() != hashlib.sha256(two).hexdigest()
    # and not only in the bytes: the labelled frames themselves differ
    assert difference(frames_of(one)[5], frames_of(two)[5]) > 1.0


@pytest.mark.integration
def test_image_to_video_starts_on_its_image(emulator: EmulatorServer) -> None:
    frames = frames_of(download(emulator, prompt="the camera holds [固定]", **MODES["image"][1]))
    assert difference(frames[0], FIRST) < 6.0
    assert difference(frames[0], LAST) > 20.0  # the comparison can tell pictures apart


@pytest.mark.integration
def test_first_last_frame_ends_on_the_last_image(emulator: EmulatorServer) -> None:
    vendor, fields = MODES["first_last"]
    frames = frames_of(download(emulator, vendor, prompt="from one to the other", **fields))
    assert difference(frames[0], FIRST) < 6.0
    assert difference(frames[-1], LAST) < 6.0
    assert difference(frames[-1], FIRST) > 20.0


@pytest.mark.integration
def test_subject_reference_shows_the_subject(emulator: EmulatorServer) -> None:
    frames = frames_of(download(emulator, prompt="she walks", **MODES["subject"][1]))
    # the card sits at 1/12 of the width, 1/5 of the height, half the height tall
    width, height = frames[3].size
    card = frames[3].crop((width // 12, height // 5, width // 12 + height // 2, height // 5 + height // 2))
    assert difference(card, SUBJECT, (16, 16)) < 12.0


def spec(prompt: str, **fields: Any) -> RenderSpec:
    return RenderSpec(width=640, height=360, duration=2, vendor="minimax", model="MiniMax-Hailuo-2.3",
                      resolution="768P", task_id="123", prompt=prompt, **fields)


def scene_part(image: Image.Image) -> Image.Image:
    """The middle band of a frame, between the facts bar and the prompt panel."""
    return image.crop((0, image.height // 4, image.width, image.height // 2))


def test_camera_commands_are_read_in_both_languages() -> None:
    assert camera_moves("a cat [左摇, 变焦推近] then [Static shot] [not a command]") == [
        "pan left", "zoom in", "static shot"]
    assert camera_moves("no brackets") == []


@pytest.mark.parametrize("prompt", ["a street [Pan left]", "a street [右移]", "a street [Zoom in]",
                                    "a street [上升]"])
def test_a_camera_move_moves_the_scene(prompt: str) -> None:
    frames = list(render_frames(spec(prompt)))
    assert difference(scene_part(frames[1]), scene_part(frames[-1])) > 3.0


def test_a_static_shot_holds_the_scene() -> None:
    frames = list(render_frames(spec("a street [固定]")))
    assert difference(scene_part(frames[1]), scene_part(frames[-1])) < 0.5


def test_cjk_prompts_are_drawn_with_a_cjk_font() -> None:
    path = fonts.cjk_font_file()
    if path is None:
        pytest.skip("no CJK font installed (scripts/install_system_deps.sh installs fonts-wqy-microhei)")
    assert fonts.font_file() == path
    font = fonts.load_font(40)
    masks = []
    for character in ("山", "水"):
        image = Image.new("L", (60, 60), 0)
        ImageDraw.Draw(image).text((5, 5), character, font=font, fill=255)
        masks.append(image)
    assert all(mask.getbbox() is not None for mask in masks)  # something is drawn
    assert masks[0].tobytes() != masks[1].tobytes()  # and they are glyphs, not the same box twice


def test_without_any_font_file_the_builtin_font_still_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "CJK_FONT_FILES", ())
    monkeypatch.setattr(fonts, "LATIN_FONT_FILES", ())
    monkeypatch.delenv("HAILUO_EMULATOR_FONT", raising=False)
    fonts.load_font.cache_clear()
    try:
        assert fonts.font_file() is None
        frames = list(render_frames(spec("fallback 中文 [固定]")))
        assert len(frames) == 16
    finally:
        fonts.load_font.cache_clear()


def test_prompts_wrap_and_long_ones_are_cut() -> None:
    font = fonts.load_font(20)
    lines = fonts.wrap_text("一只白鹭" * 100, font, 300, max_lines=3)
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert all(font.getlength(line) <= 300 for line in lines)
    assert fonts.wrap_text("short words only", font, 1000) == ["short words only"]


def test_the_cache_keeps_at_most_max_files_clips(tmp_path: Any) -> None:
    from airflow_provider_hailuo.emulator.media import VideoCache

    cache = VideoCache(tmp_path)
    cache.max_files = 2
    paths = [cache.get(RenderSpec(width=64, height=64, duration=1, task_id=str(number))) for number in range(4)]
    kept = sorted(path.name for path in tmp_path.glob("hailuo-emu-*.mp4"))
    assert len(kept) == 2 and paths[-1].name in kept
    assert cache.get(RenderSpec(width=64, height=64, duration=1, task_id="3")) == paths[-1]  # served from cache
