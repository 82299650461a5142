"""Vendor dialects: one sans-I/O module per vendor API."""

from __future__ import annotations

from airflow_provider_hailuo.vendors.base import HttpRequest, HttpResponse, VendorDialect
from airflow_provider_hailuo.vendors.dmxapi import DMXAPIDialect
from airflow_provider_hailuo.vendors.minimax import MiniMaxDialect
from airflow_provider_hailuo.vendors.modelverse import ModelverseDialect

DIALECTS: dict[str, type[VendorDialect]] = {
    MiniMaxDialect.name: MiniMaxDialect,
    DMXAPIDialect.name: DMXAPIDialect,
    ModelverseDialect.name: ModelverseDialect,
}

__all__ = ["DIALECTS", "DMXAPIDialect", "HttpRequest", "HttpResponse", "MiniMaxDialect", "ModelverseDialect",
           "VendorDialect"]
