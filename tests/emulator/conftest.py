"""Fixtures for the emulator's own tests: a fresh emulator per test, videos cached per session."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_hailuo.emulator import EmulatorServer

from .helpers import API_KEY


@pytest.fixture(scope="session")
def emulator_video_cache() -> Path:
    """Rendered MP4s are shared by all tests (and kept between runs), so each size renders once."""
    path = Path(tempfile.gettempdir()) / "hailuo-emulator-test-videos"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def emulator(emulator_video_cache: Path) -> Iterator[EmulatorServer]:
    server = EmulatorServer(
        host="127.0.0.1",
        port=0,
        api_key=API_KEY,
        generation_seconds=0.3,
        video_cache_dir=emulator_video_cache,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
