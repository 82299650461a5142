"""Download progress: a line every few seconds (bytes, percent, rate), never one per chunk."""

from __future__ import annotations

from typing import Any

from airflow_provider_hailuo.transfers.progress import DownloadProgress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_logs_every_interval_with_percent_and_rate(mocker: Any) -> None:
    log, clock = mocker.MagicMock(), Clock()
    progress = DownloadProgress(log, "downloading minimax video_task_id 1", interval=5.0, clock=clock)
    for chunk in range(1, 121):  # 120 chunks of 1 MB, one every 0.125 s: 15 s in all
        clock.now += 0.125
        progress.update(chunk * 1_000_000, 120_000_000)
    assert log.info.call_count == 3  # at 5, 10 and 15 s, not 120 times
    text = log.info.call_args_list[0].args[0] % log.info.call_args_list[0].args[1:]
    assert text == "downloading minimax video_task_id 1: 40.0 MB of 120.0 MB (33 %), 8.0 MB/s"


def test_unknown_size_logs_bytes_and_rate(mocker: Any) -> None:
    log, clock = mocker.MagicMock(), Clock()
    progress = DownloadProgress(log, "d", interval=1.0, clock=clock)
    clock.now += 2
    progress.update(4_000_000, None)
    assert log.info.call_args.args[0] % log.info.call_args.args[1:] == "d: 4.0 MB so far, 2.0 MB/s"
