"""Mutable emulator state: tasks, faults, the request log and rate-limit windows.

Everything here is guarded by one lock: the aiohttp handlers run on the server's event-loop
thread while tests call ``EmulatorServer.configure`` / ``requests`` from theirs.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from .catalog import VideoRequest
from .config import ConfigError, make_config, normalize_options
from .v2_store import V2_ENDPOINTS, V2Store

VENDORS = ("minimax", "dmxapi", "modelverse")
ENDPOINTS = ("submit", "status", "retrieve", "retrieve_content", "download", "backup_download", *V2_ENDPOINTS)
LOG_ENDPOINTS = (*ENDPOINTS, "control", "unknown")
DOWNLOAD_ENDPOINTS = ("retrieve_content", "download", "backup_download")
FAULT_KINDS = ("http_status", "base_resp", "reset", "slow", "slow_answer", "malformed_json", "truncated",
               "expired_url")
LOG_LIMIT = 20_000
TASK_LIMIT = 20_000


@dataclass
class Task:
    vendor: str
    task_id: str
    file_id: str
    token: str
    request: VideoRequest
    created_at: float  # wall clock
    created_mono: float
    generation_seconds: float
    final_status: str  # "success" | "fail"
    fail_reason: str
    moderation_output: bool
    synthetic_bytes: int | None

    def progress(self, now_mono: float | None = None) -> float:
        """0.0 at submit, 1.0 (and more) once the final status is reached."""
        elapsed = (time.monotonic() if now_mono is None else now_mono) - self.created_mono
        if self.generation_seconds <= 0:
            return 1.0
        return elapsed / self.generation_seconds

    @property
    def finished_at(self) -> float:
        return self.created_at + self.generation_seconds

    @property
    def succeeded(self) -> bool:
        return self.final_status == "success" and not self.moderation_output

    def summary(self) -> dict[str, Any]:
        progress = self.progress()
        return {
            "vendor": self.vendor,
            "task_id": self.task_id,
            "file_id": self.file_id,
            "model": self.request.model,
            "mode": self.request.mode,
            "duration": self.request.duration,
            "resolution": self.request.resolution,
            "video_width": self.request.width,
            "video_height": self.request.height,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "generation_seconds": self.generation_seconds,
            "finished": progress >= 1.0,
            "outcome": ("success" if self.succeeded else "fail"),
            "synthetic_bytes": self.synthetic_bytes,
        }


@dataclass
class Fault:
    endpoint: str
    kind: str
    times: int = 1
    vendor: str | None = None
    status: int | None = None
    code: int | None = None
    delay: float | None = None
    #: A time-bounded fault: every matching request for this many seconds after it was added
    #: (``times`` is then ignored), like a vendor-side rate-limit storm.
    seconds: float | None = None
    id: int = 0
    fired: int = field(default=0)
    expires_mono: float | None = field(default=None, repr=False)

    def expired(self, now_mono: float) -> bool:
        return self.expires_mono is not None and now_mono >= self.expires_mono

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("expires_mono")
        return out


def make_fault(
    endpoint: str,
    kind: str,
    times: int = 1,
    vendor: str | None = None,
    status: int | None = None,
    code: int | None = None,
    delay: float | None = None,
    seconds: float | None = None,
) -> Fault:
    if endpoint not in ENDPOINTS:
        raise ConfigError(f"fault endpoint must be one of {', '.join(ENDPOINTS)}, got {endpoint!r}")
    if kind not in FAULT_KINDS:
        raise ConfigError(f"fault kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
    if vendor is not None and vendor not in VENDORS:
        raise ConfigError(f"fault vendor must be null or one of {', '.join(VENDORS)}, got {vendor!r}")
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ConfigError(f"fault times must be an integer >= 1, got {times!r}")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
        raise ConfigError(f"fault status must be an HTTP status code, got {status!r}")
    if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
        raise ConfigError(f"fault code must be an integer base_resp code, got {code!r}")
    if delay is not None and (isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0):
        raise ConfigError(f"fault delay must be a number of seconds >= 0, got {delay!r}")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0):
        raise ConfigError(f"fault seconds must be a number of seconds > 0, got {seconds!r}")
    if kind == "expired_url" and endpoint not in ("download", "backup_download", "v2_download"):
        raise ConfigError("expired_url faults apply to the download endpoints only")
    if kind == "http_status" and status is None:
        status = 500
    if kind == "base_resp" and code is None:
        code = 1000
    if kind in ("slow", "slow_answer") and delay is None:
        delay = 2.0
    return Fault(
        endpoint=endpoint,
        kind=kind,
        times=times,
        vendor=vendor,
        status=status,
        code=code,
        delay=None if delay is None else float(delay),
        seconds=None if seconds is None else float(seconds),
    )


def task_generation_seconds(setting: float | list[float], vendor: str, request: VideoRequest) -> float:
    """The generation time of one task: the setting, or for ``[min, max]`` a point in that range.

    The point comes from a hash of the vendor and the prompt, so a load is the same from run to
    run (and a resubmitted prompt takes as long as before).
    """
    if not isinstance(setting, list):
        return float(setting)
    low, high = setting
    digest = hashlib.sha256(f"{vendor}\0{request.prompt or ''}".encode()).digest()
    return low + (high - low) * int.from_bytes(digest[:8], "big") / 2**64


class EmulatorState:
    def __init__(self, config_overrides: dict[str, Any] | None = None) -> None:
        self.lock = threading.RLock()
        self._initial_overrides = normalize_options(config_overrides or {})
        self.config: dict[str, Any] = make_config(self._initial_overrides)
        self.tasks: dict[tuple[str, str], Task] = {}
        self.files: dict[tuple[str, str], Task] = {}
        self.tokens: dict[str, Task] = {}
        self.faults: list[Fault] = []
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        self.submit_times: dict[str, deque[float]] = {}
        self._fault_ids = 0
        self.v2 = V2Store(self.lock)

    # -- configuration -------------------------------------------------------------------------
    def configure(self, options: dict[str, Any]) -> dict[str, Any]:
        clean = normalize_options(options)
        with self.lock:
            self.config.update(clean)
            if "rate_limit" in clean:
                self.submit_times.clear()
            return dict(self.config)

    def config_snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.config)

    def reset(self) -> None:
        with self.lock:
            self.config = make_config(self._initial_overrides)
            self.tasks.clear()
            self.files.clear()
            self.tokens.clear()
            self.faults.clear()
            self.log.clear()
            self.submit_times.clear()
            self.v2.clear()

    # -- tasks -----------------------------------------------------------------------------------
    def create_task(self, vendor: str, request: VideoRequest) -> Task:
        with self.lock:
            config = self.config
            task_id = self._new_id()
            file_id = self._new_id()
            task = Task(
                vendor=vendor,
                task_id=task_id,
                file_id=file_id,
                token=secrets.token_hex(16),
                request=request,
                created_at=time.time(),
                created_mono=time.monotonic(),
                generation_seconds=task_generation_seconds(config["generation_seconds"], vendor, request),
                final_status=config["final_status"],
                fail_reason=config["fail_reason"],
                moderation_output=config["moderation"] == "output",
                synthetic_bytes=config["synthetic_video_bytes"],
            )
            if len(self.tasks) >= TASK_LIMIT:
                oldest = next(iter(self.tasks.values()))
                self._forget(oldest)
            self.tasks[(vendor, task_id)] = task
            self.files[(vendor, file_id)] = task
            self.tokens[task.token] = task
            return task

    def _new_id(self) -> str:
        """A 15-digit id, like the vendors' task and file ids, unique among live tasks and files."""
        while True:
            value = str(100_000_000_000_000 + secrets.randbelow(800_000_000_000_000))
            if not any((vendor, value) in self.tasks or (vendor, value) in self.files for vendor in VENDORS):
                return value

    def _forget(self, task: Task) -> None:
        self.tasks.pop((task.vendor, task.task_id), None)
        self.files.pop((task.vendor, task.file_id), None)
        self.tokens.pop(task.token, None)

    def task(self, vendor: str, task_id: str) -> Task | None:
        with self.lock:
            return self.tasks.get((vendor, task_id))

    def file(self, vendor: str, file_id: str) -> Task | None:
        with self.lock:
            return self.files.get((vendor, file_id))

    def by_token(self, token: str) -> Task | None:
        with self.lock:
            return self.tokens.get(token)

    def task_summaries(self, vendor: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            tasks = [task for task in self.tasks.values() if vendor is None or task.vendor == vendor]
            lifetime = self.config["v2_task_lifetime"]
        v2 = self.v2.summaries(lifetime) if vendor in (None, "minimax") else []
        return [task.summary() for task in tasks] + v2

    # -- rate limit ------------------------------------------------------------------------------
    def admit_submit(self, vendor: str) -> bool:
        """Sliding-window limiter; a refused submit does not count."""
        with self.lock:
            limit = self.config["rate_limit"]
            if not limit:
                return True
            now = time.monotonic()
            window = self.submit_times.setdefault(vendor, deque())
            while window and now - window[0] >= limit["window_seconds"]:
                window.popleft()
            if len(window) >= limit["submits"]:
                return False
            window.append(now)
            return True

    # -- faults ----------------------------------------------------------------------------------
    def add_fault(self, fault: Fault) -> Fault:
        with self.lock:
            self._fault_ids += 1
            fault.id = self._fault_ids
            if fault.seconds is not None:
                fault.expires_mono = time.monotonic() + fault.seconds
            self.faults.append(fault)
            return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def fault_list(self) -> list[dict[str, Any]]:
        with self.lock:
            now = time.monotonic()
            self.faults = [fault for fault in self.faults if not fault.expired(now)]
            return [fault.as_dict() for fault in self.faults]

    def take_fault(self, endpoint: str, vendor: str | None) -> Fault | None:
        """The first fault matching this request, consumed once (removed when used up)."""
        with self.lock:
            now = time.monotonic()
            self.faults = [fault for fault in self.faults if not fault.expired(now)]
            for fault in self.faults:
                if fault.endpoint == endpoint and (fault.vendor is None or fault.vendor == vendor):
                    fault.fired += 1
                    if fault.seconds is None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return copy.copy(fault)
        return None

    # -- request log -----------------------------------------------------------------------------
    def log_request(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.log.append(entry)
        return entry

    def update_entry(self, entry: dict[str, Any], **values: Any) -> None:
        with self.lock:
            entry.update(values)

    def requests(self, vendor: str | None = None, endpoint: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                copy.deepcopy(entry)
                for entry in self.log
                if (vendor is None or entry.get("vendor") == vendor)
                and (endpoint is None or entry.get("endpoint") == endpoint)
            ]

    def count(self, endpoint: str, vendor: str | None = None) -> int:
        with self.lock:
            return sum(
                1
                for entry in self.log
                if entry.get("endpoint") == endpoint and (vendor is None or entry.get("vendor") == vendor)
            )
