"""Staged writes: a local directory and fsspec's in-memory filesystem (an object store without network)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.memory import MemoryFileSystem

from airflow_provider_hailuo.exceptions import HailuoStorageError
from airflow_provider_hailuo.transfers import storage
from airflow_provider_hailuo.transfers.paths import PARTIAL_MARKER, Destination, parse_destination
from airflow_provider_hailuo.transfers.storage import (
    FsspecStagedWrite,
    LocalStagedWrite,
    staged_write,
    write_atomically,
)


def local(tmp_path: Path, name: str = "out/v.mp4") -> Destination:
    return parse_destination(f"file://{tmp_path}/{name}")


def test_local_write_commit(tmp_path: Path) -> None:
    dest = local(tmp_path)
    staged = staged_write(dest, content_type="video/mp4")
    assert isinstance(staged, LocalStagedWrite)
    with staged:
        staged.write(b"abc")
        staged.restart()
        staged.write(b"hello ")
        staged.write(b"world")
        assert not Path(dest.fs_path).exists()  # nothing at the final name before the commit
        assert is_staging_name(Path(staged.temp.fs_path).name)
        assert staged.close() == 11
        staged.commit(overwrite=False)
    assert Path(dest.fs_path).read_bytes() == b"hello world"
    assert os.listdir(Path(dest.fs_path).parent) == ["v.mp4"]


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="posix_fadvise is Linux/Unix only")
def test_local_write_drops_written_back_pages_behind_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writeback starts on 64 KiB-aligned ends every 4 MiB; each advice also covers the 32 MiB
    before (dropped once written back); after the fsync one advice covers the whole file."""
    advised: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "posix_fadvise", lambda fd, offset, length, advice: advised.append((offset, length)))
    mib = 1024 * 1024
    staged = staged_write(local(tmp_path), content_type="video/mp4")
    with staged:
        staged.write(b"x" * 463)  # an odd header, so the chunk ends are not aligned
        for _ in range(48):
            staged.write(b"v" * mib)
        assert staged.close() == 48 * mib + 463
        staged.commit(overwrite=True)
    align = storage.WRITEBACK_ALIGN
    ends = [offset + length for offset, length in advised[:-1]]
    assert ends and all(end % align == 0 for end in ends)
    assert all(b - a >= storage.WRITEBACK_EVERY - align for a, b in zip([0, *ends], ends, strict=False))
    starts = [offset for offset, _ in advised[:-1]]
    assert starts == [max(0, previous - storage.DROP_BEHIND) for previous in [0, *ends[:-1]]]
    assert advised[-1] == (0, 0)  # the whole file, after fdatasync


def test_local_failure_leaves_nothing(tmp_path: Path) -> None:
    dest = local(tmp_path)
    with pytest.raises(RuntimeError), staged_write(dest, content_type="video/mp4") as staged:
        staged.write(b"partial")
        raise RuntimeError("download broke")
    assert os.listdir(Path(dest.fs_path).parent) == []


def test_local_no_clobber_keeps_existing(tmp_path: Path) -> None:
    dest = local(tmp_path)
    Path(dest.fs_path).parent.mkdir(parents=True)
    with staged_write(dest, content_type="video/mp4") as staged:
        staged.write(b"new")
        staged.close()
        Path(dest.fs_path).write_bytes(b"appeared meanwhile")
        assert staged.final_exists()
        with pytest.raises(HailuoStorageError, match="appeared while the video was downloading"):
            staged.commit(overwrite=False)
    assert Path(dest.fs_path).read_bytes() == b"appeared meanwhile"
    assert os.listdir(Path(dest.fs_path).parent) == ["v.mp4"]


def test_local_overwrite_replaces(tmp_path: Path) -> None:
    dest = local(tmp_path, "v.mp4")
    Path(dest.fs_path).write_bytes(b"old")
    with staged_write(dest, content_type="video/mp4") as staged:
        staged.write(b"new")
        staged.close()
        staged.commit(overwrite=True)
    assert Path(dest.fs_path).read_bytes() == b"new"


def test_local_write_error_is_a_storage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = local(tmp_path, "v.mp4")
    with staged_write(dest, content_type="video/mp4") as staged:
        class Broken:
            def write(self, data: bytes) -> None:
                raise OSError(28, "No space left on device")

            def close(self) -> None:
                pass

        staged._file = Broken()  # type: ignore[attr-defined]
        with pytest.raises(HailuoStorageError, match=r"could not write file://.*No space left on device"):
            staged.write(b"x")
    assert os.listdir(tmp_path) == []


