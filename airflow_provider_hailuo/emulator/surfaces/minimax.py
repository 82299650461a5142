"""MiniMax's own video API v1 (``/minimax/...``): Bearer key, ``base_resp`` errors, files API with
a backup URL and ``files/retrieve_content``."""

from __future__ import annotations

from .base import Surface, v1_routes

SURFACE = Surface("minimax", v1_routes("minimax", (
    ("POST", "/v1/video_generation", "submit"),
    ("GET", "/v1/query/video_generation", "status"),
    ("GET", "/v1/files/retrieve", "retrieve"),
    ("GET", "/v1/files/retrieve_content", "retrieve_content"),
)))
