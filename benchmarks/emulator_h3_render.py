"""Render-time benchmark: the emulator's MiniMax-H3 MP4s (24 fps + stereo AAC) against v1's.

Renders, uncached, in a fresh temporary directory: the v1 baseline (1080P x 10 s, 8 fps, silent)
and the H3 sizes that cost most (768P 16:9 x 15 s, 2K 16:9 x 15 s, 2K 21:9 x 15 s), each
``--repeat`` times (best kept). Prints seconds, file size and the ratio to the baseline; exits 1
when a 2K 16:9 x 15 s clip takes more than ``--limit`` seconds (default 15).

    .venv/bin/python benchmarks/emulator_h3_render.py [--repeat 2] [--limit 15]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable

from airflow_provider_hailuo.emulator.media import render_mp4
from airflow_provider_hailuo.emulator.v2_video import render_h3_mp4


def best_of(repeat: int, render: Callable[[str], None]) -> tuple[float, int]:
    best, size = float("inf"), 0
    with tempfile.TemporaryDirectory(prefix="hailuo-h3-bench-") as directory:
        for index in range(repeat):
            path = os.path.join(directory, f"clip-{index}.mp4")
            started = time.perf_counter()
            render(path)
            best = min(best, time.perf_counter() - started)
            size = os.path.getsize(path)
    return best, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--limit", type=float, default=15.0, help="seconds allowed for 2K 16:9 x 15 s")
    args = parser.parse_args()
    baseline, baseline_size = best_of(args.repeat, lambda path: render_mp4(path, 1920, 1080, 10))
    cases = [
        ("H3 768P 16:9 x 15 s", 1366, 768, 15),
        ("H3 2K 16:9 x 15 s", 2560, 1440, 15),
        ("H3 2K 21:9 x 15 s", 3360, 1440, 15),
    ]
    print(f"{'clip':<28}{'seconds':>9}{'bytes':>11}{'x baseline':>12}")
    print(f"{'v1 1080P x 10 s (baseline)':<28}{baseline:>9.2f}{baseline_size:>11}{1.0:>12.2f}")
    failed = False
    for name, width, height, duration in cases:
        seconds, size = best_of(args.repeat, lambda path, w=width, h=height, d=duration: render_h3_mp4(path, w, h, d))
        print(f"{name:<28}{seconds:>9.2f}{size:>11}{seconds / baseline:>12.2f}")
        if (width, height) == (2560, 1440) and seconds > args.limit:
            failed = True
    print(f"2K 16:9 x 15 s within {args.limit:.0f} s: {'no' if failed else 'yes'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
