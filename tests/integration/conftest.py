"""Fixtures the integration modules share: a moto S3 server (server mode, loopback) per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.transfer_helpers import MotoS3


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[MotoS3]:
    server = MotoS3.start()
    try:
        yield server
    finally:
        server.stop()
