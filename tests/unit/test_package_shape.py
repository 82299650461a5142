"""The package's shape rules: no module over 400 lines (a module does one thing)."""

from __future__ import annotations

from pathlib import Path

import pytest

import airflow_provider_hailuo

PACKAGE = Path(airflow_provider_hailuo.__file__).parent
MAX_LINES = 400


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines; split it by what it does"
