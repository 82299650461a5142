"""``HailuoToObjectStorageOperator``: put a finished Hailuo video into object storage, whole or not at all.

The MP4 is streamed from the vendor (a signed URL asked for at run time) to the destination
through Airflow's ObjectStoragePath filesystems (``s3://``, ``gs://``, ``abfs://``, ``file://``),
chunk by chunk, under a temporary sibling name; only a complete, verified video (size, ``ftyp``
box, sha256) is moved to ``dest``. A JSON sidecar ``<dest>.json`` describes it, and the stored
URI is announced as an asset event on the ``hailuo-videos`` alias.

Light imports only at module level: this module is imported when DAG files are parsed.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import AssetAlias, BaseOperator

from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError, HailuoStorageError
from airflow_provider_hailuo.transfers.links import StoredVideoLink

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_provider_hailuo.hooks.base import HailuoHook
    from airflow_provider_hailuo.transfers.paths import Destination

#: The asset alias every stored video is announced on; schedule downstream DAGs on it.
HAILUO_VIDEOS_ALIAS = "hailuo-videos"
CONTENT_TYPE = "video/mp4"
SIDECAR_CONTENT_TYPE = "application/json"


class HailuoToObjectStorageOperator(BaseOperator):
    """Stream a Hailuo video into object storage (or a local file) and verify it.

    :param hailuo_conn_id: the Hailuo connection the video was generated with.
    :param video: the video result dict of ``HailuoGenerateVideoOperator`` / ``HailuoVideoSensor``
        (e.g. ``generate.output``). Templated.
    :param video_task_id: instead of ``video``: the vendor task id. Templated.
    :param file_id: with ``video_task_id``, the file id (MiniMax, DMXAPI); looked up from the
        task's status when omitted. Templated.
    :param dest: where the MP4 goes: ``s3://bucket/key.mp4``, ``gs://``, ``abfs://``, ``file:///abs/path.mp4``
        or an ``ObjectStoragePath``. Templated, e.g. ``s3://media/hailuo/{{ ds }}/{{ ti.map_index }}.mp4``.
    :param dest_conn_id: the storage connection (e.g. an ``aws`` connection); None uses the
        filesystem's default credentials (or the connection of an ``ObjectStoragePath``).
    :param overwrite: replace an existing object at ``dest``. When False (default) an existing
        object fails the task before anything is downloaded, and is left untouched.
    :param write_metadata: also write the JSON sidecar ``<dest>.json``.
    :param poster: a JPEG of the first frame at ``<dest>.jpg``, written after the MP4 is in place:
        ``"auto"`` (default) when PyAV is installed, ``True`` always (fails before downloading
        without PyAV), ``False`` never. See ``transfers/poster.py``.
    :return: ``{"uri", "size", "sha256", "content_type": "video/mp4", "video_task_id", "poster_uri",
        "has_audio"}``.

    The operator adds ``AssetAlias("hailuo-videos")`` to its outlets and, once the video is in
    place, emits an event for the concrete URI on it (extra: vendor, video_task_id, size, sha256).
    A mapped operator (``.partial(...).expand(...)``) is built only at run time, so pass
    ``outlets=[AssetAlias(HAILUO_VIDEOS_ALIAS)]`` to ``partial()`` for the DAG to declare the alias.
    """

    template_fields: Sequence[str] = ("dest", "video", "video_task_id", "file_id", "hailuo_conn_id", "dest_conn_id")
    ui_color = "#f0e4ff"
    #: "Stored video": the object in the S3 / GCS console (none for file://), see ``links.py``.
    operator_extra_links = (StoredVideoLink(),)

    #: Tuning knobs (class attributes, so the constructor keeps the public contract's parameters).
    chunk_size: int = 1024 * 1024
    upload_block_size: int = 8 * 1024 * 1024
    max_download_attempts: int = 6
    max_url_refreshes: int = 3
    #: A Hailuo clip is tens of MB; anything past this is a hostile or broken answer, refused before
    #: it fills the destination (checked against Content-Length and while streaming).
    max_video_bytes: int = 2 * 1024**3
    retry_backoff: float = 0.5

    def __init__(
        self,
        *,
        hailuo_conn_id: str,
        dest: str | ObjectStoragePath,
        video: dict[str, Any] | Any | None = None,
        video_task_id: str | None = None,
        file_id: str | None = None,
        dest_conn_id: str | None = None,
        overwrite: bool = False,
        write_metadata: bool = True,
        poster: bool | str = "auto",
        **kwargs: Any,
    ) -> None:
        outlets = kwargs.pop("outlets", None)
        outlets = list(outlets) if isinstance(outlets, (list, tuple)) else ([outlets] if outlets else [])
        if not any(isinstance(item, AssetAlias) and item.name == HAILUO_VIDEOS_ALIAS for item in outlets):
            outlets.append(AssetAlias(HAILUO_VIDEOS_ALIAS))
        super().__init__(outlets=outlets, **kwargs)
        if video is None and video_task_id is None:
            raise HailuoInvalidRequestError(
                f"{self.task_id}: give video (a video result dict, e.g. generate.output) or video_task_id.",
                parameter="video",
                value=None,
            )
        if not hailuo_conn_id or not isinstance(hailuo_conn_id, str):
            raise HailuoInvalidRequestError(
                f"{self.task_id}: hailuo_conn_id must name a Hailuo connection, got {hailuo_conn_id!r}.",
                parameter="hailuo_conn_id",
                value=hailuo_conn_id,
            )
        self.hailuo_conn_id = hailuo_conn_id
        self.video = video
        self.video_task_id = video_task_id
        self.file_id = file_id
        self.dest = dest
        self.dest_conn_id = dest_conn_id
        self.overwrite = overwrite
        self.write_metadata = write_metadata
        self.poster = poster
        self._lineage: tuple[str, str, Destination] | None = None

    # -- inputs ------------------------------------------------------------------------------
    def _video_info(self) -> dict[str, Any]:
        """The video result as a dict (``video``, or one built from ``video_task_id``), checked."""
        video = self.video
        if isinstance(video, str) and video.strip():
            video = _parse_mapping_text(video)
        given_task_id = _clean_id(self.video_task_id, "video_task_id")
        if video is None:
            if given_task_id is None:
                raise HailuoInvalidRequestError(
                    "give video (a video result dict) or video_task_id; both are empty.",
                    parameter="video_task_id",
                    value=self.video_task_id,
                )
            return {"video_task_id": given_task_id, "file_id": _clean_id(self.file_id, "file_id")}
        if not isinstance(video, Mapping):
            raise HailuoInvalidRequestError(
                f"video must be a video result dict (the generate operator's output) with a video_task_id, "
                f"got {type(video).__name__}.",
                parameter="video",
                value=video if isinstance(video, (str, int, float)) else type(video).__name__,
            )
        info = dict(video)
        task_id = _clean_id(info.get("video_task_id"), "video")
        if task_id is None:
            raise HailuoInvalidRequestError(
                f"video has no video_task_id (keys: {', '.join(sorted(map(str, info))) or 'none'}); "
                "pass the generate operator's output or give video_task_id.",
                parameter="video",
                value=sorted(map(str, info)),
            )
        if given_task_id is not None and given_task_id != task_id:
            raise HailuoInvalidRequestError(
                f"video is for video_task_id {task_id!r} but video_task_id={given_task_id!r} was also given; "
                "give one of them.",
                parameter="video_task_id",
                value=given_task_id,
            )
        status = info.get("status")
        if isinstance(status, str) and status.strip() and status.strip().lower() != "succeeded":
            raise HailuoInvalidRequestError(
                f"video {task_id} has status {status!r}; only a succeeded video can be transferred.",
                parameter="video",
                value=status,
            )
        info["video_task_id"] = task_id
        info["file_id"] = _clean_id(self.file_id, "file_id") or _clean_id(info.get("file_id"), "video")
        return info

    def _resolve_file_id(self, hook: HailuoHook, info: dict[str, Any]) -> None:
        """Vendors that find the video by file_id: ask the task's status when it was not given."""
        if not hook.dialect.video_by_file_id or info.get("file_id"):
            return
        from airflow_provider_hailuo.core.models import TaskState

        status = hook.get_status(info["video_task_id"])
        if status.state is not TaskState.SUCCEEDED or not status.file_id:
            raise HailuoInvalidRequestError(
                f"{hook.vendor} task {info['video_task_id']} is {status.raw_status!r}, not finished with a video; "
                "transfer it once it has succeeded (e.g. after HailuoVideoSensor).",
                parameter="video_task_id",
                value=info["video_task_id"],
            )
        info["file_id"] = status.file_id
        info.setdefault("video_width", status.video_width)
        info.setdefault("video_height", status.video_height)

    # -- run ---------------------------------------------------------------------------------
    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_hailuo.hooks import get_hook
        from airflow_provider_hailuo.transfers.download import VideoFetcher
        from airflow_provider_hailuo.transfers.paths import parse_destination
        from airflow_provider_hailuo.transfers.poster import (
            check_poster_option,
            probe_has_audio,
            remove_stale_poster,
            write_poster,
        )
        from airflow_provider_hailuo.transfers.sidecar import build_sidecar, sidecar_bytes
        from airflow_provider_hailuo.transfers.storage import filesystem_for, staged_write, write_atomically

        # 1. inputs, before any request
        dest = parse_destination(self.dest, self.dest_conn_id)
        info = self._video_info()
        make_poster = check_poster_option(self.poster)
        task_id = info["video_task_id"]
        # A v2 (MiniMax-H3) result dict says so: its video is found by querying the v2 task again.
        hook = get_hook(self.hailuo_conn_id).for_api(str(info.get("api") or "v1"), info.get("model"))
        given_vendor = info.get("vendor")
        if given_vendor not in (None, "") and str(given_vendor).strip().lower() != hook.vendor:
            raise HailuoInvalidRequestError(
                f"video {task_id} was generated through {given_vendor!r}, but connection {self.hailuo_conn_id!r} "
                f"is a {hook.vendor!r} connection; use the connection the video was generated with.",
                parameter="hailuo_conn_id",
                value=self.hailuo_conn_id,
            )
        fs = None if dest.is_local else filesystem_for(dest)

        # 2. the destination: refuse to replace before downloading anything
        staged = staged_write(dest, content_type=CONTENT_TYPE, block_size=self.upload_block_size, fs=fs)
        if not self.overwrite and staged.final_exists():
            raise HailuoStorageError(
                f"{dest.uri} already exists and overwrite=False; nothing was downloaded and the object was not "
                f"touched (vendor {hook.vendor}, video_task_id {task_id}). Set overwrite=True to replace it."
            )

        # 3. download into the staged object, verify, move into place
        self._resolve_file_id(hook, info)
        self.log.info("Transferring %s video_task_id %s to %s", hook.vendor, task_id, dest.uri)
        fetcher = VideoFetcher(
            hook,
            video_task_id=task_id,
            file_id=info.get("file_id"),
            chunk_size=self.chunk_size,
            max_attempts=self.max_download_attempts,
            max_url_refreshes=self.max_url_refreshes,
            max_bytes=self.max_video_bytes,
            retry_backoff=self.retry_backoff,
            logger=self.log,
        )
        sidecar_written = False
        with staged:
            result = fetcher.fetch(staged)
            stored = staged.close()
            if stored != result.size:
                raise HailuoStorageError(
                    f"{dest.uri}: the staged object holds {stored:,} bytes but {result.size:,} were written "
                    f"(vendor {hook.vendor}, video_task_id {task_id}); not moved into place"
                )
            if not self.overwrite and staged.final_exists():  # checked again at the move itself
                raise HailuoStorageError(
                    f"{dest.uri} appeared while the video was downloading and overwrite=False; left it untouched "
                    f"(vendor {hook.vendor}, video_task_id {task_id})"
                )
            if self.write_metadata:
                # before the video: whenever the video exists, its sidecar does too
                sidecar = build_sidecar(info, vendor=hook.vendor, video_task_id=task_id, uri=dest.uri,
                                        size=result.size, sha256=result.sha256)
                write_atomically(dest.sidecar(), sidecar_bytes(sidecar), content_type=SIDECAR_CONTENT_TYPE, fs=fs)
                sidecar_written = True
            try:
                staged.commit(overwrite=self.overwrite)
            except Exception:
                if sidecar_written:
                    self._remove_quietly(dest.sidecar(), fs)
                raise
        self.log.info(
            "Stored %s video_task_id %s at %s: %s bytes, sha256 %s (from %s, %d attempt(s), %d URL refresh(es))",
            hook.vendor, task_id, dest.uri, f"{result.size:,}", result.sha256, result.source, result.attempts,
            result.url_refreshes,
        )
        # 4. what can be seen: the audio probe and the poster, from the stored, complete MP4
        has_audio = probe_has_audio(dest, fs)
        poster_uri = None
        if make_poster:
            poster_uri = write_poster(dest, fs, required=self.poster is True, log=self.log)
        else:
            if self.poster == "auto":
                self.log.info("No poster frame for %s: PyAV is not installed (pip install "
                              "'airflow-provider-hailuo[poster]')", dest.uri)
            if self.overwrite:
                remove_stale_poster(dest, fs, self.log)
        StoredVideoLink.persist(context, self, dest)
        self._emit_asset_event(context, dest, hook.vendor, task_id, result.size, result.sha256)
        self._lineage = (hook.vendor, task_id, dest)
        return {
            "uri": dest.uri,
            "size": result.size,
            "sha256": result.sha256,
            "content_type": CONTENT_TYPE,
            "video_task_id": task_id,
            "poster_uri": poster_uri,
            "has_audio": has_audio,
        }

    def _remove_quietly(self, where: Destination, fs: Any) -> None:
        import os

        try:
            if where.is_local:
                os.unlink(where.fs_path)
            elif fs is not None:
                fs.rm(where.fs_path)
        except Exception as exc:
            self.log.warning("could not remove %s after the failed move: %s", where.uri, exc)

    def _emit_asset_event(self, context: Context, dest: Destination, vendor: str, task_id: str, size: int,
                          sha256: str) -> None:
        """Announce the stored video on the alias; a failure here must not fail a finished transfer."""
        outlet_events = context.get("outlet_events") if hasattr(context, "get") else None
        if outlet_events is None:
            return
        try:
            from airflow.sdk import Asset

            outlet_events[AssetAlias(HAILUO_VIDEOS_ALIAS)].add(
                Asset(uri=dest.uri),
                extra={"vendor": vendor, "video_task_id": task_id, "size": size, "sha256": sha256},
            )
        except Exception as exc:
            self.log.warning("could not emit the asset event for %s on alias %s: %s", dest.uri,
                             HAILUO_VIDEOS_ALIAS, exc)

    # -- OpenLineage (only where the provider is installed) ----------------------------------
    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Input: the vendor task (``hailuo://<vendor>``); output: the stored object."""
        if self._lineage is None:
            return None
        try:
            from airflow.providers.common.compat.openlineage.facet import Dataset
            from airflow.providers.openlineage.extractors import OperatorLineage
        except ImportError:
            return None
        vendor, task_id, dest = self._lineage
        return OperatorLineage(
            inputs=[Dataset(namespace=f"hailuo://{vendor}", name=task_id)],
            outputs=[Dataset(namespace=dest.namespace, name=dest.key if not dest.is_local else dest.fs_path)],
        )


def _clean_id(value: object, parameter: str) -> str | None:
    """Ids come as strings or numbers; empty means absent."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (str, int)):
        text = str(value).strip()
        return text or None
    raise HailuoInvalidRequestError(
        f"{parameter} must hold a string id, got {type(value).__name__}.", parameter=parameter, value=repr(value)
    )


def _parse_mapping_text(text: str) -> Any:
    """A video dict that arrived as text (a Jinja-rendered XCom): JSON, or a Python dict literal."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        raise HailuoInvalidRequestError(
            "video is a string that is not a video result dict (neither JSON nor a dict literal); pass "
            "generate.output, or render_template_as_native_obj=True on the DAG.",
            parameter="video",
            value=text[:80],
        ) from None
