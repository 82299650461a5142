"""Modelverse's task API (``/modelverse/...``): raw key, HTTP errors, the video URLs in the status."""

from __future__ import annotations

from .base import Surface, v1_routes

SURFACE = Surface("modelverse", v1_routes("modelverse", (
    ("POST", "/v1/tasks/submit", "submit"),
    ("GET", "/v1/tasks/status", "status"),
)))
