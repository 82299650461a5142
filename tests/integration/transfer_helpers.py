"""Helpers for the transfer tests: a finished vendor task on the emulator, and S3 on a moto server.

The moto server is real S3 over HTTP on a loopback port; the operator reaches it through the
Amazon provider's filesystem (s3fs) with an ``aws`` connection whose extra ``endpoint_url``
points at it, as a deployer would configure MinIO or another S3-compatible store.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

MODEL = "MiniMax-Hailuo-2.3"
PROMPT = "A lighthouse at dusk, waves below [推进]"


def finished_video(conn_id: str, *, prompt: str = PROMPT, timeout: float = 20.0) -> dict[str, Any]:
    """Submit through the hook and poll until done; returns the contract's video result dict."""
    from airflow_provider_hailuo.core import VideoRequest
    from airflow_provider_hailuo.core.models import TaskState, VideoResult
    from airflow_provider_hailuo.hooks import get_hook

    hook = get_hook(conn_id)
    task_id = hook.submit(VideoRequest.build(model=MODEL, prompt=prompt))
    deadline = time.monotonic() + timeout
    while True:
        status = hook.get_status(task_id)
        if status.state.is_terminal:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"emulator task {task_id} did not finish within {timeout} s")
        time.sleep(0.05)
    assert status.state is TaskState.SUCCEEDED, status
    return VideoResult.from_status(status, model=MODEL, prompt=prompt).to_dict()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MotoS3:
    """A moto S3 server and the Airflow ``aws`` connection that points at it."""

    server: Any
    endpoint: str
    conn_id: str

    @classmethod
    def start(cls) -> MotoS3:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        endpoint = f"http://127.0.0.1:{port}"
        # A conn id unique to this server: Airflow caches one filesystem per (scheme, conn id).
        conn_id = f"aws_moto_{port}"
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        })
        return cls(server, endpoint, conn_id)

    def stop(self) -> None:
        os.environ.pop(f"AIRFLOW_CONN_{self.conn_id.upper()}", None)
        self.server.stop()

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1")

    def new_bucket(self) -> str:
        name = f"media-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def open_uploads(self, bucket: str) -> list[str]:
        return [upload["Key"] for upload in self.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
