"""Headless Chromium for the UI tests: Debian's own ``/usr/bin/chromium``, driven by Playwright.

No browser is ever downloaded (``playwright install`` is never run): ``make test`` installs
Debian's ``chromium`` through ``scripts/install_system_deps.sh`` when it runs as root. Each
context gets a fresh user data dir under the test's temp dir; screenshots go there too (and, with
``BROWSER_SCREENSHOTS_DIR`` set, are copied to that folder).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import module_airflow_stack_factory  # noqa: F401 - the real Airflow stack fixture

CHROMIUM = os.environ.get("HAILUO_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _require_browser() -> Any:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install_system_deps.sh as root (Debian's chromium)")
    return pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")


@pytest.fixture
def playwright_driver() -> Iterator[Any]:
    """Function scope, requested last: Playwright's sync API keeps an event loop running in this
    thread, so anything that calls ``asyncio.run`` (``dag.test()``) must run before it starts."""
    sync_api = _require_browser()
    with sync_api.sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright_driver: Any, tmp_path: Path) -> Iterator[Any]:
    """A fresh Chromium context (its own profile dir) with a large viewport."""
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
        viewport={"width": 1400, "height": 1000},
    )
    context.set_default_timeout(30_000)
    try:
        yield context
    finally:
        context.close()


def save_screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    """A full-page PNG under the test's temp dir (copied to $BROWSER_SCREENSHOTS_DIR when set)."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    target = os.environ.get("BROWSER_SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)
    return path
