"""URL helpers: joining a base URL with a path prefix, and keeping signed URLs' secrets out of logs.

Masking signed URLs is in one place: :func:`redact_url` for the lines we write, and
:func:`mask_signed_url` for lines we do not (urllib3's DEBUG request line quotes URLs in full).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl, unquote, urlencode, urlparse, urlsplit, urlunparse

#: Query parameters that carry a signature, a key or a token in signed download URLs
#: (Aliyun OSS, S3 presigned, GCS signed, Azure SAS).
SECRET_QUERY_KEYS = frozenset({
    "signature", "ossaccesskeyid", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
    "x-goog-signature", "x-goog-credential", "sig", "token", "access_token", "key", "api_key",
    "security-token", "x-oss-signature", "x-oss-credential", "x-oss-security-token", "accesskeyid",
})


#: Query parameters whose values grant access (signatures, tokens): handed to Airflow's secrets
#: masker. Access key ids and credential scopes are identifiers, not secrets; redact_url still hides them.
MASKED_QUERY_KEYS = SECRET_QUERY_KEYS - {"ossaccesskeyid", "accesskeyid", "x-amz-credential", "x-goog-credential",
                                         "x-oss-credential"}


def join_url(base_url: str, path: str) -> str:
    """``http://h:1/dmx`` + ``/api/x`` -> ``http://h:1/dmx/api/x`` (keeps the base URL's path prefix)."""
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


def signed_url_secrets(url: str | None) -> set[str]:
    """The access-granting query values of a signed URL, as they appear in it (percent-encoded) and decoded."""
    if not url:
        return set()
    try:
        query = urlsplit(url).query
    except ValueError:
        return set()
    found: set[str] = set()
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if value and unquote(key).lower() in MASKED_QUERY_KEYS:
            found.update({value, unquote(value)})
    return found


def mask_signed_url(url: str | None) -> None:
    """Register a signed URL's secrets with Airflow's secrets masker.

    Our own log lines print URLs through ``redact_url``; this also covers lines we do not write,
    such as urllib3's DEBUG request line, which quotes the full URL.
    """
    secrets = signed_url_secrets(url)
    if not secrets:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - outside Airflow
        return
    for secret in secrets:
        mask_secret(secret)
