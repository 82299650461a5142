"""The v1 video API family (MiniMax, DMXAPI, Modelverse): auth, submit, status, files, errors.

The three v1 surfaces share these handlers; each surface module (surfaces/) names its routes.
The vendors' own wording (codes, phases) is in vendor_styles.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .catalog import InvalidParams, flatten_modelverse, validate_submit
from .core import AppCore
from .signing import BACKUP_PREFIX, FILENAME, PRIMARY_PREFIX
from .state import Fault, Task
from .vendor_styles import BASE_RESP_MESSAGES, FINAL_STATUS, HTTP_ERROR_CODES, MODELVERSE_ERRORS, PHASES
from .web_io import ctx, json_response


class VendorApi(AppCore):
    def _authorized(self, vendor: str | None, header: str | None) -> bool:
        if not header:
            return False
        header = header.strip()
        scheme, _, rest = header.partition(" ")
        bearer = scheme.lower() == "bearer" and self._key_matches(rest.strip())
        raw = self._key_matches(header)
        if vendor == "minimax":
            return bearer or self.v2.key_type(header) is not None  # v2_keys work on v1 too
        if vendor == "modelverse":
            return raw
        return bearer or raw  # dmxapi and the control endpoints

    def _base_resp(self, code: int, message: str | None = None) -> dict[str, Any]:
        return {"status_code": code, "status_msg": message or BASE_RESP_MESSAGES.get(code, "error")}

    def _vendor_error(
        self,
        vendor: str,
        endpoint: str,
        code: int,
        message: str | None = None,
        *,
        http_status: int | None = None,
        task_id: str | None = None,
    ) -> web.Response:
        """An error in the vendor's own style (base_resp with HTTP 200, or Modelverse HTTP errors)."""
        if vendor == "modelverse":
            default_status, error_code = MODELVERSE_ERRORS.get(code, (500, "internal_error"))
            status = http_status or default_status
            if http_status and code not in MODELVERSE_ERRORS:
                error_code = HTTP_ERROR_CODES.get(status, "error")
            return json_response(
                {
                    "error": {"code": error_code, "message": message or BASE_RESP_MESSAGES.get(code, "error")},
                    "request_id": self._request_id(),
                },
                status=status,
            )
        body: dict[str, Any] = {}
        if endpoint == "submit":
            body["task_id"] = ""
        elif endpoint == "status":
            body["task_id"] = task_id or ""
            body["status"] = ""
        body["base_resp"] = self._base_resp(code, message)
        return json_response(body, status=http_status or 200)

    def _auth_error(self, vendor: str, endpoint: str, header: str | None) -> web.Response:
        if vendor == "modelverse":
            message = (
                "missing API key: send 'Authorization: <key>'"
                if not header
                else "invalid API key (Modelverse expects the raw key: 'Authorization: <key>')"
            )
            return json_response(
                {"error": {"code": "invalid_api_key", "message": message}, "request_id": self._request_id()},
                status=401,
            )
        if not header:
            message = "login fail: Please carry the API secret key in the 'Authorization' field of the request header"
        elif vendor == "minimax" and not header.strip().lower().startswith("bearer "):
            message = "login fail: the Authorization header must be 'Bearer <API key>'"
        else:
            message = "login fail: invalid API key"
        return self._vendor_error(vendor, endpoint, 1004, message)

    def _vendor_handler(self, vendor: str, endpoint: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        implementations: dict[str, Callable[[web.Request, str, Fault | None], Awaitable[web.StreamResponse]]] = {
            "submit": self._submit,
            "status": self._status,
            "retrieve": self._retrieve,
            "retrieve_content": self._retrieve_content,
        }
        implementation = implementations[endpoint]

        async def handler(request: web.Request) -> web.StreamResponse:
            header = request.headers.get("Authorization")
            if not self._authorized(vendor, header):
                return self._auth_error(vendor, endpoint, header)
            fault, early = await self._pre_fault(request, vendor, endpoint)
            if early is not None:
                return early
            response = await implementation(request, vendor, fault)
            if fault is not None and fault.kind == "slow_answer":
                await asyncio.sleep(fault.delay or 2.0)  # done at the "vendor", the answer is late
            if fault is not None and fault.kind == "truncated" and isinstance(response, web.Response):
                return await self._send_truncated(request, response)
            return response

        return handler

    async def _submit(self, request: web.Request, vendor: str, fault: Fault | None) -> web.StreamResponse:
        body, error, http_status = await self._read_json(request)
        if error is not None:
            code = 2013
            if vendor == "modelverse":
                return self._vendor_error(vendor, "submit", code, f"invalid params, {error}", http_status=http_status)
            return self._vendor_error(
                vendor, "submit", code, f"invalid params, {error}", http_status=413 if http_status == 413 else None
            )
        if not self.state.admit_submit(vendor):
            return self._vendor_error(vendor, "submit", 1002)
        config = self.state.config_snapshot()
        if config["insufficient_balance"]:
            return self._vendor_error(vendor, "submit", 1008)
        try:
            flat = flatten_modelverse(body) if vendor == "modelverse" else body
            video = validate_submit(vendor, flat)
        except InvalidParams as exc:
            return self._vendor_error(vendor, "submit", 2013, str(exc))
        if config["moderation"] == "input":
            return self._vendor_error(vendor, "submit", 1026)
        task = self.state.create_task(vendor, video)
        self.state.update_entry(ctx().entry, task_id=task.task_id)
        if vendor == "modelverse":
            return json_response({"output": {"task_id": task.task_id}, "request_id": self._request_id()})
        return json_response({"task_id": task.task_id, "base_resp": self._base_resp(0)})

    def _phase(self, task: Task) -> tuple[str, bool]:
        """(vendor status word, finished)."""
        progress = task.progress()
        if progress >= 1.0:
            success, failure = FINAL_STATUS[task.vendor]
            return (success if task.succeeded else failure), True
        for limit, word in PHASES[task.vendor]:
            if progress < limit:
                return word, False
        return PHASES[task.vendor][-1][1], False  # pragma: no cover

    def _failure_reason(self, task: Task) -> str:
        if task.moderation_output:
            return BASE_RESP_MESSAGES[1027]
        return task.fail_reason

    async def _status(self, request: web.Request, vendor: str, fault: Fault | None) -> web.StreamResponse:
        task_id = request.query.get("task_id", "").strip()
        entry = ctx().entry
        self.state.update_entry(entry, task_id=task_id or None)
        if not task_id:
            if vendor == "modelverse":
                return self._vendor_error(vendor, "status", 2013, "task_id is required", http_status=400)
            return self._vendor_error(vendor, "status", 2013, "invalid params, task_id is required")
        task = self.state.task(vendor, task_id)
        if task is None:
            if vendor == "modelverse":
                return self._vendor_error(vendor, "status", 2013, f"task {task_id} not found", http_status=404)
            return self._vendor_error(
                vendor, "status", 2013, f"invalid params, task_id {task_id} not found", task_id=task_id
            )
        word, finished = self._phase(task)
        if finished and task.succeeded and task.synthetic_bytes is None:
            self._prerender(task)
        if vendor == "modelverse":
            output: dict[str, Any] = {
                "task_id": task.task_id,
                "task_status": word,
                "submit_time": int(task.created_at),
            }
            if finished:
                output["finish_time"] = int(task.finished_at)
                if task.succeeded:
                    output["urls"] = [self._signed_url(request, task, PRIMARY_PREFIX)]
                else:
                    output["error_message"] = self._failure_reason(task)
            return json_response(
                {"output": output, "usage": {"duration": task.request.duration}, "request_id": self._request_id()}
            )
        body: dict[str, Any] = {"task_id": task.task_id, "status": word}
        base_resp = self._base_resp(0)
        if finished and task.succeeded:
            body["file_id"] = task.file_id
            body["video_width"] = task.request.width
            body["video_height"] = task.request.height
        elif finished:
            reason = self._failure_reason(task)
            body["error_message"] = reason
            base_resp = self._base_resp(1027, reason) if task.moderation_output else self._base_resp(0, reason)
        body["base_resp"] = base_resp
        return json_response(body)

    def _file_for(self, request: web.Request, vendor: str, endpoint: str) -> tuple[Task | None, web.Response | None]:
        file_id = request.query.get("file_id", "").strip()
        task_id = request.query.get("task_id", "").strip()
        if not file_id:
            return None, self._vendor_error(vendor, endpoint, 2013, "invalid params, file_id is required")
        task = self.state.file(vendor, file_id)
        if task is None or not task.succeeded or task.progress() < 1.0:
            return None, self._vendor_error(vendor, endpoint, 2013, f"invalid params, file {file_id} not found")
        if vendor == "dmxapi" and task_id and task_id != task.task_id:
            return None, self._vendor_error(
                vendor, endpoint, 2013, f"invalid params, file {file_id} does not belong to task {task_id}"
            )
        self.state.update_entry(ctx().entry, task_id=task.task_id)
        return task, None

    async def _retrieve(self, request: web.Request, vendor: str, fault: Fault | None) -> web.StreamResponse:
        task, error = self._file_for(request, vendor, "retrieve")
        if error is not None or task is None:
            return error or self._vendor_error(vendor, "retrieve", 1000)
        if task.synthetic_bytes is None:
            self._prerender(task)
        file_info: dict[str, Any] = {
            "file_id": int(task.file_id),
            "bytes": 0,
            "created_at": int(task.finished_at),
            "filename": FILENAME,
            "purpose": "video_generation",
            "download_url": self._signed_url(request, task, PRIMARY_PREFIX),
        }
        if vendor == "minimax":
            file_info["backup_download_url"] = self._signed_url(request, task, BACKUP_PREFIX)
        return json_response({"file": file_info, "base_resp": self._base_resp(0)})

    async def _retrieve_content(self, request: web.Request, vendor: str, fault: Fault | None) -> web.StreamResponse:
        task, error = self._file_for(request, vendor, "retrieve_content")
        if error is not None or task is None:
            return error or self._vendor_error(vendor, "retrieve_content", 1000)
        return await self._serve_video(request, task, fault, vendor_errors=True)
