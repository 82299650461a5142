"""The demo's DAG, ``hailuo_daily_content``, end to end against the emulator with ``dag.test()``.

The manifest must list every prompt, in order, with a stored MP4 that is really there: its
sha256 equals the manifest's, it starts with an ``ftyp`` box and PyAV reads the size and length
the manifest claims. Also: where the prompts come from (param > Variable > file), and the
asset-scheduled catalog DAG checking the videos the run announced.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
DAG_ID = "hailuo_daily_content"

PROMPTS = [
    "A red kite dancing above a windy beach, slow motion",
    {"slug": "Harbour at Dawn!", "prompt": "Fishing boats leave a misty harbour at dawn, gulls overhead",
     "model": "MiniMax-Hailuo-02", "duration": 10, "resolution": "768P"},
]


def _local(uri: str) -> Path:
    parts = urlsplit(uri)
    assert parts.scheme == "file", uri
    return Path(unquote(parts.path))


@pytest.fixture
def dags_module_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the demo sets: fast polling for the emulator, no retries; dags/ as the DAGs folder."""
    from airflow import settings

    monkeypatch.setenv("HAILUO_POLL_INTERVAL", "0.2")
    monkeypatch.setenv("HAILUO_INITIAL_DELAY", "0.2")
    monkeypatch.setenv("HAILUO_TASK_RETRIES", "0")
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS))
    monkeypatch.setattr(settings, "DAGS_FOLDER", str(DAGS))  # dag.test() syncs this bundle
    monkeypatch.syspath_prepend(str(DAGS))
    for module in [name for name in sys.modules if name == "hailuo_common" or name.startswith("hailuo_common.")]:
        monkeypatch.delitem(sys.modules, module)  # re-read the settings above


def _load_dags() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=DAGS, bundle_path=DAGS, bundle_name="dags-folder")
    assert bag.import_errors == {}
    return bag


def test_daily_content_stores_a_verified_mp4_per_prompt(
    airflow_db: Path, emulator: Any, vendor_conns: dict[str, str], dags_module_env: None, tmp_path: Path
) -> None:
    import av

    dag = _load_dags().dags[DAG_ID]
    media = tmp_path / "media"
    run = dag.test(run_conf={
        "prompts": PROMPTS,
        "hailuo_conn_id": vendor_conns["minimax"],
        "media_base": media.as_uri(),
        "max_cost": 3,  # 1 + 2 credits: exactly the run's estimate, so it runs
    })
    assert run.state == "success"

    day = run.logical_date.strftime("%Y-%m-%d")
    manifest_path = media / "daily" / day / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["dag_id"] == DAG_ID and manifest["day"] == day and manifest["run_id"] == run.run_id
    assert manifest["count"] == len(PROMPTS) == len(manifest["videos"])
    submitted = {task["task_id"] for task in emulator.tasks("minimax")}

    expected = [
        # (prompt, file name, model, duration, width, height)
        (PROMPTS[0], "01-a-red-kite-dancing-above-a-windy-beach-slow-moti.mp4", "MiniMax-Hailuo-2.3", 6, 1366, 768),
        (PROMPTS[1]["prompt"], "02-harbour-at-dawn.mp4", "MiniMax-Hailuo-02", 10, 1366, 768),
    ]
    for entry, (prompt, name, model, duration, width, height) in zip(manifest["videos"], expected, strict=True):
        assert entry["prompt"] == prompt
        assert (entry["model"], entry["vendor"], entry["duration"]) == (model, "minimax", duration)
        assert entry["video_task_id"] in submitted
        path = _local(entry["uri"])
        assert path == media / "daily" / day / name
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["size"] and entry["content_type"] == "video/mp4"
        assert data[4:8] == b"ftyp"
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (width, height)
            assert (entry["width"], entry["height"]) == (width, height)
            assert container.duration / av.time_base == pytest.approx(duration, abs=0.5)
            assert next(container.decode(stream)) is not None
        sidecar = json.loads(Path(f"{path}.json").read_text())
        assert (sidecar["sha256"], sidecar["video_task_id"]) == (entry["sha256"], entry["video_task_id"])
        assert entry["poster_uri"] == entry["uri"] + ".jpg" and Path(f"{path}.jpg").read_bytes()[:2] == b"\xff\xd8"
        assert entry["has_audio"] is False
        # The mode travels from the generate task's result dict to the manifest and the sidecar.
        assert entry["mode"] == sidecar["mode"] == "text" and entry["api"] == sidecar["api"] == "v1"
        assert entry["estimated_cost"] == sidecar["estimated_cost"] == {"amount": {6: 1.0, 10: 2.0}[duration],
                                                                         "unit": "credits"}
        assert entry["billed_cost"] is None and sidecar["billed_cost"] is None  # v1 reports no usage
    # The manifest's totals are the sums of its entries (by unit).
    sums: dict[str, float] = {}
    for entry in manifest["videos"]:
        sums[entry["estimated_cost"]["unit"]] = sums.get(entry["estimated_cost"]["unit"], 0) + entry["estimated_cost"][
            "amount"]
    assert manifest["totals"] == {"estimated_cost": sums, "billed_cost": {}} and sums == {"credits": 3.0}
    assert not list((media / "daily" / day).glob(".*")), "no staging leftovers"
    page = (media / "daily" / day / "index.html").read_text(encoding="utf-8")
    for _, name, *_ in expected:  # relative links: the folder can be copied or served as it is
        assert f'src="{name}"' in page and f'src="{name}.jpg"' in page
    assert page.count('<article class="card"') == len(PROMPTS)
    assert "estimated 3 credits" in page


