"""Fixtures for end-to-end tests against a real Airflow stack (see ``airflow_stack.py``).

* ``airflow_stack_factory``: function scope; each call builds, starts and returns an
  ``AirflowStack`` whose home is under the test's ``tmp_path``.
* ``module_airflow_stack_factory``: the same with module scope, for one stack shared by the tests
  of a module (starting a stack costs ~15-20 s).

Call signature (both)::

    stack = factory(
        dags_folder=None,          # a folder of DAG files, or
        dag_files=None,            # {"my_dag.py": "source"}: written into a fresh dags folder
        wait_for_dags=(),          # DAG ids that must be parsed before the call returns
        extra_env=None,            # e.g. {"AIRFLOW_CONN_MY_CONN": json.dumps({...})}
        config=None,               # airflow.cfg overrides {"section": {"key": "value"}}
        stack_class=AirflowStack,  # or DistributedAirflowStack (distributed_stack.py)
        **other AirflowStack keyword arguments,
    )

At teardown every stack made is stopped (pass or fail) and the teardown fails if any process of
it is still alive; when a test of the scope failed, every component's log tail and the watchers'
state trails are written to the terminal; the home stays under pytest's basetemp (only the last
three runs' are kept) and, with ``E2E_ARTIFACTS_DIR=/some/dir`` set, is also copied there.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.airflow_stack import AirflowStack


class StackFactory:
    """Builds started ``AirflowStack`` objects under one base folder; ``close()`` stops them all."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.stacks: list[AirflowStack] = []

    def __call__(
        self,
        dags_folder: str | Path | None = None,
        *,
        dag_files: Mapping[str, str] | None = None,
        wait_for_dags: tuple[str, ...] | list[str] = (),
        stack_class: type[AirflowStack] = AirflowStack,
        **kwargs: Any,
    ) -> AirflowStack:
        n = len(self.stacks)
        if dags_folder is None:
            dags_folder = self.base / f"dags{n}"
            Path(dags_folder).mkdir(parents=True, exist_ok=True)
        for name, source in (dag_files or {}).items():
            (Path(dags_folder) / name).write_text(source)
        stack = stack_class(home=self.base / f"airflow{n}", dags_folder=dags_folder, **kwargs)
        self.stacks.append(stack)
        stack.start(wait_for_dags=wait_for_dags)
        return stack

    def close(self, failed: bool, write: Callable[[str], None]) -> list[str]:
        leftovers: list[str] = []
        for stack in self.stacks:
            if failed:
                write(f"\n===== e2e diagnostics for {stack.home} =====\n{stack.diagnostics(lines=60)}\n")
            stack.stop()
            leftovers += stack.leftover_processes()
            if failed:
                _keep_artifacts(stack, write)
        return leftovers


def _keep_artifacts(stack: AirflowStack, write: Callable[[str], None]) -> None:
    """With ``E2E_ARTIFACTS_DIR`` set, copy a failed stack's logs and config there.

    pytest keeps only its last three base temp folders, so a failed run's home is soon gone when
    other pytest runs follow.
    """
    target_root = os.environ.get("E2E_ARTIFACTS_DIR")
    if not target_root:
        return
    target = Path(target_root) / f"{time.strftime('%Y%m%d-%H%M%S')}-{stack.home.parent.name}-{stack.home.name}"
    shutil.copytree(stack.home, target, ignore=shutil.ignore_patterns("*.db", "*.db-*", "dag_bundles"),
                    dirs_exist_ok=True)
    write(f"e2e: kept {stack.home} as {target}")


def _writer(request: pytest.FixtureRequest) -> Callable[[str], None]:
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return print
    return lambda text: reporter.write_line(text)


def _sigterm_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _factory(request: pytest.FixtureRequest, base: Path) -> Iterator[StackFactory]:
    failed_before = request.session.testsfailed
    factory = StackFactory(base)
    # A SIGTERM to pytest (a CI job cancelled) would skip every teardown and leave the stack's
    # processes behind; turned into KeyboardInterrupt, teardowns (and so stop()) still run.
    previous = None
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        yield factory
    finally:
        try:
            leftovers = factory.close(request.session.testsfailed > failed_before, _writer(request))
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        if leftovers:
            pytest.fail("processes of the Airflow stack outlived stop():\n" + "\n".join(leftovers))


@pytest.fixture
def airflow_stack_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StackFactory]:
    yield from _factory(request, tmp_path)


@pytest.fixture(scope="module")
def module_airflow_stack_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StackFactory]:
    yield from _factory(request, tmp_path_factory.mktemp("e2e-stack"))
