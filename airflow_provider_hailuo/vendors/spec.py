"""What a vendor API declares about itself, so hooks, forms and provider metadata are derived.

Each dialect module holds one :class:`VendorSpec`: its connection type, hook, default conn id,
base URLs, the connection's extra fields (choices, validation, form and provider metadata) and
how the key is sent. Nothing outside ``vendors/`` spells a vendor's name, URL or field.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_hailuo.exceptions import HailuoConfigurationError


class AuthStyle(str, enum.Enum):
    """How the API key goes in the ``Authorization`` header."""

    BEARER = "bearer"  # Authorization: Bearer <key>
    RAW = "raw"  # Authorization: <key>

    def headers(self, api_key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}" if self is AuthStyle.BEARER else api_key}


@dataclass(frozen=True)
class Choice:
    """One allowed value of an extra field; ``hint`` says what it means (shown in errors and forms)."""

    value: str
    hint: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExtraField:
    """A connection extra with a closed set of values (e.g. MiniMax's ``region``)."""

    name: str
    label: str
    description: str
    choices: tuple[Choice, ...]
    default: str

    def parse(self, extra: Mapping[str, Any]) -> str:
        """The chosen value (the default when unset); an unknown one raises naming the field."""
        raw = extra.get(self.name)
        if raw in (None, ""):
            return self.default
        key = str(raw).strip().lower()
        for choice in self.choices:
            if key == choice.value or key in choice.aliases:
                return choice.value
        allowed = " or ".join(f"'{c.value}' ({c.hint})" for c in self.choices)
        raise HailuoConfigurationError(
            f"connection extra {self.name} {raw!r} is not known; allowed: {allowed}.",
            parameter=self.name,
            value=raw,
        )

    def conn_field(self) -> dict[str, Any]:
        """The ``conn-fields`` entry of provider metadata (Airflow 3.2+ connection forms)."""
        return {
            "label": self.label,
            "schema": {"type": ["string", "null"], "enum": [c.value for c in self.choices] + [None]},
            "description": self.description,
        }

    def form_widget(self) -> Any:
        """The WTForms field for older UIs (``get_connection_form_widgets``)."""
        from flask_appbuilder.fieldwidgets import Select2Widget
        from wtforms import SelectField

        def shown(choice: Choice) -> str:
            return f"{choice.value} ({choice.hint})"

        return SelectField(self.label, choices=[(c.value, shown(c)) for c in self.choices], widget=Select2Widget(),
                           default=self.default)


@dataclass(frozen=True)
class JsonExtraField:
    """A connection extra holding a JSON object (a reseller's ``prices``): a JSON editor in the form."""

    name: str
    label: str
    description: str

    def conn_field(self) -> dict[str, Any]:
        return {"label": self.label, "schema": {"type": ["object", "null"]}, "description": self.description}

    def form_widget(self) -> Any:
        """A text area for older UIs; its JSON text is parsed where the field is read."""
        from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget
        from wtforms import TextAreaField

        return TextAreaField(self.label, widget=BS3TextAreaFieldWidget(), description=self.description)


@dataclass(frozen=True)
class VendorSpec:
    """Everything the Airflow side needs to know about one vendor API's connection."""

    #: The vendor's word in results, events and logs (``"vendor"`` of the video result dict).
    name: str
    display_name: str
    conn_type: str
    hook_name: str
    #: ``module.Class`` of the hook; the contract names these. Empty: a generic hook is made.
    hook_class_path: str
    default_conn_id: str
    default_base_url: str
    extra_fields: tuple[ExtraField | JsonExtraField, ...] = ()
    #: The extra field whose value picks the base URL, and value -> base URL.
    base_url_field: str | None = None
    base_urls: Mapping[str, str] = field(default_factory=dict)
    auth: AuthStyle = AuthStyle.BEARER
    #: The extra field whose value names the AuthStyle (DMXAPI's ``auth_scheme``), if any.
    auth_field: str | None = None
    #: The vendor's API documentation (provider metadata).
    doc_url: str = ""

    def extra_field(self, name: str) -> ExtraField:
        return next(f for f in self.extra_fields if f.name == name and isinstance(f, ExtraField))

    def base_url(self, extra: Mapping[str, Any]) -> str:
        if self.base_url_field is None:
            return self.default_base_url
        return self.base_urls[self.extra_field(self.base_url_field).parse(extra)]

    def auth_headers(self, api_key: str, extra: Mapping[str, Any]) -> dict[str, str]:
        style = self.auth if self.auth_field is None else AuthStyle(self.extra_field(self.auth_field).parse(extra))
        return style.headers(api_key)

    # -- what Airflow's UI and ProvidersManager read ----------------------------------------------
    def ui_field_behaviour(self) -> dict[str, Any]:
        """The hook's ``get_ui_field_behaviour()`` (older UIs)."""
        return {
            "hidden_fields": ["schema", "port", "login"],
            "relabeling": {"host": "Base URL", "password": "API key"},
            "placeholders": {
                "host": f"{self.default_base_url} (leave empty for the default)",
                "password": "the vendor API key",
                "extra": "{}",
            },
        }

    def connection_type_info(self) -> dict[str, Any]:
        """This connection type's entry in ``get_provider_info()["connection-types"]``."""
        return {
            "connection-type": self.conn_type,
            "hook-class-name": self.hook_class_path,
            "hook-name": self.hook_name,
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "port", "login"],
                "relabeling": {"host": "Base URL", "password": "API key"},
                "placeholders": {"host": f"{self.default_base_url} (leave empty for the default)",
                                 "password": "the vendor API key"},
            },
            "conn-fields": {f.name: f.conn_field() for f in self.extra_fields},
        }

    def form_widgets(self) -> dict[str, Any]:
        return {f.name: f.form_widget() for f in self.extra_fields}
