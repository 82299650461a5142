"""How each emulated vendor API words things: error messages and codes, status words by phase.

Kept apart from the handlers so a surface module (surfaces/) and the fault injector read one table.
"""

from __future__ import annotations

BASE_RESP_MESSAGES = {
    0: "success",
    1000: "unknown error",
    1001: "request timeout",
    1002: "rate limit exceeded (RPM), please retry later",
    1004: "authorized failed, please check your API key",
    1008: "insufficient balance",
    1024: "internal error",
    1026: "input new_sensitive: the prompt or image was flagged as sensitive content",
    1027: "output new_sensitive: the generated video was flagged as sensitive content",
    1033: "system error, please retry later",
    1039: "token limit exceeded",
    1041: "connection limit exceeded",
    1042: "invisible characters in input",
    2013: "invalid params",
    2045: "rate growth limit exceeded",
    2049: "invalid api key",
    2056: "usage limit exceeded",
}

# Modelverse answers with HTTP statuses; the base_resp fault codes map onto them.
MODELVERSE_ERRORS: dict[int, tuple[int, str]] = {
    1000: (500, "internal_error"),
    1001: (504, "timeout"),
    1002: (429, "rate_limit_exceeded"),
    1004: (401, "invalid_api_key"),
    1008: (402, "insufficient_balance"),
    1024: (500, "internal_error"),
    1026: (400, "sensitive"),
    1027: (400, "sensitive"),
    1033: (503, "service_unavailable"),
    1039: (429, "rate_limit_exceeded"),
    1041: (429, "rate_limit_exceeded"),
    1042: (400, "invalid_parameter"),
    2013: (400, "invalid_parameter"),
    2045: (429, "rate_limit_exceeded"),
    2049: (401, "invalid_api_key"),
    2056: (429, "quota_exceeded"),
}
HTTP_ERROR_CODES = {
    400: "invalid_parameter",
    401: "invalid_api_key",
    402: "insufficient_balance",
    403: "forbidden",
    404: "not_found",
    413: "request_too_large",
    429: "rate_limit_exceeded",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}

MINIMAX_PHASES = ((0.2, "Preparing"), (0.45, "Queueing"), (1.0, "Processing"))
DMXAPI_PHASES = ((0.35, "Queueing"), (1.0, "Processing"))
MODELVERSE_PHASES = ((0.35, "Pending"), (1.0, "Running"))
FINAL_STATUS = {
    "minimax": ("Success", "Fail"),
    "dmxapi": ("Success", "Failed"),
    "modelverse": ("Success", "Failure"),
}
PHASES = {"minimax": MINIMAX_PHASES, "dmxapi": DMXAPI_PHASES, "modelverse": MODELVERSE_PHASES}
