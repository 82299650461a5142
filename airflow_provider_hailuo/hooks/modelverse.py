"""Hook for Modelverse (``api.modelverse.cn``), which sells Hailuo through its task API."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow_provider_hailuo.hooks.base import HailuoHook
from airflow_provider_hailuo.vendors.base import VendorDialect
from airflow_provider_hailuo.vendors.modelverse import ModelverseDialect


class ModelverseHook(HailuoHook):
    """Connection ``hailuo_modelverse``: password = API key (sent raw in ``Authorization``)."""

    default_conn_name: ClassVar[str] = "hailuo_modelverse_default"
    conn_type: ClassVar[str] = "hailuo_modelverse"
    hook_name: ClassVar[str] = "Hailuo (Modelverse)"
    dialect_class: ClassVar[type[VendorDialect]] = ModelverseDialect

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return {}
