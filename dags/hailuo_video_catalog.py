"""Runs whenever a Hailuo video is stored: checks each new video and adds it to a catalog.

Scheduled on the ``hailuo-videos`` asset alias, on which every ``HailuoToObjectStorageOperator``
announces the URI it wrote (with ``vendor``, ``video_task_id``, ``size`` and ``sha256`` in the
event's extra). For each new video it re-reads the object, checks size and sha256 against the
event, and writes ``<media base>/catalog/<video_task_id>.json``: the place to hang publishing,
thumbnails or review on.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

import pendulum
from airflow.sdk import AssetAlias, dag, get_current_context, task
from hailuo_common import DEFAULT_ARGS, join_uri, media_base, storage_path, write_json

from airflow_provider_hailuo.transfers.object_storage import HAILUO_VIDEOS_ALIAS


def _readable_uri(uri: str, base: str) -> str:
    """The asset URI carries no connection; borrow the media base's (``s3://conn@bucket``) for its bucket."""
    asset, media = urlsplit(uri), urlsplit(base)
    conn, _, bucket = media.netloc.rpartition("@")
    if conn and asset.scheme == media.scheme and asset.netloc == bucket:
        return uri.replace(f"{asset.scheme}://{bucket}", f"{asset.scheme}://{conn}@{bucket}", 1)
    return uri


@dag(
    dag_id="hailuo_video_catalog",
    schedule=[AssetAlias(HAILUO_VIDEOS_ALIAS)],
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["hailuo", "example", "asset-scheduled"],
    doc_md=__doc__,
)
def hailuo_video_catalog() -> None:
    @task
    def catalog_new_videos() -> list[dict[str, Any]]:
        context = get_current_context()
        events = context.get("triggering_asset_events") or {}
        base = media_base()
        entries = []
        for event in events.get(AssetAlias(HAILUO_VIDEOS_ALIAS), []):
            extra = dict(event.extra or {})
            uri = event.asset.uri
            digest, size = hashlib.sha256(), 0
            with storage_path(_readable_uri(uri, base)).open("rb") as handle:
                while chunk := handle.read(1024 * 1024):
                    digest.update(chunk)
                    size += len(chunk)
            if extra.get("sha256") and digest.hexdigest() != extra["sha256"]:
                raise ValueError(f"{uri}: sha256 {digest.hexdigest()} differs from the event's {extra['sha256']}")
            if extra.get("size") is not None and size != extra["size"]:
                raise ValueError(f"{uri}: {size} bytes, the event said {extra['size']}")
            entry = {
                "uri": uri,
                "vendor": extra.get("vendor"),
                "video_task_id": extra.get("video_task_id"),
                "size": size,
                "sha256": digest.hexdigest(),
                "source": {"dag_id": event.source_dag_id, "run_id": event.source_run_id,
                           "task_id": event.source_task_id, "map_index": event.source_map_index},
                "stored_at": event.timestamp.isoformat(),
            }
            name = str(extra.get("video_task_id") or hashlib.sha256(uri.encode()).hexdigest()[:16])
            write_json(join_uri(base, "catalog", f"{name}.json"), entry)
            entries.append(entry)
        print(f"Catalogued {len(entries)} video(s)")
        return entries

    catalog_new_videos()


hailuo_video_catalog()
