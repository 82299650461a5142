"""What the example DAGs share: settings and small run-time helpers.

Airflow puts the DAGs folder on ``sys.path``, so DAG files import this package as
``hailuo_common``; ``.airflowignore`` keeps the DAG processor from parsing it as DAG files.
Copy it together with any example DAG you take into your own deployment.

Two kinds of settings, kept apart on purpose:

* read when a DAG file is parsed: environment variables only (``HAILUO_CONN_ID``,
  ``HAILUO_POLL_INTERVAL``, ...). Parsing happens often, everywhere, and must not touch the
  network or the metadata database, so no ``Variable.get`` at module level.
* read when a task runs: Airflow Variables (``hailuo_media_base``, ``hailuo_conn_id``,
  ``hailuo_daily_prompts``) and DAG params. A Variable may also come from the environment as
  ``AIRFLOW_VAR_<NAME>``, which is how the demo and the docker stack set them.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

#: The DAGs folder (this package's parent) and the files shipped beside the DAGs.
DAGS_DIR = Path(__file__).resolve().parent.parent
PROMPTS_DIR = DAGS_DIR / "hailuo_prompts"
ASSETS_DIR = DAGS_DIR / "hailuo_assets"

# -- parse time: environment only -------------------------------------------------------------

#: The provider's default connection (MiniMax). Any ``hailuo_minimax`` / ``hailuo_dmxapi`` /
#: ``hailuo_modelverse`` connection works: the operators pick the vendor from its conn_type.
DEFAULT_CONN_ID = "hailuo_minimax_default"
#: Connection of the examples whose operators are not mapped (env ``HAILUO_CONN_ID``).
CONN_ID = os.environ.get("HAILUO_CONN_ID") or DEFAULT_CONN_ID

#: The pool every generate task runs in. Create it once per deployment (the demo script and the
#: docker stack's init step do), with ``--include-deferred`` so that a slot stays taken while the
#: video is generated: the slot count is then the number of videos in flight at the vendor, which
#: is what keeps a batch inside the vendor's rate and concurrency limits. A DAG file must not
#: create it: parsing must not write to the database.
POOL = "hailuo_vendor"
POOL_SLOTS = 3
POOL_DESCRIPTION = "Hailuo video generations in flight at the vendor (rate and concurrency limit)"
#: MiniMax-H3 tasks (video API v2) in flight: MiniMax allows 30 per account; the pool keeps a margin
#: of 4 for tasks started outside Airflow, so a 31st create is never sent to be refused.
H3_POOL = "hailuo_h3"
H3_POOL_SLOTS = 26
H3_POOL_DESCRIPTION = "MiniMax-H3 tasks in flight (MiniMax allows 30 per account)"


def _seconds(name: str, default: float) -> float:
    """A number of seconds from the environment; a typo fails the import loudly, not silently."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"environment variable {name}={raw!r} is not a number of seconds") from None
    if value < 0:
        raise ValueError(f"environment variable {name}={raw!r} must not be negative")
    return value


#: Status polling. The defaults suit real vendors (a clip takes 1 to 5 minutes); the demo and the
#: tests set small values because the emulator finishes a clip in seconds.
POLL_INTERVAL = _seconds("HAILUO_POLL_INTERVAL", 15.0) or 15.0
INITIAL_DELAY = _seconds("HAILUO_INITIAL_DELAY", 30.0)
#: How long one generation may take before the task fails (the vendor task is not cancelled, and
#: a retry reconnects to it instead of paying for a second video).
GENERATION_TIMEOUT = timedelta(minutes=30)

#: Shared task defaults. Retries are safe for every task here: a retried generate task reconnects
#: to the vendor task it already submitted, and transfers are idempotent (``overwrite`` or unique
#: names). ``HAILUO_TASK_RETRIES`` lets the one-command demo fail fast instead of retrying.
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "hailuo-examples",
    "retries": int(os.environ.get("HAILUO_TASK_RETRIES", "2")),
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
}

#: Generate-operator arguments every example shares.
GENERATE_DEFAULTS: dict[str, Any] = {
    "pool": POOL,
    "poll_interval": POLL_INTERVAL,
    "initial_delay": INITIAL_DELAY,
    "timeout": GENERATION_TIMEOUT,
}

# -- run time: Variables, params, storage -----------------------------------------------------

