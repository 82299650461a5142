"""Progress lines for a long download: bytes, percent when the size is known, rate; every few seconds.

A 500 MB video at a slow link takes minutes; a task log that is silent meanwhile looks hung, and
one line per chunk would drown it. ``DownloadProgress.update`` is called per chunk and logs only
when ``interval`` seconds have passed since its last line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

PROGRESS_INTERVAL = 5.0


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:,.1f} MB"


class DownloadProgress:
    """Logs ``<what>: 12.0 MB of 48.0 MB (25 %), 3.1 MB/s`` at most once per ``interval``."""

    def __init__(self, log: Any, what: str, *, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.log, self.what, self.clock = log, what, clock
        self.interval = PROGRESS_INTERVAL if interval is None else interval
        self.started = self.last_logged = clock()
        self.lines = 0

    def update(self, received: int, total: int | None) -> None:
        now = self.clock()
        if now - self.last_logged < self.interval:
            return
        self.last_logged = now
        self.lines += 1
        rate = received / max(now - self.started, 1e-9)
        if total:
            self.log.info("%s: %s of %s (%d %%), %s/s", self.what, _megabytes(received), _megabytes(total),
                          received * 100 // total, _megabytes(int(rate)))
        else:
            self.log.info("%s: %s so far, %s/s", self.what, _megabytes(received), _megabytes(int(rate)))
