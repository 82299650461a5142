"""Poster frames (``<dest>.jpg``) and the audio probe, done on the stored, complete MP4.

A poster needs a video decoder; PyAV (ffmpeg's libraries in a ~30 MB wheel) is the field's
library for it, so it is optional: ``poster="auto"`` (the default) writes one when PyAV is
importable and logs that it skipped otherwise, ``poster=True`` requires it (checked before
anything is downloaded), ``poster=False`` never writes one. Workers that only move videos need
not carry ffmpeg; a content team installs ``airflow-provider-hailuo[poster]`` and gets pictures.

The poster follows the MP4 and is, like it, complete or absent: it is decoded from the stored
object after the MP4's move, staged, then moved into place; when it cannot be made, no poster is
left at ``<dest>.jpg`` (a poster of an older video there is removed), so a poster never shows
another video than the one beside it, and never stands without one.
"""

from __future__ import annotations

import importlib.util
import io
import logging
from typing import Any

from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError, HailuoStorageError
from airflow_provider_hailuo.transfers.mp4_tracks import has_audio
from airflow_provider_hailuo.transfers.paths import Destination

POSTER_SUFFIX = ".jpg"
POSTER_CONTENT_TYPE = "image/jpeg"
POSTER_CHOICES = (True, False, "auto")
#: Longest side of the poster: enough for a review page card, small to store.
POSTER_MAX_SIDE = 1280


def pyav_available() -> bool:
    return importlib.util.find_spec("av") is not None


def check_poster_option(poster: Any) -> bool:
    """Whether a poster is to be made; ``poster=True`` without PyAV fails here, before any download."""
    if isinstance(poster, str) and poster.strip().lower() == "auto":
        return pyav_available()
    if poster not in (True, False) or not isinstance(poster, bool):
        raise HailuoInvalidRequestError(
            f"poster must be True, False or 'auto', got {poster!r}.", parameter="poster", value=repr(poster)
        )
    if poster and not pyav_available():
        raise HailuoInvalidRequestError(
            "poster=True needs PyAV to decode a frame, and it is not installed: pip install "
            "'airflow-provider-hailuo[poster]', or use poster='auto' (skips the poster without it).",
            parameter="poster",
            value=True,
        )
    return poster


def poster_destination(video: Destination) -> Destination:
    """``<dest>.jpg``: the poster beside the video."""
    return Destination(video.scheme, video.fs_path + POSTER_SUFFIX, video.conn_id)


def open_stored(where: Destination, fs: Any) -> Any:
    """The stored object, opened for (seekable) reading."""
    if where.is_local:
        return open(where.fs_path, "rb")  # noqa: SIM115 - returned to a with-block
    return fs.open(where.fs_path, "rb")


def probe_has_audio(video: Destination, fs: Any) -> bool:
    """Whether the stored MP4 has an audio track (a read of its ``moov`` box)."""
    try:
        with open_stored(video, fs) as handle:
            return has_audio(handle)
    except Exception as exc:
        raise HailuoStorageError(f"{video.uri}: could not read the stored MP4's tracks: {exc}") from exc


def first_frame_jpeg(handle: Any, max_side: int = POSTER_MAX_SIDE) -> bytes:
    """The first decodable video frame of an MP4 as JPEG bytes."""
    import av

    with av.open(handle, mode="r") as container:
        if not container.streams.video:
            raise ValueError("the file has no video stream")
        for frame in container.decode(video=0):
            image = frame.to_image()
            break
        else:
            raise ValueError("no video frame could be decoded")
    image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def write_poster(video: Destination, fs: Any, *, required: bool, log: logging.Logger | Any) -> str | None:
    """Decode, stage and move the poster of the stored ``video``; its URI, or None when there is none.

    ``required`` (``poster=True``) turns a failure into an error; otherwise it is logged. Either
    way no poster is left at ``<dest>.jpg`` after a failure.
    """
    from airflow_provider_hailuo.transfers.storage import write_atomically

    target = poster_destination(video)
    try:
        with open_stored(video, fs) as handle:
            jpeg = first_frame_jpeg(handle)
        write_atomically(target, jpeg, content_type=POSTER_CONTENT_TYPE, fs=fs)
    except Exception as exc:
        remove_stale_poster(video, fs, log)
        message = f"{video.uri}: no poster frame written ({type(exc).__name__}: {exc})"
        if required:
            raise HailuoStorageError(message + "; the MP4 itself is stored and verified") from exc
        log.warning("%s", message)
        return None
    log.info("Poster frame of %s stored at %s (%s bytes)", video.uri, target.uri, f"{len(jpeg):,}")
    return target.uri


def remove_stale_poster(video: Destination, fs: Any, log: logging.Logger | Any) -> None:
    """Remove a ``<dest>.jpg`` that would otherwise show an older video (best effort)."""
    import os

    target = poster_destination(video)
    try:
        if target.is_local:
            if os.path.exists(target.fs_path):
                os.unlink(target.fs_path)
        elif fs is not None and fs.exists(target.fs_path):
            fs.rm(target.fs_path)
    except Exception as exc:
        log.warning("could not remove the stale poster %s: %s", target.uri, exc)
