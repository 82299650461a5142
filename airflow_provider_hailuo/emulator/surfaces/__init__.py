"""The API surfaces the emulator serves, each under its own URL prefix.

A surface is one module here holding a :class:`Surface`: its name (the URL prefix and the vendor
word in the request log) and a function giving its routes. ``EmulatorApp.build`` adds the routes
of every surface in :data:`SURFACES`, so a new vendor API is one module plus one line below.
The route handlers get the whole app (state, faults, CDN, the shared v1 handlers) to work with.
"""

from __future__ import annotations

from . import dmxapi, minimax, modelverse
from .base import Route, Surface

SURFACES: tuple[Surface, ...] = (minimax.SURFACE, dmxapi.SURFACE, modelverse.SURFACE)

__all__ = ["SURFACES", "Route", "Surface"]
