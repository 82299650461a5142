"""Staged writes: bytes go to a temporary sibling, and reach the final name only when committed.

Two implementations behind one interface:

* ``LocalStagedWrite`` (``file://``): a hidden sibling file, fsync'd, then an atomic
  ``os.replace`` (or ``os.link``, which refuses to clobber, when overwriting is not allowed).
  While writing, every few MiB it asks the kernel to start writing back what it has
  (``posix_fadvise(DONTNEED)``) and to drop what was written back since the last time (the same
  advice, repeated over a trailing window: pages still dirty are only queued, clean ones are
  dropped). The final fsync then waits only for the tail, a 500 MB video keeps a few tens of MB in
  the page cache instead of 500 (the worker's useful data is not pushed out), and the freed pages
  are reused for the next MiBs (see ``benchmarks/README.md``, streaming cost).
* ``FsspecStagedWrite`` (``s3://``, ``gs://``, ``abfs://``...): the filesystem Airflow attaches
  for the scheme and connection (the official providers'), written with ``open("wb")`` in
  bounded blocks (multipart upload), then a server-side copy to the final key and a delete of the
  temporary object. An object store has no atomic rename; the copy is the one step that creates
  the final key, and it only ever copies a complete, verified object.

Every failure is raised as :class:`HailuoStorageError` naming the destination; ``discard()``
never raises, so cleanup cannot hide the original error.
"""

from __future__ import annotations

import errno
import logging
import os
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any

from airflow_provider_hailuo.exceptions import HailuoConfigurationError, HailuoError, HailuoStorageError
from airflow_provider_hailuo.transfers.paths import ALLOWED_SCHEMES, Destination, staging_name

log = logging.getLogger(__name__)

#: Upload block for object stores: the memory a multipart upload buffers (S3's minimum part is 5 MiB).
DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024
#: Local files: start the kernel's writeback every this many bytes (see the module docstring)...
WRITEBACK_EVERY = 4 * 1024 * 1024
#: ...and advise again over this much before it, by then written back, so those pages are dropped.
DROP_BEHIND = 32 * 1024 * 1024
#: Writeback is started up to a multiple of this only: a page still being appended to is not sent
#: to the disk half-written (the next write would then wait for that writeback to finish).
WRITEBACK_ALIGN = 64 * 1024

#: Keyword arguments that set the stored object's content type, per fsspec implementation.
_CONTENT_TYPE_KWARGS = {
    "s3": "ContentType",
    "gs": "content_type",
    "gcs": "content_type",
}


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


def _storage_error(action: str, where: Destination, exc: BaseException) -> HailuoStorageError:
    if isinstance(exc, HailuoStorageError):
        return exc
    return HailuoStorageError(f"could not {action} {where.uri}: {_describe(exc)}")


class StagedWrite(ABC):
    """One object written under ``temp`` and moved to ``final`` by :meth:`commit`.

    Use as a context manager: leaving the block with an exception discards the temporary.
    """

    def __init__(self, final: Destination, *, content_type: str, token: str | None = None) -> None:
        self.final = final
        self.temp = final.sibling(staging_name(final.name, token))
        self.content_type = content_type
        self.committed = False

    def __enter__(self) -> StagedWrite:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if exc_type is not None or not self.committed:
            self.discard()

    @abstractmethod
    def final_exists(self) -> bool:
        """Whether an object is at the final name (checked fresh, no cached listing)."""

    @abstractmethod
    def open(self) -> None:
        """Create the temporary object, empty."""

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    @abstractmethod
    def restart(self) -> None:
        """Throw away what was written and start the temporary object again, empty."""

    @abstractmethod
    def close(self) -> int:
        """Finish the temporary object (flush, last part); return its stored size."""

    @abstractmethod
    def commit(self, *, overwrite: bool) -> None:
        """Move the finished temporary object to the final name."""

    @abstractmethod
    def discard(self) -> None:
        """Remove the temporary object, whatever state it is in. Never raises."""


