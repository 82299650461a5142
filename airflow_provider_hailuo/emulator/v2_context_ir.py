"""H3-Context-IR, emulated: a deterministic shot list expanded from the prompt, with token counts.

The real enhancer is a language model; the emulator only needs an answer that is clearly derived
from the input (same input, same output) and longer than it, so a DAG can pass it on.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .v2_rules import Inputs

SHOT_SECONDS = 3
CAMERAS = ("wide establishing shot", "medium shot", "close-up", "slow dolly-in", "tracking shot", "low-angle shot")
LIGHTS = ("soft morning light", "golden-hour light", "cool overcast light", "warm practical lights")


def _tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


def expand_prompt(inputs: Inputs, duration: int, ratio: str | None) -> tuple[str, dict[str, Any]]:
    """(the expanded prompt, token usage) for ``inputs``."""
    seed = hashlib.sha256(inputs.prompt.encode()).digest()
    shots = max(1, -(-duration // SHOT_SECONDS))
    lines = [f"Format: {duration} s, ratio {ratio or 'adaptive'}, 24 fps, with sound."]
    for index in range(shots):
        start, end = index * SHOT_SECONDS, min(duration, (index + 1) * SHOT_SECONDS)
        camera = CAMERAS[(seed[index % len(seed)] + index) % len(CAMERAS)]
        lines.append(
            f"Shot {index + 1} ({start}-{end} s): {camera}, {LIGHTS[seed[0] % len(LIGHTS)]}. {inputs.prompt.strip()}"
        )
    for item in inputs.items:
        lines.append(f"Keep consistent with the {item.role.replace('_', ' ')} ({item.kind}).")
    lines.append("Sound: ambient sound matching the scene, no music.")
    text = "\n".join(lines)
    input_tokens = _tokens(inputs.prompt) + 258 * len(inputs.items)
    output_tokens = _tokens(text)
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens}
    return text, usage
