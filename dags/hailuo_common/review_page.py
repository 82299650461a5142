"""The daily review page: ``index.html`` beside a manifest, one card per prompt with its video.

A content team looks at videos, not sha256s. Every link is relative (the MP4 and its poster sit in
the same folder as the page), so the folder can be copied, zipped or served as it is; everything
that came from a user or a vendor is HTML-escaped.
"""

from __future__ import annotations

import posixpath
from html import escape
from typing import Any

NO_VALUE = "—"

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; background: #f6f6f8; color: #1d1d24; }
h1 { font-size: 1.4rem; } .meta { color: #555; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 1.2rem; }
.card { background: #fff; border-radius: 8px; box-shadow: 0 1px 4px #0002; padding: 1rem; }
.card img, .card video { width: 100%; border-radius: 4px; background: #000; }
.prompt { font-size: 1rem; margin: .6rem 0; white-space: pre-wrap; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .8rem; margin: 0; font-size: .9rem; }
dt { color: #666; }
"""


def _size(value: Any) -> str:
    if not isinstance(value, int):
        return NO_VALUE
    for unit, scale in (("MB", 1024**2), ("KB", 1024)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value} B"


def _cost(value: Any) -> str:
    """``{"amount", "unit"}`` as text; a dash where the price is unknown (or nothing was billed yet)."""
    if isinstance(value, dict) and isinstance(value.get("amount"), (int, float)):
        return f"{value['amount']:g} {value.get('unit') or ''}".strip()
    return NO_VALUE


def _name(uri: Any) -> str | None:
    """The file name of a stored object: the page's relative link to it (same folder)."""
    return posixpath.basename(str(uri)) if uri else None


def _card(entry: dict[str, Any]) -> str:
    video, poster = _name(entry.get("uri")), _name(entry.get("poster_uri"))
    facts = [
        ("model", entry.get("model") or NO_VALUE),
        ("vendor", entry.get("vendor") or NO_VALUE),
        ("duration", f"{entry['duration']} s" if entry.get("duration") else NO_VALUE),
        ("size", _size(entry.get("size"))),
        ("estimated cost", _cost(entry.get("estimated_cost"))),
        ("billed cost", _cost(entry.get("billed_cost"))),
        ("task", entry.get("video_task_id") or NO_VALUE),
    ]
    rows = "".join(f"<dt>{escape(label)}</dt><dd>{escape(str(value))}</dd>" for label, value in facts)
    poster_attr = f' poster="{escape(poster)}"' if poster else ""
    image = f'<img class="poster" src="{escape(poster)}" alt="poster frame">' if poster else ""
    return (
        f'<article class="card" id="video-{escape(str(entry.get("index", "")))}">'
        f"{image}"
        f'<video controls preload="metadata"{poster_attr} src="{escape(video or "")}"></video>'
        f'<p class="prompt">{escape(str(entry.get("prompt") or ""))}</p>'
        f"<dl>{rows}</dl></article>"
    )


def _totals(manifest: dict[str, Any]) -> str:
    """`` · estimated 3 credits · billed 0.65 USD`` from the manifest's totals (by unit), or nothing."""
    totals = manifest.get("totals") or {}
    parts = []
    for key, label in (("estimated_cost", "estimated"), ("billed_cost", "billed")):
        sums = totals.get(key) or {}
        if sums:
            amounts = ", ".join(_cost({"amount": amount, "unit": unit}) for unit, amount in sums.items())
            parts.append(f"{label} {amounts}")
    return "".join(f" · {escape(part)}" for part in parts)


def review_page_html(manifest: dict[str, Any]) -> str:
    """The page for a manifest (its ``videos`` entries, in prompt order)."""
    videos = manifest.get("videos") or []
    title = f"Hailuo daily review {manifest.get('day', '')}".strip()
    cards = "\n".join(_card(entry) for entry in videos)
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="meta">{len(videos)} video(s) · run {escape(str(manifest.get("run_id", "")))} · '
        f'written {escape(str(manifest.get("written_at", "")))}{_totals(manifest)} · '
        '<a href="manifest.json">manifest.json</a></p>'
        f'<section class="cards">\n{cards}\n</section></body></html>\n'
    )
