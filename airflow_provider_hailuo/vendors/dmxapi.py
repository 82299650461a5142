"""DMXAPI, a reseller relaying MiniMax's v1 video API (seeds 000, 001).

Same paths, bodies and ``base_resp`` errors as MiniMax; differences: the key goes either raw
(``Authorization: <key>``, seed 000) or as ``Bearer`` (seed 001), chosen by the connection extra
``auth_scheme``; ``files/retrieve`` also takes ``task_id``; there is no ``files/retrieve_content``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_hailuo.core.models import DownloadLocation
from airflow_provider_hailuo.exceptions import HailuoConfigurationError
from airflow_provider_hailuo.vendors.base import HttpRequest
from airflow_provider_hailuo.vendors.minimax import MiniMaxDialect

AUTH_SCHEMES = ("raw", "bearer")
DEFAULT_AUTH_SCHEME = "raw"


class DMXAPIDialect(MiniMaxDialect):
    name: ClassVar[str] = "dmxapi"
    display_name: ClassVar[str] = "DMXAPI"
    default_base_url: ClassVar[str] = "https://www.dmxapi.cn"

    def base_url(self, extra: Mapping[str, Any]) -> str:
        return self.default_base_url

    def auth_headers(self, api_key: str, extra: Mapping[str, Any]) -> dict[str, str]:
        scheme = str(extra.get("auth_scheme") or DEFAULT_AUTH_SCHEME).strip().lower()
        if scheme not in AUTH_SCHEMES:
            raise HailuoConfigurationError(
                f"connection extra auth_scheme {extra.get('auth_scheme')!r} is not known; allowed: "
                "'raw' (Authorization: <key>) or 'bearer' (Authorization: Bearer <key>).",
                parameter="auth_scheme",
                value=extra.get("auth_scheme"),
            )
        return {"Authorization": api_key if scheme == "raw" else f"Bearer {api_key}"}

    def build_file_lookup(self, task_id: str | None, file_id: str | None) -> HttpRequest:
        request = super().build_file_lookup(task_id, file_id)
        if task_id:
            request.params["task_id"] = str(task_id)
        return request

    def content_location(self, task_id: str | None, file_id: str | None) -> DownloadLocation | None:
        return None

    def estimated_cost(self, model: str | None, resolution: str | None,
                       duration: int | None) -> dict[str, Any] | None:
        return None  # DMXAPI publishes no price list in its documents (MiniMax's credits are not its prices)
