"""A local stand-in for the MiniMax, DMXAPI and Modelverse Hailuo video APIs, and MiniMax-H3 (v2).

Independent of the rest of the package (it shares no code with the provider's clients and does
not import Airflow). See ``README.md`` in this directory.
"""

from __future__ import annotations

from .config import ConfigError
from .media import synthetic_video_chunks, synthetic_video_sha256
from .server import DEFAULT_API_KEY, EmulatorServer

__all__ = [
    "DEFAULT_API_KEY",
    "ConfigError",
    "EmulatorServer",
    "synthetic_video_chunks",
    "synthetic_video_sha256",
]
