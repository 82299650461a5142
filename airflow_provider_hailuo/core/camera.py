"""Camera commands written in square brackets inside a prompt, e.g. ``[左摇,上升]`` or ``[Pan left]``.

The vendor silently ignores a word it does not know, so a typo costs a video without the camera
move. We parse the brackets and return warnings (not errors: natural language in brackets is
allowed, and the vendor may learn new words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The 15 commands: Chinese form (Hailuo-2.3/02) -> English form (Director models).
CAMERA_COMMANDS: dict[str, str] = {
    "左移": "Truck left",
    "右移": "Truck right",
    "左摇": "Pan left",
    "右摇": "Pan right",
    "推进": "Push in",
    "拉远": "Pull out",
    "上升": "Pedestal up",
    "下降": "Pedestal down",
    "上摇": "Tilt up",
    "下摇": "Tilt down",
    "变焦推近": "Zoom in",
    "变焦拉远": "Zoom out",
    "晃动": "Shake",
    "跟随": "Tracking shot",
    "固定": "Static shot",
}
_ENGLISH = {english.lower(): english for english in CAMERA_COMMANDS.values()}
MAX_COMMANDS_PER_BRACKET = 3

_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_SEPARATORS = re.compile(r"[,，、;；]")


@dataclass(frozen=True)
class CameraPlan:
    """What a prompt's bracketed camera commands call for a warning about (unknown or too many)."""

    warnings: tuple[str, ...]


def canonical_command(word: str) -> str | None:
    """English name of a camera command given in either language, or None if unknown."""
    word = " ".join(word.split())
    if word in CAMERA_COMMANDS:
        return CAMERA_COMMANDS[word]
    return _ENGLISH.get(word.lower())


def parse_camera_commands(prompt: str | None) -> CameraPlan:
    if not prompt:
        return CameraPlan(())
    warnings: list[str] = []
    for match in _BRACKET.finditer(prompt):
        words = [w.strip() for w in _SEPARATORS.split(match.group(1)) if w.strip()]
        for word in words:
            if canonical_command(word) is None:
                warnings.append(
                    f"prompt: camera command {word!r} in {match.group(0)!r} is not one of the 15 known "
                    f"commands and may be ignored by the model. Known: "
                    + ", ".join(f"{zh}/{en}" for zh, en in CAMERA_COMMANDS.items())
                )
        if len(words) > MAX_COMMANDS_PER_BRACKET:
            warnings.append(
                f"prompt: {match.group(0)!r} combines {len(words)} camera commands; the vendor advises "
                f"at most {MAX_COMMANDS_PER_BRACKET} in one bracket."
            )
    return CameraPlan(tuple(warnings))
