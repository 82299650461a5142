"""Hook for MiniMax's own API (China ``api.minimaxi.com``, global ``api.minimax.io``)."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow_provider_hailuo.hooks.base import HailuoHook
from airflow_provider_hailuo.vendors.base import VendorDialect
from airflow_provider_hailuo.vendors.minimax import MiniMaxDialect


class MiniMaxHook(HailuoHook):
    """Connection ``hailuo_minimax``: password = API key; extra ``region``: ``china`` (default) or ``global``."""

    default_conn_name: ClassVar[str] = "hailuo_minimax_default"
    conn_type: ClassVar[str] = "hailuo_minimax"
    hook_name: ClassVar[str] = "Hailuo (MiniMax)"
    dialect_class: ClassVar[type[VendorDialect]] = MiniMaxDialect

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        from flask_appbuilder.fieldwidgets import Select2Widget
        from wtforms import SelectField

        return {
            "region": SelectField("Region", choices=[("china", "china (api.minimaxi.com)"),
                                                     ("global", "global (api.minimax.io)")],
                                  widget=Select2Widget(), default="china"),
        }
