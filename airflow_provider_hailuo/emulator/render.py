"""Emulator videos that show their request: prompt, vendor, model, resolution, task id, images, camera.

A person looking at a stored clip can then see that the right prompt, image or camera command
reached the right task. Each frame is drawn with Pillow and encoded by PyAV (H.264, few fps,
``ultrafast``); the scene is drawn once on a canvas larger than the frame and each frame is a
window onto it, so a camera move costs a crop (and a resize when zooming), not a redraw.

* text mode: a pattern derived from the prompt fills the scene;
* image modes: the first frame *is* the given image (frame 0 carries no overlay), a first+last
  frame clip crossfades into the last image and ends on it, a subject reference shows the
  subject's image as a card in the scene. ``http(s)`` images are not fetched (the emulator never
  goes out); the card then names the URL.
* camera: ``[...]`` commands in the prompt (Chinese or English names) move the window: pan/truck
  shift it, zoom/push/pull scale it, tilt/pedestal move it vertically, static holds it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from .fonts import load_font, wrap_text

#: Bump when the drawing changes, so cached clips of the old look are not served.
RENDER_VERSION = 3
FPS = 8

# The emulator's own reading of the camera vocabulary (it shares nothing with the provider's).
# Each name maps to a per-clip move: (dx, dy, zoom) at the end of the clip, in frame fractions.
_MOVES: dict[str, tuple[float, float, float]] = {
    "truck left": (-0.35, 0, 0), "truck right": (0.35, 0, 0),
    "pan left": (-0.35, 0, 0), "pan right": (0.35, 0, 0),
    "push in": (0, 0, 0.4), "pull out": (0, 0, -0.3),
    "zoom in": (0, 0, 0.5), "zoom out": (0, 0, -0.3),
    "pedestal up": (0, -0.3, 0), "pedestal down": (0, 0.3, 0),
    "tilt up": (0, -0.3, 0), "tilt down": (0, 0.3, 0),
    "shake": (0, 0, 0), "tracking shot": (0.2, 0, 0.1), "static shot": (0, 0, 0),
}
_CHINESE = {
    "左移": "truck left", "右移": "truck right", "左摇": "pan left", "右摇": "pan right",
    "推进": "push in", "拉远": "pull out", "上升": "pedestal up", "下降": "pedestal down",
    "上摇": "tilt up", "下摇": "tilt down", "变焦推近": "zoom in", "变焦拉远": "zoom out",
    "晃动": "shake", "跟随": "tracking shot", "固定": "static shot",
}
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_SEPARATORS = re.compile(r"[,，、;；]")


def camera_moves(prompt: str | None) -> list[str]:
    """The known camera commands of ``prompt``, in order, as lower-case English names."""
    moves = []
    for match in _BRACKET.finditer(prompt or ""):
        for word in _SEPARATORS.split(match.group(1)):
            word = word.strip()
            name = _CHINESE.get(word) or (word.lower() if word.lower() in _MOVES else None)
            if name:
                moves.append(name)
    return moves


@dataclass(frozen=True)
class RenderSpec:
    """Everything a clip shows; its digest names the cached file."""

    width: int
    height: int
    duration: int
    vendor: str = ""
    model: str = ""
    resolution: str = ""
    task_id: str = ""
    mode: str = "t2v"
    prompt: str | None = None
    first_frame: str | None = None
    last_frame: str | None = None
    subject: str | None = None

    @property
    def digest(self) -> str:
        fields = {key: value for key, value in self.__dict__.items()}
        for key in ("first_frame", "last_frame", "subject"):  # big data: URLs, hashed
            if fields[key] is not None:
                fields[key] = hashlib.sha256(fields[key].encode()).hexdigest()
        text = json.dumps({"v": RENDER_VERSION, **fields}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def render_spec_for(task: Any) -> RenderSpec:
    """The spec of an emulator task (its vendor, id and validated request)."""
    request = task.request
    images = getattr(request, "images", None) or {}
    return RenderSpec(
        width=request.width, height=request.height, duration=request.duration, vendor=task.vendor,
        model=request.model, resolution=request.resolution, task_id=task.task_id, mode=request.mode,
        prompt=request.prompt, first_frame=images.get("first_frame_image"),
        last_frame=images.get("last_frame_image"), subject=images.get("subject"),
    )


def decode_image(value: str | None) -> Any:
    """A ``data:image/...;base64,`` URL as an RGB Pillow image; None for anything else."""
    from PIL import Image

    if not value or not value[:5].lower() == "data:" or "," not in value:
        return None
    try:
        raw = base64.b64decode(value.split(",", 1)[1], validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            return image.convert("RGB")
    except (binascii.Error, ValueError, OSError):
        return None


def _palette(text: str) -> list[tuple[int, int, int]]:
    seed = hashlib.sha256(text.encode()).digest()
    return [(40 + seed[i] % 180, 40 + seed[i + 1] % 180, 40 + seed[i + 2] % 180) for i in range(0, 30, 3)]


def _scene(spec: RenderSpec, scale: float) -> Any:
    """The canvas (``scale`` times the frame) the camera looks at; the frame's view is its centre."""
    from PIL import Image, ImageDraw

    width, height = spec.width, spec.height
    cw, ch = int(width * scale) // 2 * 2, int(height * scale) // 2 * 2
    colours = _palette(spec.prompt or spec.task_id)
    canvas = Image.new("RGB", (cw, ch), colours[0])
    draw = ImageDraw.Draw(canvas)
    cell = max(16, min(cw, ch) // 10)
    for row in range(0, ch, cell):  # a checkerboard in the prompt's colours: motion is plain to see
        for column in range(0, cw, cell):
            if (row // cell + column // cell) % 2:
                draw.rectangle((column, row, column + cell - 1, row + cell - 1), fill=colours[1])
    seed = hashlib.sha256((spec.prompt or "").encode()).digest()
    for index in range(6):  # a few discs whose places depend on the prompt
        x, y = seed[index] * cw // 256, seed[index + 8] * ch // 256
        radius = cell // 2 + seed[index + 16] % cell
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colours[2 + index % 8])
    left, top = (cw - width) // 2, (ch - height) // 2
    first = decode_image(spec.first_frame)
    if first is not None:
        canvas.paste(first.resize((width, height)), (left, top))
    subject = decode_image(spec.subject)
    card_h = height // 2
    if subject is not None:
        card_w = max(2, subject.width * card_h // subject.height)
        canvas.paste(subject.resize((card_w, card_h)), (left + width // 12, top + height // 5))
    pending = [(name, value) for name, value in (("first frame", spec.first_frame), ("subject", spec.subject))
               if value and decode_image(value) is None]
    if pending:  # an http(s) image the emulator does not fetch: say which
        font = load_font(max(12, height // 36))
        for number, (name, value) in enumerate(pending):
            draw.text((left + width // 12, top + height // 5 + number * height // 18),
                      f"{name}: {value[:80]} (not fetched)", font=font, fill=(255, 255, 255))
    return canvas


def _overlays(spec: RenderSpec) -> tuple[Any, Any]:
    """(facts bar for the top, prompt panel for the bottom): what reached which task."""
    from PIL import Image, ImageDraw

    width, height = spec.width, spec.height
    small = load_font(max(12, height // 26))
    facts = f"{spec.vendor} · {spec.model} · {spec.resolution} · {spec.duration} s · task {spec.task_id}"
    bar = Image.new("RGB", (width, small.size * 2), (16, 16, 24))
    ImageDraw.Draw(bar).text((small.size // 2, small.size // 2), facts, font=small, fill=(255, 230, 120))
    big = load_font(max(14, height // 17))
    margin = big.size
    lines = wrap_text(spec.prompt or "(no prompt)", big, width - 2 * margin, max_lines=4)
    moves = camera_moves(spec.prompt)
    if moves:
        lines.append("camera: " + ", ".join(moves))
    line_height = int(big.size * 1.3)
    panel = Image.new("RGB", (width, line_height * len(lines) + margin), (12, 12, 18))
    draw = ImageDraw.Draw(panel)
    for number, line in enumerate(lines):
        draw.text((margin, margin // 2 + number * line_height), line, font=big, fill=(255, 255, 255))
    return bar, panel


def _window(spec: RenderSpec, moves: list[str], progress: float, scale: float, frame: int) -> tuple[int, ...]:
    """The crop box on the canvas at ``progress`` (0 at the first frame, 1 at the last)."""
    dx = dy = zoom = 0.0
    for name in moves:
        move = _MOVES[name]
        dx, dy, zoom = dx + move[0], dy + move[1], zoom + move[2]
    if "shake" in moves:
        dx += 0.02 * (1 if frame % 2 else -1) * (progress > 0)
    limit = (scale - 1) / 2 * 0.95
    zoom_factor = max(1 / (scale * 0.95), 1 + zoom * progress)  # >1 zooms in, <1 out
    w, h = spec.width / zoom_factor, spec.height / zoom_factor
    cx = spec.width * scale / 2 + max(-limit, min(limit, dx * progress)) * spec.width
    cy = spec.height * scale / 2 + max(-limit, min(limit, dy * progress)) * spec.height
    left, top = int(round(cx - w / 2)), int(round(cy - h / 2))
    return left, top, left + int(round(w)), top + int(round(h))


def render_frames(spec: RenderSpec, fps: int = FPS) -> Any:
    """Yield the clip's frames as Pillow RGB images."""
    from PIL import Image

    scale = 2.0
    canvas = _scene(spec, scale)
    bar, panel = _overlays(spec)
    moves = camera_moves(spec.prompt)
    last = decode_image(spec.last_frame)
    last = last.resize((spec.width, spec.height)) if last is not None else None
    count = max(1, int(round(spec.duration * fps)))
    image_start = decode_image(spec.first_frame) is not None
    for index in range(count):
        progress = index / max(1, count - 1)
        box = _window(spec, moves, progress, scale, index)
        view = canvas.crop(box)
        if view.size != (spec.width, spec.height):
            view = view.resize((spec.width, spec.height), Image.Resampling.NEAREST)
        fade_from = int(count * 0.6)
        if last is not None and index >= fade_from:
            view = Image.blend(view, last, (index - fade_from + 1) / max(1, count - fade_from))
        pure = (index == 0 and image_start) or (last is not None and index == count - 1)
        if not pure:  # the given first/last frame stays exactly the image; every other frame is labelled
            view.paste(bar, (0, 0))
            view.paste(panel, (0, spec.height - panel.height))
        yield view


def render_request_mp4(path: str, spec: RenderSpec, fps: int = FPS) -> None:
    """Write the clip of ``spec`` as an H.264 MP4 at ``path``."""
    from .media import VideoRenderError

    try:
        import av
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise VideoRenderError("rendering MP4s needs PyAV: pip install 'airflow-provider-hailuo[emulator]'") from exc
    if spec.width % 2 or spec.height % 2:
        raise VideoRenderError(f"yuv420p needs even sizes, got {spec.width}x{spec.height}")
    container = av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"})
    try:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "30"}
        for index, image in enumerate(render_frames(spec, fps)):
            frame = av.VideoFrame.from_image(image).reformat(format="yuv420p")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    finally:
        container.close()
