"""ETL: a product video per catalogue row, and an index of where each one is stored.

* **extract** ``extract_products``: the product rows (here a CSV export shipped beside the DAG,
  ``hailuo_prompts/products.csv``; in your deployment, a query against your catalogue).
* **transform** ``build_prompts``: one prompt and one destination per product; the run's budget
  (params ``prompt_limit`` and ``max_cost``, the summed estimates) is checked here, before any submit.
* **generate / store**: one mapped ``HailuoGenerateVideoOperator`` task per product, then one
  ``HailuoToObjectStorageOperator`` task per video, to ``<media base>/products/<sku>.mp4``.
* **load** ``record_video_uris``: merges ``sku -> uri, sha256, size`` into
  ``<media base>/products/video_index.json``, the file a shop front would read.

A product's video is replaced when the DAG runs again (``overwrite=True``): the index always
points at the newest one.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from typing import Any

import pendulum
from airflow.sdk import AssetAlias, dag, get_current_context, task
from hailuo_common import (
    CONN_ID,
    DEFAULT_ARGS,
    GENERATE_DEFAULTS,
    PROMPTS_DIR,
    join_uri,
    media_base,
    media_base_param,
    slugify,
    storage_path,
    write_json,
)
from hailuo_common.spend import budget_params, check_prompt_count, check_run_budget

from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator
from airflow_provider_hailuo.transfers.object_storage import HAILUO_VIDEOS_ALIAS, HailuoToObjectStorageOperator

PRODUCTS_FILE = PROMPTS_DIR / "products.csv"
#: What every product video is: fixed here, so the plan step estimates exactly what the tasks send.
VIDEO = {"model": "MiniMax-Hailuo-02", "duration": 6, "resolution": "768P"}
PROMPT_TEMPLATE = (
    "A short product film of {name}: {tagline}. The product stands on {setting}, "
    "soft natural light, the camera circles it slowly, shallow depth of field."
)


def _prompt_of(request: dict[str, Any]) -> str:
    return request["prompt"]


def _store_kwargs(pair: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    video, request = pair
    return {"video": video, "dest": request["dest"]}


def _as_list(values: Any) -> list[Any]:
    return [values[position] for position in range(len(values))]


@dag(
    dag_id="hailuo_product_videos",
    schedule="@weekly",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["hailuo", "example", "etl", "text-to-video"],
    doc_md=__doc__,
    params={
        "media_base": media_base_param(),
        **budget_params("products"),
    },
)
def hailuo_product_videos() -> None:
    @task
    def extract_products() -> list[dict[str, str]]:
        with PRODUCTS_FILE.open(newline="", encoding="utf-8") as handle:
            rows = [dict(row) for row in csv.DictReader(handle)]
        if not rows:
            raise ValueError(f"{PRODUCTS_FILE} has no product rows")
        return rows

    @task
    def build_prompts(products: list[dict[str, str]]) -> list[dict[str, str]]:
        """One prompt per product; the run's budget (count, then summed estimates) is checked before any submit."""
        params = get_current_context()["params"]
        check_prompt_count(len(products), params, "products")
        base = media_base(params.get("media_base"))
        requests = [
            {
                "sku": product["sku"],
                "prompt": PROMPT_TEMPLATE.format(**product),
                "dest": join_uri(base, "products", f"{slugify(product['sku'])}.mp4"),
            }
            for product in products
        ]
        check_run_budget(requests, params, label_key="sku", request_keys=("prompt",),
                         fixed={"hailuo_conn_id": CONN_ID, **VIDEO})
        return requests

    requests = build_prompts(extract_products())

    videos = HailuoGenerateVideoOperator.partial(
        task_id="generate_video",
        hailuo_conn_id=CONN_ID,
        **VIDEO,
        **GENERATE_DEFAULTS,
    ).expand(prompt=requests.map(_prompt_of))

    stored = HailuoToObjectStorageOperator.partial(
        task_id="store_video",
        hailuo_conn_id=CONN_ID,
        overwrite=True,
        outlets=[AssetAlias(HAILUO_VIDEOS_ALIAS)],
    ).expand_kwargs(videos.output.zip(requests).map(_store_kwargs))

    @task
    def record_video_uris(requests: list[dict[str, str]], stored: list[dict[str, Any]]) -> dict[str, Any]:
        """Load: merge this run's videos into the product video index."""
        requests, stored = _as_list(requests), _as_list(stored)
        index_uri = join_uri(requests[0]["dest"].rsplit("/", 1)[0], "video_index.json")  # beside the videos
        index_path = storage_path(index_uri)
        index: dict[str, Any] = json.loads(index_path.read_text()) if index_path.exists() else {}
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for request, saved in zip(requests, stored, strict=True):
            index[request["sku"]] = {
                "uri": saved["uri"],
                "sha256": saved["sha256"],
                "size": saved["size"],
                "video_task_id": saved["video_task_id"],
                "updated_at": now,
            }
        write_json(index_uri, index)
        print(f"Recorded {len(stored)} product video(s) in {index_uri}")
        return {"index": index_uri, "skus": [request["sku"] for request in requests]}

    record_video_uris(requests, stored.output)


hailuo_product_videos()
