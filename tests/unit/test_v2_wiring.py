"""Units of the v2 wiring: which dialect serves which API, the upload request, facts and trigger kwargs."""

from __future__ import annotations

import pytest

from airflow_provider_hailuo.core.facts import RequestFacts
from airflow_provider_hailuo.core.h3 import H3Request
from airflow_provider_hailuo.core.h3_results import h3_expected_size
from airflow_provider_hailuo.core.media import MediaUpload
from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError
from airflow_provider_hailuo.operators.video_request import build_video_request, request_api
from airflow_provider_hailuo.triggers.video import HailuoVideoTrigger
from airflow_provider_hailuo.vendors.dmxapi import DMXAPIDialect
from airflow_provider_hailuo.vendors.minimax import MiniMaxDialect
from airflow_provider_hailuo.vendors.minimax_v2 import MiniMaxV2Dialect
from airflow_provider_hailuo.vendors.modelverse import ModelverseDialect


def test_minimax_serves_both_apis_and_the_resellers_only_v1() -> None:
    v2 = MiniMaxDialect().for_api("v2", "MiniMax-H3")
    assert isinstance(v2, MiniMaxV2Dialect) and v2.api == "v2" and v2.can_cancel
    assert isinstance(v2.for_api("v1"), MiniMaxDialect) and v2.for_api("v1").api == "v1"
    for reseller in (DMXAPIDialect(), ModelverseDialect()):
        with pytest.raises(HailuoInvalidRequestError, match="MiniMax-H3") as caught:
            reseller.for_api("v2", "MiniMax-H3")
        assert caught.value.parameter == "model"


def test_the_v2_dialect_reads_its_price_currency_from_the_region() -> None:
    dialect = MiniMaxV2Dialect()
    dialect.configure({"region": "global"})
    assert dialect.currency == "USD"
    dialect.configure({})
    assert dialect.currency == "CNY"


def test_the_upload_is_a_multipart_request() -> None:
    request = MiniMaxV2Dialect().build_upload(MediaUpload("ref.png", "image/png", b"\x89PNG"))
    assert (request.method, request.path, request.json) == ("POST", "/v1/files/upload", None)
    assert request.form == {"purpose": "video_generation_input"}
    assert request.files == (("file", "ref.png", b"\x89PNG", "image/png"),)
    assert request.idempotent  # a repeated upload costs nothing


def test_the_model_picks_the_api() -> None:
    h3 = build_video_request({"model": "MiniMax-H3", "prompt": "A fox"}, None)
    hailuo = build_video_request({"model": "MiniMax-Hailuo-2.3", "prompt": "A fox"}, None)
    assert (request_api(h3), request_api(hailuo)) == ("v2", "v1")
    with pytest.raises(HailuoInvalidRequestError) as caught:
        build_video_request({"model": "MiniMax-Hailuo-2.3", "prompt": "A fox", "ratio": "9:16"}, None)
    assert caught.value.parameter == "ratio"


@pytest.mark.parametrize(("ratio", "resolution", "size"), [
    ("9:16", "768P", (768, 1366)), ("16:9", "2K", (2560, 1440)), ("1:1", "768P", (768, 768)),
    ("21:9", "768P", (1792, 768)),
])
def test_expected_pixel_sizes(ratio: str, resolution: str, size: tuple[int, int]) -> None:
    request = H3Request.build(model="MiniMax-H3", prompt="A fox", ratio=ratio, resolution=resolution)
    assert h3_expected_size(request) == size


def test_v2_facts_survive_json_and_old_facts_read_as_v1() -> None:
    request = H3Request.build(model="MiniMax-H3", prompt="A fox", ratio="9:16", duration=10)
    facts = RequestFacts.of_h3(request, estimated_cost={"amount": 5.0, "unit": "CNY"})
    assert RequestFacts.from_dict(facts.to_dict()) == facts
    old = {key: value for key, value in facts.to_dict().items() if key not in ("api", "ratio")}
    assert RequestFacts.from_dict(old).api == "v1"


def test_only_v2_trigger_rows_carry_api() -> None:
    v1 = HailuoVideoTrigger(hailuo_conn_id="c", video_task_id="1", deadline=2_000_000_000)
    v2 = HailuoVideoTrigger(hailuo_conn_id="c", video_task_id="1", deadline=2_000_000_000, api="v2")
    assert "api" not in v1.serialize()[1]
    assert v2.serialize()[1]["api"] == "v2"
    assert HailuoVideoTrigger(**v2.serialize()[1]).api == "v2"
