"""DMXAPI, a reseller relaying MiniMax's v1 video API (seeds 000, 001).

Same paths, bodies and ``base_resp`` errors as MiniMax; differences: the key goes either raw
(``Authorization: <key>``, seed 000) or as ``Bearer`` (seed 001), chosen by the connection extra
``auth_scheme``; ``files/retrieve`` also takes ``task_id``; there is no ``files/retrieve_content``.
"""

from __future__ import annotations

from typing import ClassVar

from airflow_provider_hailuo.core.models import DownloadLocation
from airflow_provider_hailuo.vendors.base import HttpRequest
from airflow_provider_hailuo.vendors.minimax import MiniMaxDialect
from airflow_provider_hailuo.vendors.reseller_prices import PRICES, ResellerPricing
from airflow_provider_hailuo.vendors.spec import AuthStyle, Choice, ExtraField, VendorSpec

AUTH_SCHEME = ExtraField(
    name="auth_scheme",
    label="Auth scheme",
    description="raw: 'Authorization: <key>' (default); bearer: 'Authorization: Bearer <key>'.",
    choices=(Choice(AuthStyle.RAW.value, "Authorization: <key>"),
             Choice(AuthStyle.BEARER.value, "Authorization: Bearer <key>")),
    default=AuthStyle.RAW.value,
)
SPEC = VendorSpec(
    name="dmxapi",
    display_name="DMXAPI",
    conn_type="hailuo_dmxapi",
    hook_name="Hailuo (DMXAPI)",
    hook_class_path="airflow_provider_hailuo.hooks.dmxapi.DMXAPIHook",
    default_conn_id="hailuo_dmxapi_default",
    default_base_url="https://www.dmxapi.cn",
    extra_fields=(AUTH_SCHEME, PRICES),
    auth_field="auth_scheme",
)


class DMXAPIDialect(ResellerPricing, MiniMaxDialect):
    """Priced from its connection's extra ``prices`` (ResellerPricing): MiniMax's credits are not its prices."""

    spec: ClassVar[VendorSpec] = SPEC
    #: DMXAPI's documents cover the v1 Hailuo models only; MiniMax-H3 (v2) is MiniMax's own.
    apis: ClassVar[tuple[str, ...]] = ("v1",)

    def build_file_lookup(self, task_id: str | None, file_id: str | None) -> HttpRequest:
        request = super().build_file_lookup(task_id, file_id)
        if task_id:
            request.params["task_id"] = str(task_id)
        return request

    def content_location(self, task_id: str | None, file_id: str | None) -> DownloadLocation | None:
        return None

