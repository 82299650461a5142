"""What the reliability tests share: running the operators the way Airflow does, in-process.

``run_generate`` runs ``HailuoGenerateVideoOperator.execute`` with a minimal context; when the
operator defers, the trigger is rebuilt from its ``serialize()`` output (what the trigger row
holds), run to its one event over real HTTP, and the event handed to the method the operator named,
as the triggerer and the worker would. No metadata database is needed.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

MODEL = "MiniMax-Hailuo-2.3"
PROMPT = "A lighthouse at dusk, waves rolling in [推进]"
#: The emulator finishes a clip in 0.3 s: poll fast.
FAST: dict[str, Any] = {"initial_delay": 0.05, "poll_interval": 0.05, "timeout": 30}


class MemoryStore:
    """``task_state_store`` stand-in with the accessor's get/set signature."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values = dict(values or {})

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, *, retention: timedelta | None = None) -> None:
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


class FileStore(MemoryStore):
    """A store kept in a JSON file, so a killed process's writes survive it (written atomically)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        values = json.loads(self.path.read_text()) if self.path.exists() else {}
        super().__init__(values)

    def set(self, key: str, value: Any, *, retention: timedelta | None = None) -> None:
        super().set(key, value)
        self._write()

    def delete(self, key: str) -> None:
        super().delete(key)
        self._write()

    def _write(self) -> None:
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps(self.values))
        os.replace(temp, self.path)


async def first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def rebuild_trigger(trigger: Any) -> Any:
    """The trigger as the triggerer builds it: from the classpath and kwargs of its row."""
    import importlib

    classpath, kwargs = trigger.serialize()
    json.dumps(kwargs)  # a trigger row holds JSON
    module, name = classpath.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)(**kwargs)


def make_generate(conn_id: str, **kwargs: Any) -> Any:
    from airflow_provider_hailuo.operators.generate import HailuoGenerateVideoOperator

    params: dict[str, Any] = {"task_id": "generate", "hailuo_conn_id": conn_id, "model": MODEL, "prompt": PROMPT,
                              **FAST}
    params.update(kwargs)
    return HailuoGenerateVideoOperator(**params)


def run_operator(operator: Any, context: dict[str, Any] | None = None,
                 before_trigger: Callable[[Any], None] | None = None) -> Any:
    """``execute``; on deferral, the rebuilt trigger's event goes to the named method."""
    from airflow.sdk.exceptions import TaskDeferred

    context = {} if context is None else context
    try:
        return operator.execute(context)
    except TaskDeferred as deferred:
        trigger = rebuild_trigger(deferred.trigger)
        if before_trigger is not None:
            before_trigger(trigger)
        event = asyncio.run(first_event(trigger))
        return getattr(operator, deferred.method_name)(context, event=event)


def run_generate(conn_id: str, *, store: MemoryStore | None = None,
                 before_trigger: Callable[[Any], None] | None = None, **kwargs: Any) -> Any:
    context: dict[str, Any] = {"task_state_store": store} if store is not None else {}
    return run_operator(make_generate(conn_id, **kwargs), context, before_trigger)


def run_transfer(conn_id: str, dest: str, video: Any = None, **kwargs: Any) -> dict[str, Any]:
    from airflow_provider_hailuo.transfers.object_storage import HailuoToObjectStorageOperator

    operator = HailuoToObjectStorageOperator(task_id="store", hailuo_conn_id=conn_id, video=video, dest=dest,
                                             **kwargs)
    return operator.execute({})  # type: ignore[arg-type]


def make_image(path: Path, width: int, height: int, fmt: str = "PNG") -> str:
    from PIL import Image

    Image.new("RGB", (width, height), (40, 120, 200)).save(path, format=fmt)
    return str(path)


def files_under(root: Path) -> list[str]:
    """Every file below ``root`` (hidden staging files included), relative, sorted."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def videos_created(emulator: Any) -> int:
    """Videos the vendor started (and would charge for): tasks, not submit requests."""
    return len(emulator.tasks())


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def finished_video(conn_id: str, prompt: str = PROMPT) -> dict[str, Any]:
    from tests.integration.transfer_helpers import finished_video as finished

    return finished(conn_id, prompt=prompt)
