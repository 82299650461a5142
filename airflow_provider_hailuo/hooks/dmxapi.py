"""Hook for DMXAPI, a reseller of MiniMax's video API (``www.dmxapi.cn``)."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow_provider_hailuo.hooks.base import HailuoHook
from airflow_provider_hailuo.vendors.base import VendorDialect
from airflow_provider_hailuo.vendors.dmxapi import DMXAPIDialect


class DMXAPIHook(HailuoHook):
    """Connection ``hailuo_dmxapi``: password = API key; extra ``auth_scheme``: ``raw`` (default) or ``bearer``."""

    default_conn_name: ClassVar[str] = "hailuo_dmxapi_default"
    conn_type: ClassVar[str] = "hailuo_dmxapi"
    hook_name: ClassVar[str] = "Hailuo (DMXAPI)"
    dialect_class: ClassVar[type[VendorDialect]] = DMXAPIDialect

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        from flask_appbuilder.fieldwidgets import Select2Widget
        from wtforms import SelectField

        return {
            "auth_scheme": SelectField("Auth scheme", choices=[("raw", "raw (Authorization: <key>)"),
                                                               ("bearer", "bearer (Authorization: Bearer <key>)")],
                                       widget=Select2Widget(), default="raw"),
        }
