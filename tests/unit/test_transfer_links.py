"""The transfer's "Stored video" extra link: persisted at run time, formatted per store."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_hailuo.get_provider_info import get_provider_info
from airflow_provider_hailuo.transfers import links
from airflow_provider_hailuo.transfers.links import StoredVideoLink, console_url
from airflow_provider_hailuo.transfers.object_storage import HailuoToObjectStorageOperator
from airflow_provider_hailuo.transfers.paths import parse_destination


class FakeTI:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


@pytest.mark.parametrize(("uri", "expected"), [
    ("s3://media/daily/01 a.mp4", "https://console.aws.amazon.com/s3/object/media?prefix=daily/01%20a.mp4"),
    ("gs://media/daily/x.mp4", "https://console.cloud.google.com/storage/browser/_details/media/daily/x.mp4"),
    ("file:///tmp/x.mp4", ""),
])
def test_link_per_store(uri: str, expected: str, mocker: Any) -> None:
    ti = FakeTI()
    op = HailuoToObjectStorageOperator(task_id="store", hailuo_conn_id="c", video_task_id="1", dest=uri)
    StoredVideoLink.persist({"ti": ti}, op, parse_destination(uri))
    if not expected:
        assert ti.pushed == {}  # nothing to open for a worker's local file
        return
    mocker.patch.object(links.XCom, "get_value", side_effect=lambda key, ti_key: ti.pushed.get(key))
    assert StoredVideoLink().get_link(op, ti_key=object()) == expected


def test_azure_blob_url_needs_the_account() -> None:
    assert console_url("abfs", "videos", "d/x.mp4", "acct") == "https://acct.blob.core.windows.net/videos/d/x.mp4"
    assert console_url("abfs", "videos", "d/x.mp4", None) == ""


def test_link_is_declared_on_the_operator_and_registered() -> None:
    assert [link.name for link in HailuoToObjectStorageOperator.operator_extra_links] == ["Stored video"]
    assert get_provider_info()["extra-links"] == ["airflow_provider_hailuo.transfers.links.StoredVideoLink"]
