"""Reading object-storage image URIs (``s3://b/k.png``) for ``core.images``, through Airflow."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_hailuo.core.images import ReadObject


def object_storage_reader(conn_id: str | None) -> ReadObject:
    """``read_object(uri, max_bytes)`` through Airflow's ``ObjectStoragePath``.

    Reads at most ``max_bytes + 1`` bytes, so an oversized object is detected without being read whole.
    """

    def read_object(uri: str, max_bytes: int) -> bytes:
        from airflow.sdk import ObjectStoragePath

        path = ObjectStoragePath(uri, conn_id=conn_id) if conn_id else ObjectStoragePath(uri)
        with path.open("rb") as handle:
            chunks = []
            left = max_bytes + 1
            while left > 0:
                chunk = handle.read(min(left, 1024 * 1024))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)

    return read_object
