"""The font the emulator draws prompts with: a CJK-capable one when the OS has it.

Prompts are often Chinese (the vendors are). Debian's ``fonts-wqy-microhei`` (installed by
``scripts/install_system_deps.sh``), Noto CJK or Droid Sans Fallback draw them; without any of
them the emulator still renders, with DejaVu or Pillow's built-in font (CJK characters then show
as boxes). ``HAILUO_EMULATOR_FONT`` names another font file.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Any

CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
LATIN_FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)


def font_file() -> str | None:
    """The font file used: ``$HAILUO_EMULATOR_FONT``, else the first CJK font, else DejaVu; None: built-in."""
    configured = os.environ.get("HAILUO_EMULATOR_FONT")
    for candidate in ((configured,) if configured else ()) + CJK_FONT_FILES + LATIN_FONT_FILES:
        if os.path.isfile(candidate):
            return candidate
    return None


def cjk_font_file() -> str | None:
    """The first CJK font of the known places, or None when the OS has none."""
    return next((path for path in CJK_FONT_FILES if os.path.isfile(path)), None)


@functools.lru_cache(maxsize=32)
def load_font(size: int) -> Any:
    from PIL import ImageFont

    path = font_file()
    if path is not None:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    return ImageFont.load_default(size)


# A CJK character (or full-width punctuation) may be broken after; Latin text breaks at spaces.
_TOKENS = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]|[^\s\u2e80-\u9fff]+\s*|\s+")


def wrap_text(text: str, font: Any, max_width: int, max_lines: int = 5) -> list[str]:
    """``text`` in lines no wider than ``max_width`` pixels; the last kept line ends with … if cut."""
    lines: list[str] = []
    current = ""
    for token in _TOKENS.findall(" ".join(text.split())):
        candidate = current + token
        if current and font.getlength(candidate.rstrip()) > max_width:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current = candidate
        while font.getlength(current.rstrip()) > max_width and len(current) > 1:  # one over-long word
            cut = len(current) - 1
            while cut > 1 and font.getlength(current[:cut]) > max_width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current.strip():
        lines.append(current.rstrip())
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(0, len(lines[-1]) - 1)] + "…"
    return lines