#: Variable: where videos, manifests and staged input images go (``file:///...``, ``s3://...``).
#: An object-store base may name its Airflow connection in the ObjectStoragePath form
#: ``s3://<conn_id>@<bucket>/<prefix>``; it is then used for reading and writing.
MEDIA_BASE_VARIABLE = "hailuo_media_base"
#: Variable: the connection of the daily DAG (its ``hailuo_conn_id`` param wins over it).
CONN_ID_VARIABLE = "hailuo_conn_id"


def default_media_base() -> str:
    """Local storage, the embedded default: ``$HAILUO_MEDIA_BASE``, else ``$AIRFLOW_HOME/hailuo_media``."""
    configured = os.environ.get("HAILUO_MEDIA_BASE", "").strip()
    if configured:
        return configured.rstrip("/")
    home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return (Path(home).resolve() / "hailuo_media").as_uri()


def media_base(override: str | None = None) -> str:
    """The storage base for this run: a param, else the Variable, else the local default. Task code only."""
    if override and str(override).strip():
        return str(override).strip().rstrip("/")
    from airflow.sdk import Variable

    return str(Variable.get(MEDIA_BASE_VARIABLE, default=default_media_base())).strip().rstrip("/")


def conn_id_for_run(override: str | None = None) -> str:
    """The Hailuo connection for this run: a param, else the Variable, else the env / provider default."""
    if override and str(override).strip():
        return str(override).strip()
    from airflow.sdk import Variable

    return str(Variable.get(CONN_ID_VARIABLE, default=CONN_ID)).strip()


def join_uri(base: str, *parts: str) -> str:
    """``base`` + ``/``-joined parts (no normalisation: object keys are not paths)."""
    pieces = [base.rstrip("/")] + [part.strip("/") for part in parts if part and part.strip("/")]
    return "/".join(pieces)


def run_day(context: Any) -> str:
    """The run's day, ``YYYY-MM-DD``: its logical date (``{{ ds }}``), or when it ran for runs without one."""
    moment = context.get("logical_date") or context["dag_run"].run_after
    return moment.strftime("%Y-%m-%d")


def run_stamp(context: Any) -> str:
    """A name unique to one run of a manual example: its logical date (or run time), to the second."""
    moment: datetime = context.get("logical_date") or context["dag_run"].run_after
    return moment.strftime("%Y%m%dT%H%M%SZ")


def slugify(text: str, max_length: int = 48) -> str:
    """A file-name-safe slug: lower-case ASCII letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "video"


def storage_path(uri: str) -> Any:
    """An ``ObjectStoragePath`` (the ``conn_id@bucket`` form of the URI names the connection)."""
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(uri)


def write_json(uri: str, document: Any) -> str:
    """Write a JSON document to object storage (parents created where the store has them)."""
    return write_text(uri, json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def write_text(uri: str, text: str) -> str:
    """Write a UTF-8 text object (a manifest, a review page) to object storage."""
    path = storage_path(uri)
    if path.protocol in ("file", "local", ""):
        path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(text)
    return uri


def stage_sample_image(name: str, uri: str) -> str:
    """Upload a bundled sample image (``hailuo_assets/<name>``) to ``uri`` unless something is already there.

    In a real deployment your images are already in the bucket: pass their URIs as the DAG's
    params and this step only checks they exist.
    """
    path = storage_path(uri)
    if path.exists():
        return uri
    source = ASSETS_DIR / name
    if not source.is_file():
        raise FileNotFoundError(f"{uri} does not exist and there is no bundled sample {source}")
    if path.protocol in ("file", "local", ""):
        path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(source.read_bytes())
    return uri


def require_object(uri: str) -> str:
    """Check that an input image given by the user exists in storage (URLs are the vendor's to fetch)."""
    if uri.split(":", 1)[0].lower() in ("http", "https", "data"):
        return uri
    if "://" not in uri:
        uri = Path(uri).resolve().as_uri()
    if not storage_path(uri).exists():
        raise FileNotFoundError(f"input image {uri} does not exist")
    return uri


def media_base_param() -> Any:
    """The ``media_base`` DAG param every example takes (a new ``Param`` per DAG)."""
    from airflow.sdk import Param

    return Param(None, type=["null", "string"],
                 description="Storage base URI, e.g. s3://aws_default@bucket/hailuo; empty: Variable "
                             f"{MEDIA_BASE_VARIABLE}, then local storage.")
