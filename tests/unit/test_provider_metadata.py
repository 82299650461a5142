"""Provider metadata and hook UI come from the vendor specs, and are what the release before published.

The expected values are a snapshot of ``get_provider_info()`` and the hooks' class attributes taken
before the specs existed (connection types and extras must not change).
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from airflow_provider_hailuo.get_provider_info import get_provider_info
from airflow_provider_hailuo.hooks.dmxapi import DMXAPIHook
from airflow_provider_hailuo.hooks.minimax import MiniMaxHook
from airflow_provider_hailuo.hooks.modelverse import ModelverseHook
from airflow_provider_hailuo.vendors.reseller_prices import PRICES

HOOKS = (MiniMaxHook, DMXAPIHook, ModelverseHook)
SNAPSHOT: dict[str, Any] = {'provider_info': {'package-name': 'airflow-provider-hailuo',
                   'name': 'Hailuo',
                   'description': 'MiniMax Hailuo video generation (text, image, first+last frame, subject '
                                  'reference) through MiniMax, DMXAPI or Modelverse, stored in any object '
                                  'storage.',
                   'versions': ['0.1.0'],
                   'integrations': [{'integration-name': 'Hailuo',
                                     'external-doc-url': 'https://platform.minimaxi.com/docs',
                                     'tags': ['software']}],
                   'hooks': [{'integration-name': 'Hailuo',
                              'python-modules': ['airflow_provider_hailuo.hooks.minimax',
                                                 'airflow_provider_hailuo.hooks.dmxapi',
                                                 'airflow_provider_hailuo.hooks.modelverse']}],
                   'operators': [{'integration-name': 'Hailuo',
                                  'python-modules': ['airflow_provider_hailuo.operators.generate']}],
                   'sensors': [{'integration-name': 'Hailuo',
                                'python-modules': ['airflow_provider_hailuo.sensors.video']}],
                   'triggers': [{'integration-name': 'Hailuo',
                                 'python-modules': ['airflow_provider_hailuo.triggers.video']}],
                   'transfers': [{'source-integration-name': 'Hailuo',
                                  'target-integration-name': 'Common IO',
                                  'python-module': 'airflow_provider_hailuo.transfers.object_storage'}],
                   'connection-types': [{'connection-type': 'hailuo_minimax',
                                         'hook-class-name': 'airflow_provider_hailuo.hooks.minimax.MiniMaxHook',
                                         'hook-name': 'Hailuo (MiniMax)',
                                         'ui-field-behaviour': {'hidden-fields': ['schema', 'port', 'login'],
                                                                'relabeling': {'host': 'Base URL',
                                                                               'password': 'API key'},
                                                                'placeholders': {'host': 'https://api.minimaxi.com '
                                                                                         '(leave empty for '
                                                                                         'the default)',
                                                                                 'password': 'the vendor API '
                                                                                             'key'}},
                                         'conn-fields': {'region': {'label': 'Region',
                                                                    'schema': {'type': ['string', 'null'],
                                                                               'enum': ['china',
                                                                                        'global',
                                                                                        None]},
                                                                    'description': 'china: api.minimaxi.com '
                                                                                   '(default); global: '
                                                                                   'api.minimax.io. Keys are '
                                                                                   'per region.'}}},
                                        {'connection-type': 'hailuo_dmxapi',
                                         'hook-class-name': 'airflow_provider_hailuo.hooks.dmxapi.DMXAPIHook',
                                         'hook-name': 'Hailuo (DMXAPI)',
                                         'ui-field-behaviour': {'hidden-fields': ['schema', 'port', 'login'],
                                                                'relabeling': {'host': 'Base URL',
                                                                               'password': 'API key'},
                                                                'placeholders': {'host': 'https://www.dmxapi.cn '
                                                                                         '(leave empty for '
                                                                                         'the default)',
                                                                                 'password': 'the vendor API '
                                                                                             'key'}},
                                         'conn-fields': {'auth_scheme': {'label': 'Auth scheme',
                                                                         'schema': {'type': ['string',
                                                                                             'null'],
                                                                                    'enum': ['raw',
                                                                                             'bearer',
                                                                                             None]},
                                                                         'description': 'raw: '
                                                                                        "'Authorization: "
                                                                                        "<key>' (default); "
                                                                                        'bearer: '
                                                                                        "'Authorization: "
                                                                                        "Bearer <key>'."}}},
                                        {'connection-type': 'hailuo_modelverse',
                                         'hook-class-name': 'airflow_provider_hailuo.hooks.modelverse.ModelverseHook',
                                         'hook-name': 'Hailuo (Modelverse)',
                                         'ui-field-behaviour': {'hidden-fields': ['schema', 'port', 'login'],
                                                                'relabeling': {'host': 'Base URL',
                                                                               'password': 'API key'},
                                                                'placeholders': {'host': 'https://api.modelverse.cn '
                                                                                         '(leave empty for '
                                                                                         'the default)',
                                                                                 'password': 'the vendor API '
                                                                                             'key'}},
                                         'conn-fields': {}}]},
 'ui': {'hailuo_minimax': {'hidden_fields': ['schema', 'port', 'login'],
                           'relabeling': {'host': 'Base URL', 'password': 'API key'},
                           'placeholders': {'host': 'https://api.minimaxi.com (leave empty for the default)',
                                            'password': 'the vendor API key',
                                            'extra': '{}'}},
        'hailuo_dmxapi': {'hidden_fields': ['schema', 'port', 'login'],
                          'relabeling': {'host': 'Base URL', 'password': 'API key'},
                          'placeholders': {'host': 'https://www.dmxapi.cn (leave empty for the default)',
                                           'password': 'the vendor API key',
                                           'extra': '{}'}},
        'hailuo_modelverse': {'hidden_fields': ['schema', 'port', 'login'],
                              'relabeling': {'host': 'Base URL', 'password': 'API key'},
                              'placeholders': {'host': 'https://api.modelverse.cn (leave empty for the '
                                                       'default)',
                                               'password': 'the vendor API key',
                                               'extra': '{}'}}},
 'hooks': {'hailuo_minimax': ['hailuo_minimax_default', 'Hailuo (MiniMax)', 'hailuo_conn_id'],
           'hailuo_dmxapi': ['hailuo_dmxapi_default', 'Hailuo (DMXAPI)', 'hailuo_conn_id'],
           'hailuo_modelverse': ['hailuo_modelverse_default', 'Hailuo (Modelverse)', 'hailuo_conn_id']}}


def test_provider_info_is_the_published_one() -> None:
    info = get_provider_info()
    # Added since the snapshot (issue 17): the transfer's "Stored video" link. Nothing else may change.
    assert info.pop("extra-links") == ["airflow_provider_hailuo.transfers.links.StoredVideoLink"]
    # Added since (issue 18): the resellers' price table, a JSON object field, on DMXAPI and Modelverse.
    prices = {"hailuo_dmxapi": None, "hailuo_modelverse": None}
    for entry in info["connection-types"]:
        if entry["connection-type"] in prices:
            prices[entry["connection-type"]] = entry["conn-fields"].pop("prices")
    assert prices["hailuo_dmxapi"] == prices["hailuo_modelverse"]
    assert prices["hailuo_dmxapi"]["schema"] == {"type": ["object", "null"]}
    assert '"per_video"' in prices["hailuo_dmxapi"]["description"]
    assert info == SNAPSHOT["provider_info"]


def test_hook_attributes_and_ui_are_the_published_ones() -> None:
    for hook in HOOKS:
        assert [hook.default_conn_name, hook.hook_name, hook.conn_name_attr] == SNAPSHOT["hooks"][hook.conn_type]
        assert hook.get_ui_field_behaviour() == SNAPSHOT["ui"][hook.conn_type]


def test_form_widgets_offer_the_extra_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    """flask_appbuilder and wtforms are not installed with Airflow 3; stand-ins record the fields."""
    fieldwidgets = types.ModuleType("flask_appbuilder.fieldwidgets")
    fieldwidgets.Select2Widget = lambda: "select2"  # type: ignore[attr-defined]
    wtforms = types.ModuleType("wtforms")
    wtforms.SelectField = lambda label, **kwargs: (label, kwargs)  # type: ignore[attr-defined]
    wtforms.TextAreaField = lambda label, **kwargs: (label, kwargs)  # type: ignore[attr-defined]
    fieldwidgets.BS3TextAreaFieldWidget = lambda: "textarea"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "flask_appbuilder", types.ModuleType("flask_appbuilder"))
    monkeypatch.setitem(sys.modules, "flask_appbuilder.fieldwidgets", fieldwidgets)
    monkeypatch.setitem(sys.modules, "wtforms", wtforms)
    assert MiniMaxHook.get_connection_form_widgets() == {"region": ("Region", {
        "choices": [("china", "china (api.minimaxi.com)"), ("global", "global (api.minimax.io)")],
        "widget": "select2", "default": "china"})}
    prices = ("Prices (JSON)", {"widget": "textarea", "description": PRICES.description})
    assert DMXAPIHook.get_connection_form_widgets() == {"auth_scheme": ("Auth scheme", {
        "choices": [("raw", "raw (Authorization: <key>)"), ("bearer", "bearer (Authorization: Bearer <key>)")],
        "widget": "select2", "default": "raw"}), "prices": prices}
    assert ModelverseHook.get_connection_form_widgets() == {"prices": prices}
