"""Destination parsing and staging names: plain strings in, plain values out."""

from __future__ import annotations

import pytest

from airflow_provider_hailuo.exceptions import HailuoError, HailuoInvalidRequestError
from airflow_provider_hailuo.transfers.paths import (
    MAX_NAME_BYTES,
    PARTIAL_MARKER,
    Destination,
    parse_destination,
    staging_name,
)


@pytest.mark.parametrize(
    ("dest", "scheme", "fs_path", "uri"),
    [
        ("s3://media/hailuo/2026-01-01/0.mp4", "s3", "media/hailuo/2026-01-01/0.mp4", "s3://media/hailuo/2026-01-01/0.mp4"),
        ("S3://media/v.mp4", "s3", "media/v.mp4", "s3://media/v.mp4"),
        ("gs://bucket/v.mp4", "gs", "bucket/v.mp4", "gs://bucket/v.mp4"),
        ("gcs://bucket/a/v.mp4", "gcs", "bucket/a/v.mp4", "gcs://bucket/a/v.mp4"),
        ("abfs://container/dir/v.mp4", "abfs", "container/dir/v.mp4", "abfs://container/dir/v.mp4"),
        ("abfss://container/v.mp4", "abfss", "container/v.mp4", "abfss://container/v.mp4"),
        ("az://container/v.mp4", "az", "container/v.mp4", "az://container/v.mp4"),
        ("file:///tmp/videos/v.mp4", "file", "/tmp/videos/v.mp4", "file:///tmp/videos/v.mp4"),
        ("file://localhost/tmp/v.mp4", "file", "/tmp/v.mp4", "file:///tmp/v.mp4"),
        ("  s3://media/v.mp4  ", "s3", "media/v.mp4", "s3://media/v.mp4"),
    ],
)
def test_allowed_destinations(dest: str, scheme: str, fs_path: str, uri: str) -> None:
    parsed = parse_destination(dest)
    assert (parsed.scheme, parsed.fs_path, parsed.uri) == (scheme, fs_path, uri)


@pytest.mark.parametrize(
    ("dest", "why"),
    [
        ("http://example.com/v.mp4", "scheme 'http' is not supported"),
        ("ftp://host/v.mp4", "scheme 'ftp' is not supported"),
        ("/tmp/v.mp4", "no scheme"),
        ("videos/v.mp4", "no scheme"),
        ("", "empty"),
        ("s3://media/", "not a file"),
        ("s3://media", "not a file"),
        ("s3:///key.mp4", "no bucket"),
        ("s3://media/dir/", "not a file"),
        ("s3://media/a/../b.mp4", "'..'"),
        ("s3://media/a//b.mp4", "empty path segment"),
        ("s3://media/v.mp4?versionId=1", "query or fragment"),
        ("s3://media/v.mp4#x", "query or fragment"),
        ("file://server/share/v.mp4", "has no host"),
        ("s3://media/{{ ds }}.mp4", "Jinja"),
    ],
)
def test_refused_destinations_name_dest_value_and_allowed(dest: str, why: str) -> None:
    with pytest.raises(HailuoInvalidRequestError) as caught:
        parse_destination(dest)
    message = str(caught.value)
    assert why in message
    assert "dest" in message and repr(dest) in message and "Allowed:" in message
    assert caught.value.parameter == "dest"
    assert isinstance(caught.value, HailuoError)


def test_not_a_string() -> None:
    with pytest.raises(HailuoInvalidRequestError, match="URI string or an ObjectStoragePath, got int"):
        parse_destination(42)


def test_connection_in_uri_and_dest_conn_id_wins() -> None:
    assert parse_destination("s3://aws_media@media/v.mp4").conn_id == "aws_media"
    assert parse_destination("s3://aws_media@media/v.mp4", "aws_other").conn_id == "aws_other"
    assert parse_destination("s3://media/v.mp4", "aws_other").uri == "s3://media/v.mp4"  # no conn id in URIs


def test_object_storage_path_like() -> None:
    class FakePath:  # what parse_destination reads from an ObjectStoragePath
        protocol = "s3"
        path = "media/a/v.mp4"
        conn_id = "aws_media"

        def __str__(self) -> str:
            return "s3://aws_media@media/a/v.mp4"

    parsed = parse_destination(FakePath())
    assert (parsed.uri, parsed.conn_id) == ("s3://media/a/v.mp4", "aws_media")
    assert parse_destination(FakePath(), "aws_x").conn_id == "aws_x"

    class LocalPath:
        protocol = "file"
        path = "/data/v.mp4"
        conn_id = None

    assert parse_destination(LocalPath()).uri == "file:///data/v.mp4"


def test_real_object_storage_path() -> None:
    from airflow.sdk import ObjectStoragePath

    assert parse_destination(ObjectStoragePath("file:///data/x/v.mp4")).fs_path == "/data/x/v.mp4"


def test_destination_parts() -> None:
    dest = parse_destination("s3://media/hailuo/day/v.mp4", "aws_media")
    assert (dest.bucket, dest.key, dest.name, dest.namespace) == ("media", "hailuo/day/v.mp4", "v.mp4", "s3://media")
    assert dest.sidecar() == Destination("s3", "media/hailuo/day/v.mp4.json", "aws_media")
    sibling = dest.sibling(".v.mp4.partial-abc")
    assert sibling.fs_path == "media/hailuo/day/.v.mp4.partial-abc" and sibling.conn_id == "aws_media"
    local = parse_destination("file:///srv/v.mp4")
    assert (local.is_local, local.namespace, local.key, local.bucket) == (True, "file", "srv/v.mp4", "")
    assert local.sibling("x").fs_path == "/srv/x"
    with pytest.raises(ValueError):
        local.sibling("a/b")


def test_staging_name_is_hidden_unique_and_recognisable() -> None:
    first, second = staging_name("clip.mp4"), staging_name("clip.mp4")
    assert first != second
    assert first.startswith(".clip.mp4.partial-")
    assert not first.endswith(".mp4")  # a listing by suffix never sees it as a video
    assert staging_name("clip.mp4", "tok") == ".clip.mp4.partial-tok"
    assert is_staging_name(first) and not is_staging_name("clip.mp4")


def test_staging_name_stays_within_name_limit() -> None:
    long_name = "v" * 250 + ".mp4"
    name = staging_name(long_name, "0123456789abcdef")
    assert len(name.encode()) <= MAX_NAME_BYTES
    assert is_staging_name(name)


def is_staging_name(name: str) -> bool:
    """What staging_name() promises: hidden, and marked as partial."""
    return name.startswith(".") and PARTIAL_MARKER in name
