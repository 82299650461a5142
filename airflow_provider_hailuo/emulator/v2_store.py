"""State of the MiniMax v2 surface: H3 tasks, uploaded files, per-account limits.

The store shares ``EmulatorState``'s lock (handlers run on the server loop while tests read the
state from their own thread). A task's status is computed from the clock and its captured options,
like v1's, plus what DELETE did to it.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .v2_media import MediaInfo

V2_ENDPOINTS = (
    "v2_submit",
    "v2_status",
    "v2_list",
    "v2_delete",
    "v2_context_ir",
    "v2_regeneration",
    "v2_upload",
    "v2_download",
)
IN_FLIGHT = ("queued", "running")
FILE_LIFETIME = 7 * 86_400.0
DEFAULT_QUEUED_SHARE = 0.4
TASK_LIMIT = 20_000


@dataclass
class V2Task:
    task_id: str
    account: str
    task_type: str  # "generation" | "h3_context_ir" | "regeneration"
    model: str
    duration: int
    resolution: str | None
    ratio: str | None
    width: int
    height: int
    usage: dict[str, Any]  # what success bills
    created_at: float
    created_mono: float
    queue_seconds: float
    generation_seconds: float
    final_status: str
    fail_reason: str
    moderation_output: bool
    synthetic_bytes: int | None
    prompt: str | None = None  # Context-IR's expanded prompt
    source_task_id: str | None = None
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    cancelled_at: float | None = None
    vendor: str = "minimax"

    @property
    def modality(self) -> str:
        return "text" if self.task_type == "h3_context_ir" else "video"

    @property
    def finished_at(self) -> float:
        return self.created_at + self.generation_seconds

    @property
    def succeeded(self) -> bool:
        return self.final_status == "success" and not self.moderation_output

    def status(self, lifetime: float, now_mono: float | None = None, now: float | None = None) -> str:
        if self.cancelled_at is not None:
            return "cancelled"
        elapsed = (time.monotonic() if now_mono is None else now_mono) - self.created_mono
        if elapsed < min(self.queue_seconds, self.generation_seconds):
            return "queued"
        if elapsed < self.generation_seconds:
            return "running"
        if not self.succeeded:
            return "failed"
        if (time.time() if now is None else now) - self.finished_at >= lifetime:
            return "expired"
        return "succeeded"

    def updated_at(self, status: str) -> float:
        if status == "queued":
            return self.created_at
        if status == "running":
            return self.created_at + self.queue_seconds
        if status == "cancelled" and self.cancelled_at is not None:
            return self.cancelled_at
        return self.finished_at

    def charged(self, status: str) -> bool | None:
        """None while in flight; then whether the account pays (not for failed or cancelled)."""
        if status in IN_FLIGHT:
            return None
        return status in ("succeeded", "expired")


@dataclass
class UploadedFile:
    file_id: str
    account: str
    filename: str
    info: MediaInfo
    created_at: float


def account_name(api_key: str, main_key: str) -> str:
    """A name for the key's account that does not reveal the key."""
    if api_key == main_key:
        return "default"
    return "key-" + hashlib.sha256(api_key.encode()).hexdigest()[:8]


class V2Store:
    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self.tasks: dict[str, V2Task] = {}
        self.files: dict[str, UploadedFile] = {}
        self.tokens: dict[str, V2Task] = {}
        self.create_times: dict[str, deque[float]] = {}

    def clear(self) -> None:
        with self.lock:
            self.tasks.clear()
            self.files.clear()
            self.tokens.clear()
            self.create_times.clear()

    def new_id(self) -> str:
        with self.lock:
            while True:
                value = str(100_000_000_000_000 + secrets.randbelow(800_000_000_000_000))
                if value not in self.tasks and value not in self.files:
                    return value

    def admit(self, account: str, rpm: int | None) -> bool:
        """Sliding one-minute window of create requests per account; a refused one does not count."""
        if rpm is None:
            return True
        with self.lock:
            now = time.monotonic()
            window = self.create_times.setdefault(account, deque())
            while window and now - window[0] >= 60.0:
                window.popleft()
            if len(window) >= rpm:
                return False
            window.append(now)
            return True

    def in_flight(self, account: str, lifetime: float) -> int:
        with self.lock:
            tasks = [task for task in self.tasks.values() if task.account == account]
        return sum(1 for task in tasks if task.status(lifetime) in IN_FLIGHT)

    def add(self, task: V2Task) -> V2Task:
        with self.lock:
            if len(self.tasks) >= TASK_LIMIT:  # a long-running emulator forgets its oldest task
                self.remove(next(iter(self.tasks.values())))
            self.tasks[task.task_id] = task
            self.tokens[task.token] = task
        return task

    def remove(self, task: V2Task) -> None:
        with self.lock:
            self.tasks.pop(task.task_id, None)
            self.tokens.pop(task.token, None)

    def task(self, task_id: str) -> V2Task | None:
        with self.lock:
            return self.tasks.get(task_id)

    def by_token(self, token: str) -> V2Task | None:
        with self.lock:
            return self.tokens.get(token)

    def account_tasks(self, account: str) -> list[V2Task]:
        with self.lock:
            return [task for task in self.tasks.values() if task.account == account]

    def add_file(self, upload: UploadedFile) -> None:
        with self.lock:
            self.files[upload.file_id] = upload

    def file(self, file_id: str, account: str) -> UploadedFile | None:
        with self.lock:
            upload = self.files.get(file_id)
        if upload is None or upload.account != account or time.time() - upload.created_at > FILE_LIFETIME:
            return None
        return upload

    def summaries(self, lifetime: float) -> list[dict[str, Any]]:
        with self.lock:
            tasks = list(self.tasks.values())
        result = []
        for task in tasks:
            status = task.status(lifetime)
            result.append(
                {
                    "vendor": "minimax",
                    "api": "v2",
                    "task_id": task.task_id,
                    "account": task.account,
                    "task_type": task.task_type,
                    "model": task.model,
                    "status": status,
                    "duration": task.duration,
                    "resolution": task.resolution,
                    "ratio": task.ratio,
                    "video_width": task.width,
                    "video_height": task.height,
                    "created_at": task.created_at,
                    "generation_seconds": task.generation_seconds,
                    "finished": status not in IN_FLIGHT,
                    "cancelled": task.cancelled_at is not None,
                    "charged": task.charged(status),
                    "synthetic_bytes": task.synthetic_bytes,
                }
            )
        return result

    def in_flight_counts(self, lifetime: float) -> dict[str, int]:
        with self.lock:
            accounts = {task.account for task in self.tasks.values()}
        return {account: self.in_flight(account, lifetime) for account in sorted(accounts)}
