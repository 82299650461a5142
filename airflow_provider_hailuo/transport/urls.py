"""URL helpers: joining a base URL with a path prefix, and redacting signed URLs for logs."""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

#: Query parameters that carry a signature, a key or a token in signed download URLs
#: (Aliyun OSS, S3 presigned, GCS signed, Azure SAS).
SECRET_QUERY_KEYS = frozenset({
    "signature", "ossaccesskeyid", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
    "x-goog-signature", "x-goog-credential", "sig", "token", "access_token", "key", "api_key",
    "security-token", "x-oss-signature", "x-oss-credential", "x-oss-security-token", "accesskeyid",
})


def join_url(base_url: str, path: str) -> str:
    """``http://h:1/dmx`` + ``/v1/x`` -> ``http://h:1/dmx/v1/x`` (keeps the base URL's path prefix)."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def redact_url(url: str) -> str:
    """The URL with signature/key query values replaced by ``***``; safe for logs and errors."""
    try:
        parsed = urlparse(url)
    except ValueError:
        return "<unparseable URL>"
    if not parsed.query:
        return url
    query = [(k, "***" if k.lower() in SECRET_QUERY_KEYS else v) for k, v in parse_qsl(parsed.query, True)]
    return urlunparse(parsed._replace(query=urlencode(query, safe="*")))


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
