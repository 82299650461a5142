"""Short, secret-free hints from a download's error body, read with real parsers.

Object stores answer errors in XML (``<Error><Code>AccessDenied</Code>...``), vendor APIs in JSON;
the hint names the code or the reason in a line of the transfer's error.
"""

from __future__ import annotations

import json
from typing import Any
from xml.parsers import expat


class _EntityRefused(Exception):
    """An error body declaring XML entities: hostile (entity expansion), so it gives no hint."""


def xml_error_code(text: str) -> str | None:
    """The ``<Code>`` of an object store's XML error (OSS, S3, GCS answer ``<Error><Code>...``).

    Parsed with expat, refusing any entity declaration (what defusedxml does), so a hostile body
    cannot expand; the body is at most 2 KiB anyway.
    """
    parser = expat.ParserCreate()
    path: list[str] = []
    code: list[str] = []

    def refuse_entity(*_: object) -> None:
        raise _EntityRefused

    def text_of(data: str) -> None:
        if path and path[-1] == "Code":
            code.append(data)

    parser.EntityDeclHandler = refuse_entity
    parser.StartElementHandler = lambda name, attributes: path.append(name)
    parser.EndElementHandler = lambda name: path.pop()
    parser.CharacterDataHandler = text_of
    try:
        parser.Parse(text, True)
    except (expat.ExpatError, _EntityRefused):
        pass  # a cut or broken body still names its code if the code came first
    found = "".join(code).strip()
    return found[:60] or None


def json_error_message(text: str, dialect: Any) -> str | None:
    """A JSON error body's reason, read the way the vendor's dialect reads its error answers."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    message = dialect.error_detail(data)
    return str(message)[:120] if message else None
