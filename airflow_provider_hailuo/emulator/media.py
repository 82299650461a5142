"""Video bytes served by the emulator.

* Real MP4s: H.264 (libx264, yuv420p) rendered with PyAV (imported lazily) from the request
  (``render.py``: prompt, vendor, model, task id, images, camera). They are cached on disk by the
  request's digest, so a request is rendered once per cache directory.
* Synthetic videos: ``synthetic_video_chunks`` produces an N-byte file (an ``ftyp`` box, then an
  ``mdat`` box filled with a deterministic pattern) chunk by chunk, never whole in memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from .render import FPS, RENDER_VERSION, RenderSpec, render_request_mp4

DEFAULT_CHUNK_SIZE = 256 * 1024
_BLOCK = 64 * 1024

# ``ftyp`` box: size 32, major brand isom, minor version 0x200, four compatible brands.
_FTYP = (32).to_bytes(4, "big") + b"ftyp" + b"isom" + (0x200).to_bytes(4, "big") + b"isomiso2avc1mp41"
_PATTERN = hashlib.shake_256(b"hailuo-emulator synthetic video").digest(_BLOCK)


def _synthetic_header(size: int) -> bytes:
    payload = size - len(_FTYP)
    if payload - 8 < 0xFFFFFFFF:
        return _FTYP + max(payload, 0).to_bytes(4, "big") + b"mdat"
    # 64-bit box: size field 1, then the largesize after the type
    return _FTYP + (1).to_bytes(4, "big") + b"mdat" + payload.to_bytes(8, "big")


def _synthetic_block(index: int) -> bytes:
    # Each 64 KiB block of the payload starts with its index, so a misplaced block is detected.
    return index.to_bytes(8, "big") + _PATTERN[8:]


def _synthetic_pieces(size: int, start: int, end: int) -> Iterator[bytes | memoryview]:
    header = _synthetic_header(size)
    position = start
    if position < len(header):
        piece = header[position : min(end, len(header))]
        position += len(piece)
        yield piece
    while position < end:
        offset = position - len(header)
        index, within = divmod(offset, _BLOCK)
        take = min(_BLOCK - within, end - position)
        yield memoryview(_synthetic_block(index))[within : within + take]
        position += take


def synthetic_video_chunks(
    size: int, chunk_size: int = DEFAULT_CHUNK_SIZE, *, start: int = 0, end: int | None = None
) -> Iterator[bytes]:
    """Yield the bytes ``[start, end)`` of the ``size``-byte synthetic video, ``chunk_size`` at a time.

    The full file (``start=0``) begins with a valid ``ftyp`` box (``....ftypisom....``) followed by
    an ``mdat`` box whose payload is a deterministic pattern. The emulator streams exactly these
    chunks, so ``hashlib.sha256(b"".join(synthetic_video_chunks(n)))`` is the served file's hash.
    """
    if size < 0:
        raise ValueError("size must be >= 0")
    if chunk_size <= 0:
        raise ValueError("chunk_size must be > 0")
    end = size if end is None else min(end, size)
    start = max(0, start)
    buffer = bytearray()
    for piece in _synthetic_pieces(size, start, end):
        buffer += piece
        while len(buffer) >= chunk_size:
            yield bytes(buffer[:chunk_size])
            del buffer[:chunk_size]
    if buffer:
        yield bytes(buffer)


def synthetic_video_sha256(size: int) -> str:
    digest = hashlib.sha256()
    for chunk in synthetic_video_chunks(size, 1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def default_cache_dir() -> Path:
    """A per-user cache directory under the system temp dir, reused between runs."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    path = Path(tempfile.gettempdir()) / f"hailuo-emulator-videos-{uid}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = path.stat()
        if (hasattr(os, "getuid") and info.st_uid != uid) or path.is_symlink():
            raise PermissionError(f"{path} is not owned by this user")
    except OSError:
        return Path(tempfile.mkdtemp(prefix="hailuo-emulator-videos-"))
    return path


class VideoRenderError(RuntimeError):
    pass


class VideoCache:
    """Renders MP4s on demand and keeps them on disk, one per request (its spec's digest); thread-safe.

    A clip shows its task id, so there is one file per task: the oldest beyond ``max_files`` are
    removed after each render, so a long-lived cache directory does not grow without end.
    """

    max_files = 512

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    @staticmethod
    def _spec(spec: RenderSpec | int, height: int | None = None, duration: int | None = None) -> RenderSpec:
        """A spec, or (width, height, duration) for a clip that shows no request (the older call)."""
        if isinstance(spec, RenderSpec):
            return spec
        return RenderSpec(width=spec, height=height or 0, duration=duration or 0)

    def path_for(self, spec: RenderSpec | int, height: int | None = None, duration: int | None = None) -> Path:
        spec = self._spec(spec, height, duration)
        return self.directory / f"hailuo-emu-v{RENDER_VERSION}-{spec.width}x{spec.height}-{spec.digest[:32]}.mp4"

    def cached(self, spec: RenderSpec | int, height: int | None = None, duration: int | None = None) -> Path | None:
        path = self.path_for(spec, height, duration)
        return path if path.is_file() and path.stat().st_size > 0 else None

    def get(self, spec: RenderSpec | int, height: int | None = None, duration: int | None = None) -> Path:
        """Return the MP4's path, rendering it first when it is not cached (blocking)."""
        spec = self._spec(spec, height, duration)
        path = self.cached(spec)
        if path is not None:
            return path
        with self._lock:
            key_lock = self._key_locks.setdefault(spec.digest, threading.Lock())
        with key_lock:
            path = self.cached(spec)
            if path is not None:
                return path
            target = self.path_for(spec)
            fd, temp_name = tempfile.mkstemp(prefix=target.stem + ".", suffix=".part.mp4", dir=self.directory)
            os.close(fd)
            try:
                render_request_mp4(temp_name, spec)
                os.replace(temp_name, target)
            finally:
                if os.path.exists(temp_name):
                    os.unlink(temp_name)
            with self._lock:
                self._key_locks.pop(spec.digest, None)
            self._prune(keep=target)
            return target

    def _prune(self, keep: Path) -> None:
        """Remove the least recently written clips beyond ``max_files`` (never ``keep``)."""
        try:
            clips = [entry for entry in os.scandir(self.directory)
                     if entry.name.startswith("hailuo-emu-v") and entry.name.endswith(".mp4")  # not h3-
                     and ".part." not in entry.name]
            if len(clips) <= self.max_files:
                return
            clips.sort(key=lambda entry: entry.stat().st_mtime)
            for entry in clips[: len(clips) - self.max_files]:
                if entry.path != str(keep):
                    os.unlink(entry.path)
        except OSError:
            pass  # another process pruned first, or the directory went away: nothing to keep tidy


def render_mp4(path: str, width: int, height: int, duration: int, fps: int = FPS) -> None:
    """Write a clip of the given size that shows no request (kept for callers of the first API)."""
    render_request_mp4(path, RenderSpec(width=width, height=height, duration=duration), fps)
