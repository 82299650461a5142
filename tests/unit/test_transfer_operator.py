"""The operator's surface and its input checks, which run before any request (no network, no DB)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from airflow_provider_hailuo.exceptions import HailuoError, HailuoInvalidRequestError
from airflow_provider_hailuo.transfers.object_storage import HAILUO_VIDEOS_ALIAS, HailuoToObjectStorageOperator
from tests.conftest import conn_env

#: Nothing listens there: a request would fail loudly instead of passing by accident.
NOWHERE = "http://127.0.0.1:9/minimax"
VIDEO = {"vendor": "minimax", "model": "MiniMax-Hailuo-2.3", "video_task_id": "106916112212032",
         "status": "succeeded", "file_id": "205258526306433"}


@pytest.fixture
def minimax_conn(monkeypatch: pytest.MonkeyPatch) -> str:
    name, value = conn_env("hailuo_unit", "hailuo_minimax", NOWHERE)
    monkeypatch.setenv(name, value)
    return "hailuo_unit"


@pytest.fixture
def no_requests(mocker: Any) -> Any:
    """Fail the test if anything reaches the vendor or the storage."""
    return [
        mocker.patch("airflow_provider_hailuo.hooks.base.HailuoHook.get_download_location",
                     side_effect=AssertionError("a vendor request was made")),
        mocker.patch("airflow_provider_hailuo.hooks.base.HailuoHook.get_status",
                     side_effect=AssertionError("a vendor request was made")),
        mocker.patch("airflow_provider_hailuo.transfers.storage.filesystem_for",
                     side_effect=AssertionError("the storage was reached")),
    ]


def operator(**kwargs: Any) -> HailuoToObjectStorageOperator:
    values: dict[str, Any] = {"task_id": "store", "hailuo_conn_id": "hailuo_unit", "video": VIDEO,
                              "dest": "s3://media/v.mp4"}
    values.update(kwargs)
    return HailuoToObjectStorageOperator(**values)


def test_contract_surface() -> None:
    op = operator(dest_conn_id="aws_media")
    assert tuple(op.template_fields) == ("dest", "video", "video_task_id", "file_id", "hailuo_conn_id",
                                         "dest_conn_id")
    assert (op.overwrite, op.write_metadata, op.dest_conn_id, op.file_id) == (False, True, "aws_media", None)
    aliases = [outlet for outlet in op.outlets if getattr(outlet, "name", None) == HAILUO_VIDEOS_ALIAS]
    assert len(aliases) == 1


def test_user_outlets_are_kept() -> None:
    from airflow.sdk import Asset, AssetAlias

    mine = Asset("s3://media/catalog.json")
    op = operator(outlets=[mine, AssetAlias(HAILUO_VIDEOS_ALIAS)])
    assert op.outlets[0] == mine and len(op.outlets) == 2


def test_video_or_task_id_required() -> None:
    with pytest.raises(HailuoInvalidRequestError, match="give video .* or video_task_id"):
        HailuoToObjectStorageOperator(task_id="store", hailuo_conn_id="c", dest="s3://m/v.mp4")


def test_module_import_is_light() -> None:
    code = (
        "import sys\n"
        "import airflow_provider_hailuo.transfers.object_storage\n"
        "heavy = [m for m in ('requests', 'aiohttp', 'boto3', 's3fs', 'botocore', "
        "'airflow_provider_hailuo.hooks.base', 'airflow_provider_hailuo.transfers.download') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert "HEAVY=\n" in out.stdout + "\n" and out.stdout.strip().endswith("HEAVY=")


@pytest.mark.parametrize(
    ("kwargs", "parameter", "fragment"),
    [
        ({"dest": "http://cdn/v.mp4"}, "dest", "scheme 'http' is not supported"),
        ({"dest": "/tmp/v.mp4"}, "dest", "no scheme"),
        ({"dest": "s3://media/"}, "dest", "not a file"),
        ({"video": ["not", "a", "dict"]}, "video", "video result dict"),
        ({"video": {"vendor": "minimax"}}, "video", "no video_task_id"),
        ({"video": {**VIDEO, "status": "failed"}}, "video", "only a succeeded video"),
        ({"video": "not json"}, "video", "not a video result dict"),
        ({"video": {**VIDEO, "vendor": "modelverse"}}, "hailuo_conn_id", "generated through 'modelverse'"),
        ({"video_task_id": "other"}, "video_task_id", "give one of them"),
        ({"video": None, "video_task_id": ""}, "video_task_id", "both are empty"),
        ({"video": {**VIDEO, "video_task_id": {"nested": 1}}}, "video", "string id"),
    ],
)
def test_bad_input_fails_before_any_request(minimax_conn: str, no_requests: Any, kwargs: dict[str, Any],
                                            parameter: str, fragment: str) -> None:
    with pytest.raises(HailuoInvalidRequestError) as caught:
        operator(**kwargs).execute({})
    assert fragment in str(caught.value)
    assert caught.value.parameter == parameter
    assert isinstance(caught.value, HailuoError)
    for mock in no_requests:
        mock.assert_not_called()


def test_unknown_connection(no_requests: Any) -> None:
    with pytest.raises(HailuoInvalidRequestError, match="'hailuo_missing' is not defined"):
        operator(hailuo_conn_id="hailuo_missing").execute({})


def test_unregistered_filesystem_is_a_configuration_error(minimax_conn: str, mocker: Any) -> None:
    get = mocker.patch("airflow_provider_hailuo.hooks.base.HailuoHook.get_download_location")
    with pytest.raises(HailuoInvalidRequestError, match=r"no filesystem is registered for gs://\. Install .*google"):
        operator(dest="gs://bucket/v.mp4").execute({})
    get.assert_not_called()


def test_video_as_rendered_text(minimax_conn: str, no_requests: Any) -> None:
    """A Jinja-rendered XCom arrives as text (JSON or a Python repr); it is read back as a dict."""
    op = operator(video=repr(VIDEO))
    assert op._video_info()["video_task_id"] == VIDEO["video_task_id"]
    op = operator(video='{"video_task_id": 5, "file_id": 6}')
    assert op._video_info() == {"video_task_id": "5", "file_id": "6"}


def test_task_id_form(minimax_conn: str) -> None:
    op = operator(video=None, video_task_id=" 77 ", file_id=88)
    assert op._video_info() == {"video_task_id": "77", "file_id": "88"}


def test_openlineage_is_optional() -> None:
    op = operator()
    assert op.get_openlineage_facets_on_complete(None) is None  # nothing transferred yet


def test_openlineage_facets_where_the_provider_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OpenLineage provider is not installed here: stand in for the two names the method uses."""
    import types
    from dataclasses import dataclass, field

    from airflow_provider_hailuo.transfers.paths import parse_destination

    @dataclass
    class Dataset:
        namespace: str
        name: str

    @dataclass
    class OperatorLineage:
        inputs: list[Any] = field(default_factory=list)
        outputs: list[Any] = field(default_factory=list)

    facet = types.ModuleType("airflow.providers.common.compat.openlineage.facet")
    facet.Dataset = Dataset  # type: ignore[attr-defined]
    extractors = types.ModuleType("airflow.providers.openlineage.extractors")
    extractors.OperatorLineage = OperatorLineage  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "airflow.providers.common.compat.openlineage.facet", facet)
    monkeypatch.setitem(sys.modules, "airflow.providers.openlineage", types.ModuleType("airflow.providers.openlineage"))
    monkeypatch.setitem(sys.modules, "airflow.providers.openlineage.extractors", extractors)
    op = operator()
    op._lineage = ("minimax", "106916112212032", parse_destination("s3://media/hailuo/v.mp4"))
    lineage = op.get_openlineage_facets_on_complete(None)
    assert lineage.inputs == [Dataset("hailuo://minimax", "106916112212032")]
    assert lineage.outputs == [Dataset("s3://media", "hailuo/v.mp4")]
    op._lineage = ("dmxapi", "1", parse_destination("file:///srv/v.mp4"))
    assert op.get_openlineage_facets_on_complete(None).outputs == [Dataset("file", "/srv/v.mp4")]
