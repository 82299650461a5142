"""Error hints of a failed download, read with real parsers."""

from __future__ import annotations

from airflow_provider_hailuo.transfers.error_hints import json_error_message, xml_error_code
from airflow_provider_hailuo.vendors.minimax import MiniMaxDialect
from airflow_provider_hailuo.vendors.modelverse import ModelverseDialect

OSS_ERROR = ("<?xml version='1.0' encoding='UTF-8'?>\n<Error>\n  <Code>AccessDenied</Code>\n"
             "  <Message>Request has expired.</Message>\n  <RequestId>5F1</RequestId>\n</Error>")


def test_the_xml_code_of_an_object_store_error() -> None:
    assert xml_error_code(OSS_ERROR) == "AccessDenied"
    assert xml_error_code("<Error><Message>no code here</Message></Error>") is None
    assert xml_error_code("<Error><Code>Cut") == "Cut"  # a body cut at the limit still names its code
    assert xml_error_code("not xml at all") is None


def test_an_xml_body_declaring_entities_gives_no_hint() -> None:
    bomb = ('<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            "<Error><Code>&b;</Code></Error>")
    assert xml_error_code(bomb) is None


def test_json_reasons_are_read_the_way_the_vendor_writes_them() -> None:
    base_resp = '{"base_resp": {"status_code": 1004, "status_msg": "login fail"}}'
    assert json_error_message(base_resp, MiniMaxDialect()) == "login fail"
    assert json_error_message('{"error": {"code": "x", "message": "quota"}}', ModelverseDialect()) == "quota"
    assert json_error_message("[1, 2]", MiniMaxDialect()) is None
    assert json_error_message("{broken", MiniMaxDialect()) is None
