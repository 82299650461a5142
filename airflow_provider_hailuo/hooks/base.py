"""The hook shared by every vendor API: connection -> base URL, key, dialect, transports.

Hooks are thin. Everything a vendor does differently lives in its dialect and its spec (conn
type, default conn id, form fields, UI behaviour are read from the spec); the hook only reads
the Airflow connection (sync in workers, async-safe in the triggerer) and hands the dialect's
HttpRequests to the transports.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import urlparse

from airflow.sdk import BaseHook

from airflow_provider_hailuo import metrics
from airflow_provider_hailuo.core.models import DownloadLocation, TaskStatus
from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.exceptions import (
    HailuoAuthenticationError,
    HailuoConfigurationError,
    HailuoError,
)
from airflow_provider_hailuo.hooks.polling import PollingClient
from airflow_provider_hailuo.transport.aio import AsyncTransport
from airflow_provider_hailuo.transport.policy import DEFAULT_POLICY, RetryPolicy
from airflow_provider_hailuo.transport.sync import SyncTransport
from airflow_provider_hailuo.transport.urls import is_loopback_host, join_url
from airflow_provider_hailuo.vendors.base import VendorDialect, require_api_key

log = logging.getLogger(__name__)

#: Task id used by test_connection: a status query for it costs nothing and proves the key.
PROBE_TASK_ID = "0"


@dataclass(frozen=True)
class ClientSettings:
    """What a transport needs. ``headers`` holds the key: never log or serialise this object."""

    base_url: str
    headers: Mapping[str, str] = field(repr=False)


def connection_not_found(exc: BaseException, conn_id: str, conn_types: str | None = None) -> None:
    """Raise HailuoConfigurationError when ``exc`` says the connection does not exist; else return."""
    if conn_types is None:
        from airflow_provider_hailuo.vendors.registry import conn_types_text

        conn_types = conn_types_text()
    if exc.__class__.__name__ in ("AirflowNotFoundException", "ConnectionNotFound"):
        raise HailuoConfigurationError(
            f"connection {conn_id!r} is not defined. Create it with conn_type {conn_types} (API key in the "
            f"password field), or set AIRFLOW_CONN_{conn_id.upper()}.",
            parameter="hailuo_conn_id",
            value=conn_id,
        ) from None


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"))


def resolve_base_url(dialect: VendorDialect, conn_id: str, host: str | None, port: int | None,
                     schema: str | None, extra: Mapping[str, Any]) -> str:
    """The connection's host overrides the vendor default; it may carry scheme, port and a path prefix."""
    if not host or not host.strip():
        base = dialect.base_url(extra)
    else:
        host = host.strip()
        if "://" not in host:
            bare = host.split("/", 1)[0].rsplit(":", 1)[0] if not host.startswith("[") else host
            scheme = "http" if is_loopback_host(bare) else "https"
            host = f"{scheme}://{host}"
        parsed = urlparse(host)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise HailuoConfigurationError(
                f"connection {conn_id!r} has host {host!r}; expected a base URL such as "
                f"{dialect.default_base_url} or http://127.0.0.1:8089/{dialect.name}.",
                parameter="host",
                value=host,
            )
        base = host.rstrip("/")
        if port and parsed.port is None:
            base = parsed._replace(netloc=f"{parsed.netloc}:{port}").geturl().rstrip("/")
        if schema and not parsed.path.strip("/"):
            base = join_url(base, schema)
    parsed = urlparse(base)
    if parsed.scheme == "http" and not is_loopback_host(parsed.hostname) and not _truthy(
        extra.get("allow_insecure_http")
    ):
        raise HailuoConfigurationError(
            f"connection {conn_id!r} points at {base!r} over plain http: the API key would cross the network "
            "unencrypted. Use https, or set extra allow_insecure_http: true if you accept that.",
            parameter="host",
            value=base,
        )
    return base


