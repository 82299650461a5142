"""DMXAPI (``/dmxapi/...``): MiniMax's v1 paths relayed, raw or Bearer key, no retrieve_content."""

from __future__ import annotations

from .base import Surface, v1_routes

SURFACE = Surface("dmxapi", v1_routes("dmxapi", (
    ("POST", "/v1/video_generation", "submit"),
    ("GET", "/v1/query/video_generation", "status"),
    ("GET", "/v1/files/retrieve", "retrieve"),
)))
