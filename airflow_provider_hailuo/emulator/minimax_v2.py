"""MiniMax's video API v2 (MiniMax-H3) on the ``/minimax`` prefix: create, query, list, delete,
Context-IR, regeneration and file uploads, answering as API_V2_NOTES describes.

It shares the emulator's key, request log, faults and options with v1; its tasks, limits and CDN
are its own (``v2_store``, ``v2_cdn``).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .app import _ctx, json_response
from .v2_cdn import V2Cdn
from .v2_config import KEY_TYPES
from .v2_context_ir import expand_prompt
from .v2_errors import error_response, fault_code_response, fault_status_response, malformed_json
from .v2_files import base_resp_error, receive_upload
from .v2_rules import (
    V2Invalid,
    V2Request,
    check_regeneration_shape,
    validate_context_ir,
    validate_create,
    validate_regeneration_content,
)
from .v2_store import DEFAULT_QUEUED_SHARE, V2Task, account_name
from .v2_video import RATIOS, h3_size, ratio_aspect

if TYPE_CHECKING:
    from .app import EmulatorApp
    from .state import Fault

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "expired")
Handler = Callable[[web.Request, str, str, "Fault | None"], Awaitable[web.StreamResponse]]
MAX_PAGE_SIZE = 100
FAIL_CODES = {True: "1027", False: "1000"}
OUTPUT_MODERATION_MESSAGE = "output new_sensitive: the generated video was flagged as sensitive content"


class MiniMaxV2:
    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.state = app.state
        self.store = app.state.v2
        self.cdn = V2Cdn(app)

    # -- routing and the shared front door ---------------------------------------------------------
    def register(self, web_app: web.Application) -> None:
        routes: list[tuple[str, str, str, Handler]] = [
            ("POST", "/v2/video_generation", "v2_submit", self._submit),
            ("GET", "/v2/query/video_generation/{task_id}", "v2_status", self._status),
            ("GET", "/v2/query/video_generation", "v2_list", self._list),
            ("DELETE", "/v2/video_generation/{task_id}", "v2_delete", self._delete),
            ("POST", "/v2/h3_context_ir", "v2_context_ir", self._context_ir),
            ("POST", "/v2/video_regeneration", "v2_regeneration", self._regeneration),
            ("POST", "/v1/files/upload", "v2_upload", self._upload),
        ]
        for method, path, endpoint, handler in routes:
            web_app.router.add_route(
                method, "/minimax" + path, self._front(endpoint, handler), name=f"minimax:{endpoint}"
            )

    def key_type(self, header: str | None) -> tuple[str, str] | None:
        """(account, key type) of a ``Bearer`` header, None when the key is unknown."""
        scheme, _, token = (header or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if hmac.compare_digest(token.encode(), self.app.api_key.encode()):
            return account_name(token, self.app.api_key), "pay_as_you_go"
        for key, key_type in self.state.config_snapshot()["v2_keys"].items():
            if hmac.compare_digest(token.encode(), key.encode()):
                return account_name(token, self.app.api_key), key_type
        return None

    def _front(self, endpoint: str, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def front(request: web.Request) -> web.StreamResponse:
            who = self.key_type(request.headers.get("Authorization"))
            if who is None:
                if endpoint == "v2_upload":
                    return base_resp_error(401, 1004, "login fail: the Authorization header must be 'Bearer <API key>'")
                message = "login fail: please carry a valid API key as 'Authorization: Bearer <key>'"
                return self._error(401, message)
            fault, early = await self._fault(request, endpoint)
            if early is not None:
                return early
            response = await handler(request, *who, fault)
            if fault is not None and fault.kind == "slow_answer":
                await asyncio.sleep(fault.delay or 2.0)  # done at the "vendor", the answer is late
            if fault is not None and fault.kind == "truncated" and isinstance(response, web.Response):
                return await self.app._send_truncated(request, response)
            return response

        return front

    async def _fault(self, request: web.Request, endpoint: str) -> tuple[Fault | None, web.StreamResponse | None]:
        if endpoint == "v2_upload":  # a v1 endpoint: v1's fault answers
            return await self.app._pre_fault(request, "minimax", endpoint)
        fault = self.state.take_fault(endpoint, "minimax")
        if fault is None:
            return None, None
        self.state.update_entry(_ctx().entry, fault=fault.kind)
        if fault.kind == "slow":
            import asyncio

            await asyncio.sleep(fault.delay or 0.0)
            return None, None
        if fault.kind == "reset":
            self.state.update_entry(_ctx().entry, status=None)
            return None, self.app._close_connection(request, reset=True)
        if fault.kind == "http_status":
            return None, fault_status_response(fault.status or 500, _ctx().trace_id)
        if fault.kind == "base_resp":
            return None, fault_code_response(fault.code or 1000, fault.status, _ctx().trace_id)
        if fault.kind == "malformed_json":
            return None, malformed_json()
        return fault, None  # truncated

    def _error(self, status: int, message: str | None = None, code: int | None = None) -> web.Response:
        return error_response(status, message, _ctx().trace_id, code)

    def _config(self) -> dict[str, Any]:
        return self.state.config_snapshot()

    # -- create endpoints -----------------------------------------------------------------------
    async def _admit(
        self, request: web.Request, account: str, key_type: str
    ) -> tuple[dict[str, Any] | None, web.Response | None]:
        """The checks every create shares, in order: body, RPM, key type. (body, error)."""
        body, problem, status = await self.app._read_json(request)
        if problem is not None:
            return None, self._error(status, f"invalid params, {problem}")
        config = self._config()
        if not self.store.admit(account, config["v2_rpm"]):
            return None, self._error(429, f"rate limit exceeded: at most {config['v2_rpm']} requests per minute (RPM)")
        if key_type != "pay_as_you_go":
            plan = KEY_TYPES[key_type]
            return None, self._error(
                400,
                f"invalid params, your {plan} key cannot use MiniMax-H3 (video API v2); "
                "MiniMax-H3 needs a pay-as-you-go API key",
            )
        return body, None

    def _accept(self, account: str, config: dict[str, Any]) -> web.Response | None:
        """Balance, input moderation and the in-flight cap, checked after validation."""
        if config["insufficient_balance"]:
            return self._error(402)
        if config["moderation"] == "input":
            return self._error(422)
        cap = config["v2_max_in_flight"]
        if cap is not None and self.store.in_flight(account, config["v2_task_lifetime"]) >= cap:
            return self._error(
                429, f"too many tasks in flight: at most {cap} queued or running MiniMax-H3 tasks per account"
            )
        return None

    def _create(self, account: str, task_type: str, video: V2Request, **extra: Any) -> web.Response:
        config = self._config()
        generation = float(config["generation_seconds"])
        queue = config["v2_queue_seconds"]
        task = V2Task(
            task_id=self.store.new_id(),
            account=account,
            task_type=task_type,
            model=video.model,
            duration=video.duration,
            resolution=video.resolution,
            ratio=video.ratio,
            width=video.width,
            height=video.height,
            usage=video.usage,
            created_at=time.time(),
            created_mono=time.monotonic(),
            queue_seconds=generation * DEFAULT_QUEUED_SHARE if queue is None else queue,
            generation_seconds=generation,
            final_status=config["final_status"],
            fail_reason=config["fail_reason"],
            moderation_output=config["moderation"] == "output" and task_type != "h3_context_ir",
            synthetic_bytes=config["synthetic_video_bytes"],
            **extra,
        )
        self.store.add(task)
        self.state.update_entry(_ctx().entry, task_id=task.task_id)
        return json_response({"task_id": task.task_id})

    def _lookup(self, account: str) -> Callable[[str], Any]:
        def lookup(file_id: str) -> Any:
            upload = self.store.file(file_id, account)
            return upload.info if upload is not None else None

        return lookup

    async def _admitted(
        self, request: web.Request, account: str, key_type: str, validate: Callable[..., Any]
    ) -> tuple[Any, web.StreamResponse | None]:
        """(the validated request, None), or (None, the error answer): admission, then the rules."""
        body, error = await self._admit(request, account, key_type)
        if error is not None or body is None:
            return None, error or self._error(500)
        try:
            return validate(body, self._lookup(account)), None
        except V2Invalid as exc:
            return None, self._error(400, str(exc))

    async def _submit(
        self, request: web.Request, account: str, key_type: str, fault: Fault | None
    ) -> web.StreamResponse:
        video, error = await self._admitted(request, account, key_type, validate_create)
        if error is not None:
            return error
        return self._accept(account, self._config()) or self._create(account, "generation", video)

    async def _context_ir(
        self, request: web.Request, account: str, key_type: str, fault: Fault | None
    ) -> web.StreamResponse:
        video, error = await self._admitted(request, account, key_type, validate_context_ir)
        if error is not None:
            return error
        prompt, usage = expand_prompt(video.inputs, video.duration, video.ratio)
        video.usage = usage
        return self._accept(account, self._config()) or self._create(account, "h3_context_ir", video, prompt=prompt)

    async def _regeneration(
        self, request: web.Request, account: str, key_type: str, fault: Fault | None
    ) -> web.StreamResponse:
        body, error = await self._admit(request, account, key_type)
        if error is not None or body is None:
            return error or self._error(500)
        config = self._config()
        try:
            form = check_regeneration_shape(body)
            if form == "content":
                video, _base = validate_regeneration_content(body, self._lookup(account))
                return self._accept(account, config) or self._create(account, "regeneration", video)
        except V2Invalid as exc:
            return self._error(400, str(exc))
        if not config["v2_regeneration_access"]:
            return self._error(
                400,
                "invalid params, regeneration from source_task_id needs access granted on request for this account; "
                "send content (the original inputs plus one video_url with role base_video) instead",
            )
        source_id = str(body["source_task_id"])
        source = self._visible(account, source_id)
        if source is None:
            return self._error(400, f"invalid params, invalid source_task_id {source_id}")
        status = source.status(config["v2_task_lifetime"])
        if source.task_type != "generation" or status != "succeeded" or source.resolution != "768P":
            return self._error(
                400,
                f"invalid params, source task {source_id} must be a succeeded 768P generation "
                f"(it is a {status} {source.resolution} {source.task_type} task)",
            )
        aspect = ratio_aspect(source.ratio) if source.ratio in RATIOS else source.width / source.height
        width, height = h3_size("2K", aspect)
        usage = {
            "total_seconds": source.duration,
            "input_seconds": 0,
            "output_seconds": source.duration,
            "input_image_count": 0,
        }
        from .v2_rules import Inputs

        video = V2Request(source.model, source.duration, "2K", source.ratio, width, height, "", usage, Inputs(""))
        return self._accept(account, config) or self._create(account, "regeneration", video, source_task_id=source_id)

    # -- tasks ----------------------------------------------------------------------------------
    def _visible(self, account: str, task_id: str, window: float | None = None) -> V2Task | None:
        """The account's task if it exists and is within the query window."""
        task = self.store.task(task_id)
        if task is None or task.account != account:
            return None
        if time.time() - task.created_at > (self._config()["v2_query_window"] if window is None else window):
            return None
        return task

    def task_view(self, request: web.Request, task: V2Task, lifetime: float) -> dict[str, Any]:
        status = task.status(lifetime)
        view: dict[str, Any] = {
            "id": task.task_id,
            "model": task.model,
            "status": status,
            "created_at": int(task.created_at),
            "updated_at": int(task.updated_at(status)),
            "duration": task.duration,
            "ratio": task.ratio,
            "task_type": task.task_type,
            "modality": task.modality,
        }
        if task.resolution is not None:
            view["resolution"] = task.resolution
        if task.source_task_id is not None:
            view["source_task_id"] = task.source_task_id
        if status == "succeeded":
            if task.modality == "video":
                self.cdn.prerender(task)
                view["content"] = {"url": self.cdn.url(request, task)}
            else:
                view["content"] = {"prompt": task.prompt}
        if status in ("succeeded", "expired"):
            view["usage"] = dict(task.usage)
        elif status in ("failed", "cancelled"):
            view["usage"] = {key: 0 for key in task.usage}
        if status == "failed":
            message = OUTPUT_MODERATION_MESSAGE if task.moderation_output else task.fail_reason
            view["error"] = {"code": FAIL_CODES[task.moderation_output], "message": message}
        return view

    async def _status(
        self, request: web.Request, account: str, key_type: str, fault: Fault | None
    ) -> web.StreamResponse:
        task_id = request.match_info["task_id"]
        self.state.update_entry(_ctx().entry, task_id=task_id)
        task = self._visible(account, task_id)
        if task is None:
            return self._error(400, f"invalid params, invalid task_id {task_id}")
        return json_response({"task": self.task_view(request, task, self._config()["v2_task_lifetime"])})

    async def _list(self, request: web.Request, account: str, key_type: str, fault: Fault | None) -> web.StreamResponse:
        query = request.query
        try:
            page_num = int(query.get("page_num", "1"))
            page_size = int(query.get("page_size", "20"))
        except ValueError:
            return self._error(400, "invalid params, page_num and page_size must be integers")
        if page_num < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            return self._error(400, f"invalid params, page_num must be >= 1 and page_size 1-{MAX_PAGE_SIZE}")
        status_filter = query.get("filter.status") or None
        if status_filter is not None and status_filter not in STATUSES:
            return self._error(400, f"invalid params, filter.status must be one of {', '.join(STATUSES)}")
        ids = {part.strip() for part in query.get("filter.task_ids", "").split(",") if part.strip()}
        model, task_type = query.get("filter.model") or None, query.get("filter.task_type") or None
        config = self._config()
        lifetime, window = config["v2_task_lifetime"], config["v2_query_window"]
        tasks = [task for task in self.store.account_tasks(account) if self._visible(account, task.task_id, window)]
        tasks = [
            task
            for task in tasks
            if (status_filter is None or task.status(lifetime) == status_filter)
            and (not ids or task.task_id in ids)
            and (model is None or task.model == model)
            and (task_type is None or task.task_type == task_type)
        ]
        tasks.sort(key=lambda task: (task.created_at, task.task_id), reverse=True)
        page = tasks[(page_num - 1) * page_size : page_num * page_size]
        return json_response({"items": [self.task_view(request, task, lifetime) for task in page], "total": len(tasks)})

    async def _delete(
        self, request: web.Request, account: str, key_type: str, fault: Fault | None
    ) -> web.StreamResponse:
        task_id = request.match_info["task_id"]
        self.state.update_entry(_ctx().entry, task_id=task_id)
        task = self._visible(account, task_id)
        if task is None:
            return self._error(400, f"invalid params, invalid task_id {task_id}")
        with self.state.lock:
            status = task.status(self._config()["v2_task_lifetime"])
            if status == "queued":
                task.cancelled_at = time.time()
                return json_response({"task_id": task_id, "action": "cancelled", "status": "cancelled"})
        if status in ("running", "cancelled"):
            return self._error(
                400,
                f"invalid params, task {task_id} is {status}: only queued tasks can be cancelled, "
                "and only succeeded or failed ones deleted",
            )
        self.store.remove(task)
        return json_response({"task_id": task_id, "action": "deleted", "status": "deleted"})

    async def _upload(
        self, request: web.Request, account: str, key_type: str, fault: Fault | None
    ) -> web.StreamResponse:
        return await receive_upload(self.state, request, account)