class HailuoHook(BaseHook):
    """Base of every vendor's hook; a subclass names its ``dialect_class``, the rest is the spec's."""

    conn_name_attr = "hailuo_conn_id"
    default_conn_name: ClassVar[str] = ""
    conn_type: ClassVar[str] = ""
    hook_name: ClassVar[str] = ""
    dialect_class: ClassVar[type[VendorDialect]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dialect = cls.__dict__.get("dialect_class")
        if dialect is not None:  # Airflow's ProvidersManager reads these class attributes
            cls.conn_type, cls.default_conn_name, cls.hook_name = (
                dialect.spec.conn_type, dialect.spec.default_conn_id, dialect.spec.hook_name)

    def __init__(self, hailuo_conn_id: str | None = None, *, retry_policy: RetryPolicy | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hailuo_conn_id = hailuo_conn_id or self.default_conn_name
        self.retry_policy = retry_policy or DEFAULT_POLICY
        self.dialect = self.dialect_class()

    @property
    def vendor(self) -> str:
        return self.dialect.name

    @property
    def api(self) -> str:
        """Which of the vendor's APIs this hook talks to ("v1", or "v2" for MiniMax-H3)."""
        return self.dialect.api

    def for_api(self, api: str, model: object = None) -> HailuoHook:
        """This connection bound to API ``api``: same key, host and retry policy, that API's dialect.

        Raises ``HailuoInvalidRequestError`` (parameter ``model``) when the vendor does not serve it.
        """
        if api == self.dialect.api:
            return self
        bound: dict[str, HailuoHook] = self.__dict__.setdefault("_api_hooks", {})
        if api not in bound:
            other = type(self)(self.hailuo_conn_id, retry_policy=self.retry_policy)
            other.dialect = self.dialect.for_api(api, model)
            for shared in ("_prefetched_connection",):
                if shared in self.__dict__:
                    other.__dict__[shared] = self.__dict__[shared]
            bound[api] = other
        return bound[api]

    # -- connection --------------------------------------------------------------------------
    def _settings_from(self, conn: Any, extra: Mapping[str, Any]) -> ClientSettings:
        conn_type = getattr(conn, "conn_type", None)
        if conn_type and conn_type.replace("-", "_") != self.conn_type:
            raise HailuoConfigurationError(
                f"connection {self.hailuo_conn_id!r} has conn_type {conn_type!r}, but {type(self).__name__} "
                f"needs {self.conn_type!r}.",
                parameter="hailuo_conn_id",
                value=self.hailuo_conn_id,
            )
        api_key = require_api_key(conn.password, self.dialect.display_name, self.hailuo_conn_id)
        self.dialect.configure(extra, self.hailuo_conn_id)
        base_url = resolve_base_url(self.dialect, self.hailuo_conn_id, conn.host, conn.port, conn.schema, extra)
        return ClientSettings(base_url, self.dialect.auth_headers(api_key, extra))

    @cached_property
    def settings(self) -> ClientSettings:
        conn = self._get_connection_or_raise()
        settings = self._settings_from(conn, conn.extra_dejson)
        _mask(conn.password)
        return settings

    def _get_connection_or_raise(self) -> Any:
        try:
            return self.get_connection(self.hailuo_conn_id)
        except HailuoError:
            raise
        except Exception as exc:
            connection_not_found(exc, self.hailuo_conn_id, repr(self.conn_type))
            raise

    async def aget_settings(self) -> ClientSettings:
        """Read the connection without blocking the loop (triggers: before every poll, the read shared
        with any in flight); an unchanged connection reuses the last settings and masking."""
        from airflow.providers.common.compat.connection import get_async_extra_dejson

        from airflow_provider_hailuo.hooks.connection_reads import fingerprint, read_connection

        conn = self.__dict__.pop("_prefetched_connection", None)
        try:
            if conn is None:
                conn = await read_connection(self.hailuo_conn_id, type(self))
        except Exception as exc:
            connection_not_found(exc, self.hailuo_conn_id, repr(self.conn_type))
            raise
        cached = self.__dict__.get("_async_settings")
        if cached is not None and cached[0] is conn:  # the same read's answer (polls that shared one)
            return cached[2]  # type: ignore[no-any-return]
        digest = fingerprint(conn)
        if cached is None or cached[1] != digest:  # new or changed: derive (and mask) again
            cached = (conn, digest, self._settings_from(conn, await get_async_extra_dejson(conn)))
            await _amask(conn.password)
        self.__dict__["_async_settings"] = (conn, digest, cached[2])
        return cached[2]  # type: ignore[no-any-return]

    # -- transports --------------------------------------------------------------------------
    @cached_property
    def transport(self) -> SyncTransport:
        settings = self.settings
        return SyncTransport(settings.base_url, settings.headers, vendor=self.vendor, policy=self.retry_policy)

    def get_conn(self) -> SyncTransport:
        return self.transport

    def polling_client(self) -> PollingClient:
        """What a trigger polls through: connection re-read per poll, session shared in the loop."""
        return PollingClient(self)

    async def async_transport(self) -> AsyncTransport:
        """An AsyncTransport bound to this connection; use it as ``async with``."""
        settings = await self.aget_settings()
        return AsyncTransport(settings.base_url, settings.headers, vendor=self.vendor, policy=self.retry_policy)

    # -- API ---------------------------------------------------------------------------------
    def check_request(self, request: VideoRequest) -> None:
        """Vendor-specific checks (e.g. a mode the vendor does not sell); no I/O."""
        self.dialect.check_supported(request)

    def submit(self, request: Any, *, between_attempts: Callable[[float], None] | None = None) -> str:
        """Submit one generation; returns the vendor task id. Not retried on ambiguous failures.

        Media marked for upload (too large to inline) are uploaded first (``mm_file://`` ids).
        ``between_attempts(seconds)`` replaces the sleep before a repeat (a repeat follows only an
        answer that certainly created nothing): the operator uses it to drop its "submitting" marker.
        """
        request = self.upload_pending(request)
        http_request = self.dialect.build_submit(request)
        video_task_id = self.transport.execute(http_request, self.dialect.parse_submit,
                                               sleep=between_attempts or time.sleep)
        metrics.submitted(self.vendor, self.api, getattr(request, "model", None))
        return video_task_id

    def upload_pending(self, request: Any) -> Any:
        """The request with every medium its ``pending_uploads`` lists uploaded (a no-op for v1)."""
        for index, item in list(getattr(request, "pending_uploads", ())):
            file_id = self.transport.execute(self.dialect.build_upload(item.upload), self.dialect.parse_upload)
            log.info("Uploaded %s (%s, %s bytes) as file %s", item.parameter, item.source, item.size, file_id)
            request = request.with_uploaded(index, file_id)
        return request

    def enhance_prompt(self, request: Any) -> str:
        """Submit a prompt-enhancer task (H3-Context-IR); returns its task id, polled like a video task."""
        request = self.upload_pending(request)
        return self.transport.execute(self.dialect.build_context_ir(request), self.dialect.parse_submit)

    def regenerate(self, model: str, *, source_task_id: str | None = None, request: Any = None,
                   base_video_url: str | None = None) -> str:
        """Submit a re-render (2K) of a finished video; returns the new task id. Not repeated when ambiguous."""
        http_request = self.dialect.build_regeneration(model, source_task_id=source_task_id, request=request,
                                                       base_video_url=base_video_url)
        video_task_id = self.transport.execute(http_request, self.dialect.parse_submit)
        metrics.submitted(self.vendor, self.api, model)
        return video_task_id

    def cancel(self, task_id: str) -> Any:
        """Cancel a queued task (not charged) or delete a finished one, where the API has the call."""
        request = self.dialect.build_cancel(task_id)
        outcome = self.transport.execute(request, lambda response: self.dialect.parse_cancel(response, task_id))
        metrics.cancelled(self.vendor, self.api)
        return outcome

    async def acancel(self, task_id: str, transport: AsyncTransport) -> Any:
        request = self.dialect.build_cancel(task_id)
        outcome = await transport.execute(request, lambda response: self.dialect.parse_cancel(response, task_id))
        metrics.cancelled(self.vendor, self.api)
        return outcome

    def list_tasks(self, **filters: Any) -> Any:
        """One page of the vendor's recent tasks (v2: ``page_num``, ``page_size``, ``status``, ...)."""
        request = self.dialect.build_list(**filters)
        return self.transport.execute(request, self.dialect.parse_list)

    def get_status(self, task_id: str) -> TaskStatus:
        request = self.dialect.build_status(task_id)
        metrics.status_queried(self.vendor, self.api)
        return self.transport.execute(request, lambda response: self.dialect.parse_status(response, task_id))

    async def aget_status(self, task_id: str, transport: AsyncTransport) -> TaskStatus:
        request = self.dialect.build_status(task_id)
        metrics.status_queried(self.vendor, self.api)
        return await transport.execute(request, lambda response: self.dialect.parse_status(response, task_id))

    def get_download_location(self, task_id: str | None, file_id: str | None) -> DownloadLocation:
        """A fresh download location: ask every time, signed URLs expire (about 9 h at MiniMax)."""
        request = self.dialect.build_file_lookup(task_id, file_id)
        return self.transport.execute(
            request, lambda response: self.dialect.parse_file_lookup(response, task_id, file_id)
        )

    def priced_dialect(self) -> VendorDialect:
        """The dialect once the connection's extra is read: MiniMax's region or a reseller's table set prices."""
        _ = self.settings
        return self.dialect

    def estimated_cost(self, model: str | None, resolution: str | None,
                       duration: int | None) -> dict[str, Any] | None:
        """What one clip costs at this connection's prices (``{"amount", "unit"}``), or None."""
        return self.priced_dialect().estimated_cost(model, resolution, duration)

    def get_content_location(self, task_id: str | None, file_id: str | None) -> DownloadLocation | None:
        """Where the vendor API itself serves the bytes (with the key), if it does."""
        return self.dialect.content_location(task_id, file_id)

    @contextmanager
    def open_download(self, location: DownloadLocation, *, use_backup: bool = False,
                      start: int = 0) -> Iterator[Any]:
        """Open a streaming response for a location; the key goes only to the vendor's own API."""
        if location.content_path:
            url = join_url(self.settings.base_url, location.content_path)
            with self.transport.open_stream(url, params=location.content_params, authenticated=True,
                                            start=start) as response:
                yield response
            return
        signed_url = location.backup_url if use_backup else location.url
        if not signed_url:
            raise HailuoConfigurationError("no download URL", parameter="video", value=None)
        with self.transport.open_stream(signed_url, authenticated=False, start=start) as response:
            yield response

    def test_connection(self) -> tuple[bool, str]:
        """One cheap authenticated call: a status query for a task id that does not exist."""
        try:
            self.get_status(PROBE_TASK_ID)
        except HailuoAuthenticationError as exc:
            return False, f"{self.dialect.display_name} refused the key: {exc}"
        except HailuoConfigurationError as exc:
            return False, str(exc)
        except HailuoError as exc:
            if getattr(exc, "retryable", False) and getattr(exc, "code", None) is None and (
                getattr(exc, "http_status", None) is None
            ):
                return False, f"{self.dialect.display_name} could not be reached: {exc}"
            # Any other answer (e.g. "invalid task id") means the key was accepted.
            return True, f"{self.dialect.display_name} accepted the key ({exc.__class__.__name__} for a probe task)"
        return True, f"{self.dialect.display_name} accepted the key"

    # -- UI (from the spec) ------------------------------------------------------------------------
    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return cls.dialect_class.spec.ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return cls.dialect_class.spec.form_widgets()


_GENERIC_HOOKS: dict[type[VendorDialect], type[HailuoHook]] = {}


def hook_class_for(dialect: type[VendorDialect]) -> type[HailuoHook]:
    """The hook class the dialect's spec names, or a generic one made (once) for a spec naming none."""
    path = dialect.spec.hook_class_path
    if path:
        import importlib

        module, _, name = path.rpartition(".")
        found: type[HailuoHook] = getattr(importlib.import_module(module), name)
        return found
    if dialect not in _GENERIC_HOOKS:
        _GENERIC_HOOKS[dialect] = type(f"{dialect.__name__}Hook", (HailuoHook,), {"dialect_class": dialect,
                                                                                   "__module__": __name__})
    return _GENERIC_HOOKS[dialect]


def _mask(secret: str | None) -> None:
    if not secret:
        return
    try:
        from airflow.sdk.log import mask_secret

        mask_secret(secret)
    except ImportError:  # pragma: no cover - older SDKs
        pass


async def _amask(secret: str | None) -> None:
    if not secret:
        return
    try:
        from airflow.sdk.log import amask_secret

        await amask_secret(secret)
    except ImportError:  # pragma: no cover
        _mask(secret)