def test_a_daily_run_over_budget_is_refused_before_any_submit(
    airflow_db: Path, emulator: Any, vendor_conns: dict[str, str], dags_module_env: None, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dag = _load_dags().dags[DAG_ID]
    run = dag.test(run_conf={"prompts": PROMPTS, "hailuo_conn_id": vendor_conns["minimax"],
                             "media_base": (tmp_path / "media").as_uri(), "max_cost": 2.5})
    assert run.state == "failed"
    assert emulator.count("submit") == 0 and emulator.requests() == []  # not one request reached the vendor
    out = capsys.readouterr().out
    assert "HailuoBudgetExceededError" in out and "3 credits for 2 video(s) is over max_cost 2.5 credits" in out
    assert "#2 harbour-at-dawn: 2 credits; #1 a-red-kite" in out  # the most expensive first
    assert not (tmp_path / "media").exists()


def test_the_manifest_totals_are_the_sums_of_its_entries(dags_module_env: None) -> None:
    from hailuo_common.spend import cost_columns, manifest_totals

    videos = [
        {"api": "v1", "model": "MiniMax-Hailuo-02", "resolution": "768P", "usage": None,
         "estimated_cost": {"amount": 2.0, "unit": "credits"}},
        {"api": "v2", "model": "MiniMax-H3", "resolution": "2K", "usage": {"output_seconds": 6, "input_seconds": 0},
         "estimated_cost": {"amount": 1.3, "unit": "USD"}},
        {"api": "v2", "model": "MiniMax-H3", "resolution": "768P", "usage": {"output_seconds": 5},
         "estimated_cost": {"amount": 0.4, "unit": "USD"}},
        {"api": "v1", "model": "MiniMax-Hailuo-02", "usage": None, "estimated_cost": None},  # a reseller, unpriced
    ]
    entries = [cost_columns(video) for video in videos]
    assert [entry["billed_cost"] for entry in entries] == [
        None, {"amount": 0.78, "unit": "USD"}, {"amount": 0.4, "unit": "USD"}, None]
    totals = manifest_totals(entries)
    for key in ("estimated_cost", "billed_cost"):
        sums: dict[str, float] = {}
        for entry in entries:
            if entry[key]:
                sums[entry[key]["unit"]] = sums.get(entry[key]["unit"], 0.0) + entry[key]["amount"]
        assert totals[key] == pytest.approx(sums) and set(totals[key]) == set(sums)
    assert totals == {"estimated_cost": {"credits": 2.0, "USD": 1.7}, "billed_cost": {"USD": 1.18}}


def test_review_page_escapes_what_users_wrote_and_shows_dashes_for_the_unknown(dags_module_env: None) -> None:
    from hailuo_common.review_page import review_page_html

    page = review_page_html({"day": "2026-03-01", "run_id": "r<1>", "videos": [
        {"index": 0, "prompt": '<script>alert("x")</script> & 雨', "model": "M<odel>", "duration": 6,
         "size": 3_500_000, "uri": "s3://b/d/01-a.mp4", "poster_uri": None, "video_task_id": "7"},
        {"index": 1, "prompt": "two", "model": "m", "uri": "file:///m/d/02-b.mp4", "poster_uri":
         "file:///m/d/02-b.mp4.jpg", "estimated_cost": {"amount": 0.25, "unit": "USD"}},
    ]})
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 雨" in page
    assert "M&lt;odel&gt;" in page and "r&lt;1&gt;" in page
    assert 'src="01-a.mp4"' in page and 'src="02-b.mp4.jpg"' in page and 'poster="02-b.mp4.jpg"' in page
    assert "<dt>estimated cost</dt><dd>—</dd>" in page and "<dd>0.25 USD</dd>" in page
    assert "<dd>3.3 MB</dd>" in page


# -- where the prompts come from ------------------------------------------------------------------

def _plan(dag: Any, monkeypatch: pytest.MonkeyPatch, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Run the plan task's code with a stand-in context (no Airflow run needed)."""
    task = dag.task_dict["plan_videos"]
    module = sys.modules[task.python_callable.__module__]
    context = {
        "params": {"prompts": None, "hailuo_conn_id": None, "model": None, "max_prompts": None,
                   "media_base": "file:///media", **params},
        "logical_date": datetime(2026, 3, 1, 6, 0, tzinfo=timezone.utc),
        "dag_run": SimpleNamespace(run_after=datetime(2026, 3, 1, 6, 0, tzinfo=timezone.utc)),
    }
    monkeypatch.setattr(module, "get_current_context", lambda: context)
    return task.python_callable()


def test_prompts_come_from_param_then_variable_then_file(
    dags_module_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    dag = _load_dags().dags[DAG_ID]
    shipped = json.loads((DAGS / "hailuo_prompts" / "daily_prompts.json").read_text())
    monkeypatch.delenv("AIRFLOW_VAR_HAILUO_DAILY_PROMPTS", raising=False)
    monkeypatch.delenv("AIRFLOW_VAR_HAILUO_CONN_ID", raising=False)

    from_file = _plan(dag, monkeypatch, {})
    assert [item["prompt"] for item in from_file] == [item["prompt"] for item in shipped["prompts"]]
    assert {item["model"] for item in from_file} == {shipped["model"]}
    assert {item["hailuo_conn_id"] for item in from_file} == {"hailuo_minimax_default"}
    assert from_file[0]["dest"] == "file:///media/daily/2026-03-01/01-harbour-sunrise.mp4"

    monkeypatch.setenv("AIRFLOW_VAR_HAILUO_DAILY_PROMPTS", json.dumps(["from the variable"]))
    monkeypatch.setenv("AIRFLOW_VAR_HAILUO_CONN_ID", "hailuo_dmxapi_default")
    from_variable = _plan(dag, monkeypatch, {})
    assert [(item["prompt"], item["hailuo_conn_id"]) for item in from_variable] == [
        ("from the variable", "hailuo_dmxapi_default")]

    from_params = _plan(dag, monkeypatch, {"prompts": ["one", "two", "three"], "max_prompts": 2,
                                           "hailuo_conn_id": "hailuo_modelverse_default", "model": "MiniMax-Hailuo-02"})
    assert [(item["prompt"], item["hailuo_conn_id"], item["model"]) for item in from_params] == [
        ("one", "hailuo_modelverse_default", "MiniMax-Hailuo-02"),
        ("two", "hailuo_modelverse_default", "MiniMax-Hailuo-02"),
    ]

    with pytest.raises(ValueError, match="prompt #2 has no text"):
        _plan(dag, monkeypatch, {"prompts": ["fine", {"slug": "empty"}]})
    with pytest.raises(ValueError, match="3 prompts in one run; the limit is 2 \\(param prompt_limit\\)"):
        _plan(dag, monkeypatch, {"prompts": ["one", "two", "three"], "prompt_limit": 2})
    assert len(_plan(dag, monkeypatch, {"prompts": ["p"] * 50})) == 50  # the default cap, 50, allows 50


# -- the DAG scheduled on the stored videos ------------------------------------------------------

def test_catalog_dag_checks_each_announced_video(
    dags_module_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from airflow.sdk import AssetAlias

    from airflow_provider_hailuo.transfers.object_storage import HAILUO_VIDEOS_ALIAS

    video = tmp_path / "media" / "daily" / "clip.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(b"\x00\x00\x00\x20ftypisom" + b"\x00" * 100)
    digest = hashlib.sha256(video.read_bytes()).hexdigest()
    event = SimpleNamespace(
        asset=SimpleNamespace(uri=video.as_uri()),
        extra={"vendor": "minimax", "video_task_id": "123456789012345", "size": video.stat().st_size,
               "sha256": digest},
        source_dag_id=DAG_ID, source_run_id="manual__x", source_task_id="store_video", source_map_index=0,
        timestamp=datetime(2026, 3, 1, tzinfo=timezone.utc),
    )
    monkeypatch.setenv("AIRFLOW_VAR_HAILUO_MEDIA_BASE", (tmp_path / "media").as_uri())
    task = _load_dags().dags["hailuo_video_catalog"].task_dict["catalog_new_videos"]
    module = sys.modules[task.python_callable.__module__]
    monkeypatch.setattr(module, "get_current_context",
                        lambda: {"triggering_asset_events": {AssetAlias(HAILUO_VIDEOS_ALIAS): [event]}})

    entries = task.python_callable()
    assert [entry["sha256"] for entry in entries] == [digest]
    catalogued = json.loads((tmp_path / "media" / "catalog" / "123456789012345.json").read_text())
    assert catalogued["uri"] == video.as_uri() and catalogued["source"]["task_id"] == "store_video"

    video.write_bytes(b"tampered")
    with pytest.raises(ValueError, match="sha256"):
        task.python_callable()
