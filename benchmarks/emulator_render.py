"""Render benchmark: a 6 s 768P emulator clip drawn from its request stays under ~1 s.

Renders, in this process, the clip of each emulator mode (text with a camera move, image, first +
last frame, subject reference) and, as the baseline, the encode alone: the same number of plain
frames through the same H.264 settings, so the ratio is what drawing the request costs on top of
encoding. Prints a table (best of N runs each) and exits 1 when a request clip takes 1 s or more.

    .venv/bin/python benchmarks/emulator_render.py [--runs 3] [--limit 1.0]
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, table, verdict  # noqa: E402

from airflow_provider_hailuo.emulator.render import FPS, RenderSpec, render_request_mp4  # noqa: E402


def _image(colour: tuple[int, int, int], size: tuple[int, int] = (1280, 720)) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def encode_only(path: str, width: int, height: int, duration: int) -> None:
    """The baseline: plain frames, same encoder and settings, no drawing."""
    import av
    from PIL import Image

    frame_image = Image.new("RGB", (width, height), (40, 90, 160))
    with av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "30"}
        for index in range(duration * FPS):
            frame = av.VideoFrame.from_image(frame_image).reformat(format="yuv420p")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=float, default=1.0, help="seconds a 6 s 768P clip may take")
    args = parser.parse_args()
    base = {"width": 1366, "height": 768, "duration": 6, "vendor": "minimax", "model": "MiniMax-Hailuo-2.3",
            "resolution": "768P", "task_id": "318204417691852"}
    cases = {
        "text, [Pan left]": RenderSpec(**base, prompt="A red kite dances above a windy beach [Pan left]"),
        "text, CJK, [变焦推近]": RenderSpec(**base, prompt="雨夜的城市，霓虹灯倒映在湿漉漉的街道上 [变焦推近]"),
        "image": RenderSpec(**base, mode="i2v", prompt="she turns [固定]", first_frame=_image((200, 80, 40))),
        "first+last frame": RenderSpec(**base, mode="fl2v", prompt="day to night", first_frame=_image((200, 80, 40)),
                                       last_frame=_image((20, 20, 90))),
        "subject reference": RenderSpec(**{**base, "width": 1280, "height": 720}, mode="s2v", prompt="she walks",
                                        subject=_image((90, 160, 90), (720, 720))),
    }
    print(f"Machine: {machine()}")
    print(f"Median of {args.runs} rounds, every clip once per round (interleaved); {FPS} fps, libx264 ultrafast; "
          "baseline = encoding plain frames only.\n")
    folder = tempfile.mkdtemp(prefix="hailuo-render-bench-")
    path = os.path.join(folder, "clip.mp4")
    actions: dict[str, Any] = {"baseline: encode only (768P, 6 s)":
                               lambda: encode_only(os.path.join(folder, "base.mp4"), 1366, 768, 6)}
    for name, spec in cases.items():
        actions[name] = lambda spec=spec: render_request_mp4(path, spec)
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(max(1, args.runs)):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - started)
    baseline = statistics.median(next(iter(times.values())))
    rows = []
    failures = []
    for index, (name, measured) in enumerate(times.items()):
        seconds = statistics.median(measured)
        spread = f"{min(measured):.3f} / {seconds:.3f} / {max(measured):.3f}"
        if index == 0:
            rows.append([name, spread, "1.00x", "-"])
            continue
        ok = seconds < args.limit
        if not ok:
            failures.append(f"{name}: {seconds:.3f} s (median) >= {args.limit} s")
        rows.append([name, spread, f"{seconds / baseline:.2f}x", "pass" if ok else "FAIL"])
    print(table(["clip (6 s)", "seconds min / median / max", "vs baseline", f"median < {args.limit} s"], rows))
    print(f"\nload average at the end: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    return verdict(failures)


if __name__ == "__main__":
    sys.exit(main())