class LocalStagedWrite(StagedWrite):
    """``file://``: a hidden sibling file, fsync'd, renamed into place atomically."""

    def __init__(self, final: Destination, *, content_type: str, token: str | None = None) -> None:
        super().__init__(final, content_type=content_type, token=token)
        self._file: Any = None
        self._written = 0
        self._flushed_to = 0  # bytes handed to the kernel's writeback so far

    def final_exists(self) -> bool:
        try:
            return os.path.lexists(self.final.fs_path)
        except OSError as exc:  # pragma: no cover - lexists swallows most errors itself
            raise _storage_error("check", self.final, exc) from exc

    def open(self) -> None:
        try:
            os.makedirs(os.path.dirname(self.temp.fs_path), exist_ok=True)
            self._file = open(self.temp.fs_path, "xb")  # closed in close() or discard()
        except OSError as exc:
            raise _storage_error("create the temporary file for", self.final, exc) from exc

    def write(self, data: bytes) -> None:
        try:
            self._file.write(data)
            self._written += len(data)
            if self._written - self._flushed_to >= WRITEBACK_EVERY:
                self._start_writeback()
        except OSError as exc:
            raise _storage_error("write", self.final, exc) from exc

    def _start_writeback(self) -> None:
        """Start (not wait for) the writeback of what was written since the last call, and drop the
        pages behind it that are written back by now; Linux only."""
        end = self._written - self._written % WRITEBACK_ALIGN
        if end <= self._flushed_to:
            return
        self._file.flush()
        self._advise_dontneed(max(0, self._flushed_to - DROP_BEHIND), end)
        self._flushed_to = end

    def _advise_dontneed(self, start: int, end: int) -> None:
        """``POSIX_FADV_DONTNEED`` over ``[start, end)``, ``end=0`` meaning to the end of the file:
        dirty pages are queued for writeback, clean ones leave the page cache. An advice only."""
        advise = getattr(os, "posix_fadvise", None)
        if advise is None:
            return
        try:
            advise(self._file.fileno(), start, end - start if end else 0, os.POSIX_FADV_DONTNEED)
        except OSError:  # some filesystems do not take it
            pass

    def restart(self) -> None:
        try:
            self._file.seek(0)
            self._file.truncate()
            self._written = self._flushed_to = 0
        except OSError as exc:
            raise _storage_error("rewind the temporary file of", self.final, exc) from exc

    def close(self) -> int:
        try:
            self._file.flush()
            (getattr(os, "fdatasync", None) or os.fsync)(self._file.fileno())
            self._advise_dontneed(0, 0)  # all written back now: drop what is still cached
            self._file.close()
            self._file = None
            return os.stat(self.temp.fs_path).st_size
        except OSError as exc:
            raise _storage_error("finish writing", self.final, exc) from exc

    def commit(self, *, overwrite: bool) -> None:
        temp, final = self.temp.fs_path, self.final.fs_path
        try:
            if overwrite:
                os.replace(temp, final)
            else:
                self._link_no_clobber(temp, final)
            _fsync_dir(os.path.dirname(final))
        except HailuoError:
            raise
        except OSError as exc:
            raise _storage_error("move the finished file to", self.final, exc) from exc
        self.committed = True

    def _link_no_clobber(self, temp: str, final: str) -> None:
        """``os.link`` fails if the name exists: an atomic 'create only if absent'."""
        try:
            os.link(temp, final)
        except FileExistsError:
            raise HailuoStorageError(
                f"{self.final.uri} appeared while the video was downloading and overwrite=False; "
                "left it untouched"
            ) from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK,
                                 errno.ENOSYS):
                raise
            # A filesystem without hard links: check, then rename (a short race, documented).
            if os.path.lexists(final):
                raise HailuoStorageError(
                    f"{self.final.uri} appeared while the video was downloading and overwrite=False; "
                    "left it untouched"
                ) from None
            os.replace(temp, final)
            return
        os.unlink(temp)

    def discard(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None
        try:
            os.unlink(self.temp.fs_path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not remove the temporary file %s: %s", self.temp.uri, _describe(exc))


def _fsync_dir(path: str) -> None:
    """Make a rename durable (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class FsspecStagedWrite(StagedWrite):
    """Object stores through the fsspec filesystem Airflow attaches for the scheme and connection."""

    def __init__(self, final: Destination, *, content_type: str, fs: Any, block_size: int = DEFAULT_BLOCK_SIZE,
                 token: str | None = None) -> None:
        super().__init__(final, content_type=content_type, token=token)
        self.fs = fs
        self.block_size = block_size
        self._file: Any = None

    def final_exists(self) -> bool:
        try:
            self.fs.invalidate_cache(self.final.fs_path)
            return bool(self.fs.exists(self.final.fs_path))
        except Exception as exc:
            raise _storage_error("check whether there is an object at", self.final, exc) from exc

    def _open_kwargs(self) -> dict[str, Any]:
        name = _CONTENT_TYPE_KWARGS.get(self.final.scheme)
        return {name: self.content_type} if name else {}

    def open(self) -> None:
        try:
            self._file = self.fs.open(self.temp.fs_path, "wb", block_size=self.block_size, **self._open_kwargs())
        except Exception as exc:
            raise _storage_error("start the upload of", self.final, exc) from exc

    def write(self, data: bytes) -> None:
        try:
            self._file.write(data)
        except Exception as exc:
            raise _storage_error("upload", self.final, exc) from exc

    def restart(self) -> None:
        self._abandon_file()
        self._remove_temp()
        self.open()

    def close(self) -> int:
        try:
            self._file.close()
            self._file = None
            self.fs.invalidate_cache(self.temp.fs_path)
            return int(self.fs.size(self.temp.fs_path))
        except Exception as exc:
            raise _storage_error("finish the upload of", self.final, exc) from exc

    def commit(self, *, overwrite: bool) -> None:
        if not overwrite and self.final_exists():
            raise HailuoStorageError(
                f"{self.final.uri} appeared while the video was downloading and overwrite=False; left it untouched"
            )
        try:
            self.fs.copy(self.temp.fs_path, self.final.fs_path)  # server-side copy: no bytes through here
        except Exception as exc:
            raise _storage_error("copy the finished upload to", self.final, exc) from exc
        self.committed = True
        self._remove_temp()
        try:
            self.fs.invalidate_cache(self.final.fs_path)
        except Exception as exc:  # pragma: no cover - cache bookkeeping only
            log.debug("invalidating the listing cache of %s failed: %s", self.final.uri, _describe(exc))

    def _abandon_file(self) -> None:
        """Stop an upload in progress without committing it (aborts a multipart upload)."""
        handle, self._file = self._file, None
        if handle is None:
            return
        try:
            handle.discard()
        except Exception as exc:
            log.debug("discarding the upload of %s failed: %s", self.temp.uri, _describe(exc))
        try:
            handle.closed = True  # after discard() the buffer is gone: closing again must not flush
        except Exception as exc:  # pragma: no cover - implementations without the setter
            log.debug("could not mark the abandoned upload of %s closed: %s", self.temp.uri, _describe(exc))

    def _remove_temp(self) -> None:
        try:
            self.fs.invalidate_cache(self.temp.fs_path)
            if self.fs.exists(self.temp.fs_path):
                self.fs.rm(self.temp.fs_path)
        except Exception as exc:
            log.warning("could not remove the temporary object %s: %s", self.temp.uri, _describe(exc))

    def discard(self) -> None:
        self._abandon_file()
        self._remove_temp()


def filesystem_for(dest: Destination) -> Any:
    """The fsspec filesystem Airflow attaches for ``dest``'s scheme and connection."""
    from airflow.sdk.io import attach, has_fs

    if not has_fs(dest.scheme):
        raise HailuoConfigurationError(
            f"dest {dest.uri!r}: no filesystem is registered for {dest.scheme}://. Install "
            f"{ALLOWED_SCHEMES.get(dest.scheme, 'the provider of that storage')}.",
            parameter="dest",
            value=dest.uri,
        )
    try:
        return attach(dest.scheme, dest.conn_id).fs
    except HailuoError:
        raise
    except Exception as exc:
        raise HailuoStorageError(
            f"could not open the {dest.scheme}:// filesystem for {dest.uri} "
            f"(dest_conn_id={dest.conn_id!r}): {_describe(exc)}"
        ) from exc


def staged_write(final: Destination, *, content_type: str, block_size: int = DEFAULT_BLOCK_SIZE,
                 fs: Any = None) -> StagedWrite:
    """The staged writer for ``final``'s store."""
    if final.is_local:
        return LocalStagedWrite(final, content_type=content_type)
    return FsspecStagedWrite(final, content_type=content_type, fs=fs if fs is not None else filesystem_for(final),
                             block_size=block_size)


def write_atomically(final: Destination, data: bytes, *, content_type: str, fs: Any = None) -> None:
    """A small object (the sidecar) written through the same stage-then-move path, overwriting."""
    with staged_write(final, content_type=content_type, fs=fs) as staged:
        staged.write(data)
        staged.close()
        staged.commit(overwrite=True)
