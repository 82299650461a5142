"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_hailuo import __version__

_VENDORS = (
    ("hailuo_minimax", "Hailuo (MiniMax)", "MiniMaxHook", "minimax", "https://api.minimaxi.com"),
    ("hailuo_dmxapi", "Hailuo (DMXAPI)", "DMXAPIHook", "dmxapi", "https://www.dmxapi.cn"),
    ("hailuo_modelverse", "Hailuo (Modelverse)", "ModelverseHook", "modelverse", "https://api.modelverse.cn"),
)


def _conn_fields(conn_type: str) -> dict[str, Any]:
    if conn_type == "hailuo_minimax":
        return {
            "region": {
                "label": "Region",
                "schema": {"type": ["string", "null"], "enum": ["china", "global", None]},
                "description": "china: api.minimaxi.com (default); global: api.minimax.io. Keys are per region.",
            }
        }
    if conn_type == "hailuo_dmxapi":
        return {
            "auth_scheme": {
                "label": "Auth scheme",
                "schema": {"type": ["string", "null"], "enum": ["raw", "bearer", None]},
                "description": "raw: 'Authorization: <key>' (default); bearer: 'Authorization: Bearer <key>'.",
            }
        }
    return {}


def get_provider_info() -> dict[str, Any]:
    connection_types = []
    for conn_type, name, hook, module, default_url in _VENDORS:
        connection_types.append(
            {
                "connection-type": conn_type,
                "hook-class-name": f"airflow_provider_hailuo.hooks.{module}.{hook}",
                "hook-name": name,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"host": "Base URL", "password": "API key"},
                    "placeholders": {"host": f"{default_url} (leave empty for the default)",
                                     "password": "the vendor API key"},
                },
                "conn-fields": _conn_fields(conn_type),
            }
        )
    return {
        "package-name": "airflow-provider-hailuo",
        "name": "Hailuo",
        "description": "MiniMax Hailuo video generation (text, image, first+last frame, subject reference) "
        "through MiniMax, DMXAPI or Modelverse, stored in any object storage.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": "Hailuo", "external-doc-url": "https://platform.minimaxi.com/docs",
             "tags": ["software"]}
        ],
        "hooks": [
            {
                "integration-name": "Hailuo",
                "python-modules": [
                    "airflow_provider_hailuo.hooks.minimax",
                    "airflow_provider_hailuo.hooks.dmxapi",
                    "airflow_provider_hailuo.hooks.modelverse",
                ],
            }
        ],
        "operators": [
            {"integration-name": "Hailuo", "python-modules": ["airflow_provider_hailuo.operators.generate"]}
        ],
        "sensors": [{"integration-name": "Hailuo", "python-modules": ["airflow_provider_hailuo.sensors.video"]}],
        "triggers": [
            {"integration-name": "Hailuo", "python-modules": ["airflow_provider_hailuo.triggers.video"]}
        ],
        "transfers": [
            {
                "source-integration-name": "Hailuo",
                "target-integration-name": "Common IO",
                "python-module": "airflow_provider_hailuo.transfers.object_storage",
            }
        ],
        "connection-types": connection_types,
        # the transfer's "Stored video" button; the vendors have no page per task to link the generate task to
        "extra-links": ["airflow_provider_hailuo.transfers.links.StoredVideoLink"],
    }
