"""Fault injection on any surface: resets, truncated bodies, HTTP errors, garbled JSON, error codes,
slow answers and expired URLs, taken from the faults the control API queued (state.take_fault)."""

from __future__ import annotations

import asyncio
import secrets
import socket
import struct
from http import HTTPStatus

from aiohttp import web

from .core import AppCore
from .signing import oss_error_xml
from .state import Fault
from .vendor_styles import HTTP_ERROR_CODES
from .web_io import JSON_TYPE, ctx, json_response


class Faults(AppCore):
    def _close_connection(self, request: web.Request, *, reset: bool) -> web.Response:
        """Close the TCP connection now: with an RST (``reset``), or after flushing what was
        written (truncated bodies). The returned response can no longer be sent: aiohttp notices
        the closed transport and drops it quietly."""
        ctx().aborted = True
        transport = request.transport
        if transport is not None:
            if reset:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    except OSError:  # pragma: no cover
                        pass
                transport.abort()
            else:
                transport.close()
        return web.Response(status=499)

    async def _send_truncated(self, request: web.Request, response: web.Response) -> web.StreamResponse:
        body = bytes(response.body or b"")  # type: ignore[arg-type]
        stream = web.StreamResponse(status=response.status, headers=response.headers)
        stream.content_length = len(body)
        self.state.update_entry(ctx().entry, status=response.status)
        await stream.prepare(request)
        await stream.write(body[: len(body) // 2])
        self._close_connection(request, reset=False)
        return stream

    def _http_fault_response(self, vendor: str | None, endpoint: str, status: int) -> web.Response:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Error"
        if endpoint in ("download", "backup_download", "v2_download"):
            code = "ServiceUnavailable" if status == 503 else "InternalError"
            return web.Response(
                text=oss_error_xml(code, secrets.token_hex(12).upper()), status=status, content_type="application/xml"
            )
        if vendor == "modelverse":
            return json_response(
                {
                    "error": {"code": HTTP_ERROR_CODES.get(status, "error"), "message": f"{status} {reason}"},
                    "request_id": self._request_id(),
                },
                status=status,
            )
        html = (
            f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        )
        return web.Response(text=html, status=status, content_type="text/html")

    def _malformed_json(self, vendor: str | None) -> web.Response:
        if vendor == "modelverse":
            text = '{"output": {"task_id": "1", "task_status": "Succ'
        else:
            text = '{"task_id": "1", "status": "Success", "base_resp": {"status_code": 0, "status_msg": "succ'
        return web.Response(text=text, status=200, content_type=JSON_TYPE)

    async def _pre_fault(
        self, request: web.Request, vendor: str | None, endpoint: str
    ) -> tuple[Fault | None, web.StreamResponse | None]:
        """Take a matching fault. Returns (fault still to apply later, response to send now)."""
        fault = self.state.take_fault(endpoint, vendor)
        if fault is None:
            return None, None
        entry = ctx().entry
        self.state.update_entry(entry, fault=fault.kind)
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay or 0.0)
            return None, None
        if fault.kind == "reset":
            self.state.update_entry(entry, status=None)
            return None, self._close_connection(request, reset=True)
        if fault.kind == "http_status":
            return None, self._http_fault_response(vendor, endpoint, fault.status or 500)
        if fault.kind == "malformed_json":
            return None, self._malformed_json(vendor)
        if fault.kind == "base_resp":
            code = fault.code if fault.code is not None else 1000
            if endpoint in ("download", "backup_download", "v2_download"):
                return None, self._http_fault_response(vendor, endpoint, fault.status or 500)
            return None, self._vendor_error(vendor or "minimax", endpoint, code, http_status=fault.status)
        if fault.kind == "expired_url":
            return None, self._oss_error(request, "Expired", 403, expires=request.query.get("Expires"))
        return fault, None  # truncated: applied while sending
