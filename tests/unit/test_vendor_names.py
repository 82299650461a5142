"""No vendor knowledge outside ``vendors/`` (and the self-contained ``emulator/``).

A real scan: every module of the package is parsed, and its string constants (docstrings and
f-string pieces included), identifiers, attribute names, keyword names and integer constants are
checked against names that belong to one vendor API. Most of the forbidden names are taken from
the dialects themselves (conn types, default conn ids, hosts of base URLs, extra field names,
request paths, trace headers, the base_resp code table), the rest are fixed field names of the
vendors' answers. Comments are not code and are not scanned.
"""

from __future__ import annotations

import ast
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import airflow_provider_hailuo
from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.vendors import minimax
from airflow_provider_hailuo.vendors.registry import BUILTIN_DIALECTS

PACKAGE = Path(airflow_provider_hailuo.__file__).parent
EXEMPT = ("vendors", "emulator")

#: Field names of the vendors' answers and requests (fixed: they are read, not declared, by the dialects).
ANSWER_FIELDS = {"base_resp", "status_msg", "download_url", "backup_download_url", "retrieve_content",
                 "files/retrieve", "output.urls", "file.download_url", "task_status", "BASE_RESP_CODES",
                 "check_base_resp", "Minimax-Request-Id"}
#: Our own words that share a spelling with a vendor's: the trigger event's "task_status" key.
OWN_WORDS = {"task_status"}
#: Integer constants that are vendor codes but also ordinary numbers (1000 ms, 1024 bytes).
ORDINARY_NUMBERS = {1000, 1024}


def dialect_paths() -> set[str]:
    """Every request path the dialects build (submit, status, file lookup, content endpoint)."""
    request = VideoRequest.build(model="MiniMax-Hailuo-2.3", prompt="a kite")
    paths: set[str] = set()
    for dialect_class in BUILTIN_DIALECTS:
        dialect = dialect_class()
        paths.add(dialect.build_submit(request).path)
        paths.add(dialect.build_status("1").path)
        paths.add(dialect.build_file_lookup("1", "2").path)
        content = dialect.content_location("1", "2")
        if content is not None and content.content_path:
            paths.add(content.content_path)
    return paths


def forbidden_substrings() -> set[str]:
    """Text that must not appear inside any string constant."""
    found = {"/v1/"} | dialect_paths()
    for dialect in BUILTIN_DIALECTS:
        spec = dialect.spec
        found |= {spec.conn_type, spec.default_conn_id}
        found |= {urlsplit(url).hostname or url for url in (spec.default_base_url, *spec.base_urls.values())}
    return found | (ANSWER_FIELDS - OWN_WORDS)


def forbidden_exact() -> set[str]:
    """Whole strings or identifiers: extra field names and header names mean a vendor only as a whole."""
    found = set(ANSWER_FIELDS - OWN_WORDS)
    for dialect in BUILTIN_DIALECTS:
        found |= {field.name for field in dialect.spec.extra_fields}
        found |= set(dialect.trace_headers)
    return found


def forbidden_numbers() -> set[int]:
    return set(minimax.BASE_RESP_CODES) - ORDINARY_NUMBERS


def scanned_modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py")
                  if path.relative_to(PACKAGE).parts[0] not in EXEMPT)


def vendor_names_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    substrings, exact, numbers = forbidden_substrings(), forbidden_exact(), forbidden_numbers()
    hits: list[str] = []

    def hit(node: ast.AST, what: str) -> None:
        hits.append(f"{path.relative_to(PACKAGE)}:{getattr(node, 'lineno', '?')}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            hits.extend(f"{path.relative_to(PACKAGE)}:{node.lineno}: {text!r} in a string"
                        for text in sorted(substrings) if text in node.value)
            if node.value in exact:
                hit(node, f"string {node.value!r}")
        elif isinstance(node, ast.Constant) and type(node.value) is int and node.value in numbers:
            hit(node, f"vendor code {node.value}")
        names = []
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
        elif isinstance(node, ast.keyword) and node.arg:
            names.append(node.arg)
        elif isinstance(node, ast.arg):
            names.append(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.alias):
            names.extend(part for part in (node.name, node.asname or "") for part in part.split("."))
        hits.extend(f"{path.relative_to(PACKAGE)}:{getattr(node, 'lineno', '?')}: name {name!r}"
                    for name in names if name in exact)
    return hits


def test_the_forbidden_lists_are_taken_from_the_dialects() -> None:
    """The scan is only as good as its lists: they must hold what the dialects really use."""
    assert {"/v1/video_generation", "/v1/query/video_generation", "/v1/files/retrieve", "/v1/tasks/submit",
            "/v1/tasks/status", "/v1/files/retrieve_content"} <= dialect_paths()
    assert {"hailuo_minimax", "hailuo_dmxapi_default", "api.minimax.io", "www.dmxapi.cn"} <= forbidden_substrings()
    assert {"region", "auth_scheme", "Trace-Id"} <= forbidden_exact()
    assert {1004, 2013, 1027} <= forbidden_numbers()


def test_the_scan_finds_vendor_names(tmp_path: Path) -> None:
    """A module that spells vendor facts is caught, so an empty result means something."""
    sample = PACKAGE / "operators" / "_vendor_names_sample.py"
    sample.write_text('"""Uses files/retrieve."""\n'
                      'def read(data, response):\n'
                      '    code = data["base_resp"]["status_code"]\n'
                      '    trace = response.header("Trace-Id")\n'
                      '    return code == 1004, f"/v1/query/video_generation?{trace}", "hailuo_dmxapi"\n',
                      encoding="utf-8")
    try:
        found = "\n".join(vendor_names_in(sample))
    finally:
        sample.unlink()
    for expected in ("files/retrieve", "base_resp", "'Trace-Id'", "vendor code 1004", "/v1/", "hailuo_dmxapi"):
        assert expected in found, expected


@pytest.mark.parametrize("path", scanned_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_vendor_names_outside_vendors(path: Path) -> None:
    assert vendor_names_in(path) == []
