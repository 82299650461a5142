"""Every error this provider raises derives from :class:`HailuoError`.

Two families:

* :class:`HailuoInvalidRequestError` and its subclasses: the input is wrong. Raised before any
  request leaves the machine (or, for the vendor's own code 2013/1042, when the vendor says so).
* :class:`HailuoVendorError` and its subclasses: the vendor answered with an error. Each carries
  the vendor, the code, the code's meaning, the ``Trace-Id`` and whether retrying can help.

Messages never hold an API key or a signed URL; callers pass only what is safe to print.
"""

from __future__ import annotations


class HailuoError(Exception):
    """Base class of every error raised by airflow-provider-hailuo."""

    #: Whether repeating the same call later may succeed (used by the transport's retry policy).
    retryable: bool = False

    def __init__(self, message: str = "", *args: object) -> None:
        super().__init__(message, *args)
        #: The message as given to the constructor, before a subclass formats it: what an error
        #: crossing the trigger boundary is rebuilt from (``waiting.events.ErrorData``).
        self.detail = message


class HailuoInvalidRequestError(HailuoError, ValueError):
    """The request is invalid: a parameter has a value the vendor would reject."""

    def __init__(self, message: str, *, parameter: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value


class HailuoConfigurationError(HailuoInvalidRequestError):
    """The Airflow connection is unusable: unknown conn id, wrong conn type, missing key, bad host."""


class HailuoBudgetExceededError(HailuoInvalidRequestError):
    """The estimated cost is over ``max_cost``: refused before anything is sent (CONTRACT "Spend")."""

    def __init__(self, message: str, *, estimate: float, limit: float, unit: str,
                 parameter: str = "max_cost") -> None:
        super().__init__(message, parameter=parameter, value=limit)
        self.estimate, self.limit, self.unit = estimate, limit, unit


class HailuoVendorError(HailuoError):
    """The vendor answered with an error (an HTTP error, or an error code in an HTTP 200 answer)."""

    def __init__(
        self,
        message: str,
        *,
        vendor: str,
        code: int | str | None = None,
        meaning: str | None = None,
        trace_id: str | None = None,
        http_status: int | None = None,
        task_id: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.vendor = vendor
        self.code = code
        self.meaning = meaning
        self.trace_id = trace_id
        self.http_status = http_status
        self.task_id = task_id
        if retryable is not None:
            self.retryable = retryable
        parts = [f"{vendor}: {message}"]
        if code is not None:
            parts.append(f"code {code}" + (f" ({meaning})" if meaning else ""))
        if http_status is not None:
            parts.append(f"HTTP {http_status}")
        if task_id:
            parts.append(f"video_task_id {task_id}")
        if trace_id:
            parts.append(f"Trace-Id {trace_id}")
        super().__init__("; ".join(parts))
        self.detail = message


class HailuoVendorInvalidRequestError(HailuoVendorError, HailuoInvalidRequestError):
    """The vendor rejected the parameters (code 2013, 1042, HTTP 400)."""


class HailuoAuthenticationError(HailuoVendorError):
    """The key was refused (code 1004 or 2049, HTTP 401/403). Check the connection's key and region."""


class HailuoInsufficientBalanceError(HailuoVendorError):
    """The account has no credits left (code 1008, HTTP 402) or hit its usage limit (2056)."""


class HailuoModerationError(HailuoVendorError):
    """The input (1026) or the generated video (1027) was flagged as sensitive. Not charged."""


class HailuoRateLimitError(HailuoVendorError):
    """Too many requests (1002, 1039, 1041, 2045, HTTP 429). Retried with backoff."""

    retryable = True


class HailuoTransientError(HailuoVendorError):
    """A vendor or network fault that may pass (1000, 1001, 1024, 1033, HTTP 5xx, reset, timeout)."""

    retryable = True


class HailuoConnectError(HailuoTransientError):
    """No connection could be opened (refused, unresolvable, connect timeout): nothing was sent.

    Typed, so the retry policy may repeat even a submit after it: the vendor never saw the request.
    """

    not_sent = True


class HailuoProtocolError(HailuoVendorError):
    """The vendor's answer could not be understood (malformed JSON, missing fields, hostile value)."""


class HailuoTaskFailedError(HailuoError):
    """The vendor task ended in failure; the message carries the vendor's reason and the task id."""

    def __init__(self, message: str, *, vendor: str | None = None, task_id: str | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        self.vendor = vendor
        self.task_id = task_id
        self.reason = reason


class HailuoTimeoutError(HailuoError):
    """The vendor task did not finish before the deadline. The vendor task may still be running."""

    def __init__(self, message: str, *, task_id: str | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id


class HailuoDownloadError(HailuoError):
    """The video could not be downloaded completely (truncated, wrong size, not an MP4)."""

    retryable = True


class HailuoStorageError(HailuoError):
    """The video could not be written to the destination (exists, permission, write failure)."""


__all__ = [
    "HailuoAuthenticationError",
    "HailuoConfigurationError",
    "HailuoConnectError",
    "HailuoDownloadError",
    "HailuoError",
    "HailuoInsufficientBalanceError",
    "HailuoInvalidRequestError",
    "HailuoModerationError",
    "HailuoProtocolError",
    "HailuoRateLimitError",
    "HailuoStorageError",
    "HailuoTaskFailedError",
    "HailuoTimeoutError",
    "HailuoTransientError",
    "HailuoVendorError",
    "HailuoVendorInvalidRequestError",
]
