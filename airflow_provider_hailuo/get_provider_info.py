"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

The connection types are the built-in vendor specs' (``vendors/registry.py``), so a new vendor
API appears here by being registered, not by editing this file.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hailuo import __version__


def get_provider_info() -> dict[str, Any]:
    from airflow_provider_hailuo.vendors.registry import builtin_specs

    specs = builtin_specs()
    return {
        "package-name": "airflow-provider-hailuo",
        "name": "Hailuo",
        "description": "MiniMax Hailuo video generation (text, image, first+last frame, subject reference) "
        "through " + ", ".join(s.display_name for s in specs[:-1]) + f" or {specs[-1].display_name}, "
        "stored in any object storage.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": "Hailuo", "external-doc-url": specs[0].doc_url,
             "tags": ["software"]}
        ],
        "hooks": [
            {
                "integration-name": "Hailuo",
                "python-modules": [spec.hook_class_path.rpartition(".")[0] for spec in specs],
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
        "connection-types": [spec.connection_type_info() for spec in specs],
        # the transfer's "Stored video" button; the vendors have no page per task to link the generate task to
        "extra-links": ["airflow_provider_hailuo.transfers.links.StoredVideoLink"],
    }