def test_local_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_bytes(b"")
    dest = local(tmp_path, "blocker/v.mp4")
    with pytest.raises(HailuoStorageError, match="could not create the temporary file for"):
        staged_write(dest, content_type="video/mp4").open()


@pytest.fixture
def memfs() -> Any:
    fs = MemoryFileSystem()
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")
    yield fs
    fs.store.clear()


def mem_dest(name: str = "bucket/videos/v.mp4") -> Destination:
    return Destination("s3", name, None)


def test_fsspec_write_commit(memfs: Any) -> None:
    dest = mem_dest()
    staged = staged_write(dest, content_type="video/mp4", fs=memfs, block_size=5)
    assert isinstance(staged, FsspecStagedWrite)
    with staged:
        staged.write(b"0123456789")
        staged.restart()  # a new, empty temporary object
        staged.write(b"abcdefghij")
        staged.write(b"klm")
        assert not memfs.exists(dest.fs_path)
        assert staged.close() == 13
        staged.commit(overwrite=False)
    assert memfs.cat_file(dest.fs_path) == b"abcdefghijklm"
    assert [Path(p).name for p in memfs.find("bucket")] == ["v.mp4"]


def test_fsspec_failure_leaves_nothing(memfs: Any) -> None:
    dest = mem_dest()
    with pytest.raises(RuntimeError), staged_write(dest, content_type="video/mp4", fs=memfs) as staged:
        staged.write(b"partial")
        staged.close()  # even a finished temporary object is removed
        raise RuntimeError("verification failed")
    assert memfs.find("bucket") == []


def test_fsspec_no_clobber(memfs: Any) -> None:
    dest = mem_dest()
    memfs.pipe_file(dest.fs_path, b"theirs")
    with staged_write(dest, content_type="video/mp4", fs=memfs) as staged:
        staged.write(b"ours")
        staged.close()
        with pytest.raises(HailuoStorageError, match="overwrite=False; left it untouched"):
            staged.commit(overwrite=False)
    assert memfs.cat_file(dest.fs_path) == b"theirs"
    assert [Path(p).name for p in memfs.find("bucket")] == ["v.mp4"]


def test_fsspec_copy_failure(memfs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = mem_dest()

    def broken_copy(*args: Any, **kwargs: Any) -> None:
        raise PermissionError("AccessDenied")

    monkeypatch.setattr(memfs, "copy", broken_copy)
    with pytest.raises(HailuoStorageError, match="could not copy the finished upload to s3://bucket/videos/v.mp4"):
        with staged_write(dest, content_type="video/mp4", fs=memfs) as staged:
            staged.write(b"ours")
            staged.close()
            staged.commit(overwrite=True)
    assert memfs.find("bucket") == []


def test_write_atomically(memfs: Any, tmp_path: Path) -> None:
    write_atomically(mem_dest("bucket/v.mp4.json"), b"{}", content_type="application/json", fs=memfs)
    write_atomically(mem_dest("bucket/v.mp4.json"), b'{"a": 1}', content_type="application/json", fs=memfs)
    assert memfs.cat_file("bucket/v.mp4.json") == b'{"a": 1}'
    write_atomically(local(tmp_path, "v.mp4.json"), b"{}", content_type="application/json")
    assert (tmp_path / "v.mp4.json").read_bytes() == b"{}"
    assert os.listdir(tmp_path) == ["v.mp4.json"]


def test_content_type_reaches_s3_open() -> None:
    opened: dict[str, Any] = {}

    class RecordingFs:
        def open(self, path: str, mode: str, **kwargs: Any) -> Any:
            opened.update(kwargs, path=path, mode=mode)
            return object()

    staged = FsspecStagedWrite(mem_dest(), content_type="video/mp4", fs=RecordingFs(), block_size=6 * 2**20)
    staged.open()
    assert opened["ContentType"] == "video/mp4" and opened["block_size"] == 6 * 2**20 and opened["mode"] == "wb"
    assert is_staging_name(Path(opened["path"]).name)


def is_staging_name(name: str) -> bool:
    """What staging_name() promises: hidden, and marked as partial."""
    return name.startswith(".") and PARTIAL_MARKER in name
