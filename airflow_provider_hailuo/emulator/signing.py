"""Object-storage style signed download URLs (``?Expires=&OSSAccessKeyId=&Signature=``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote
from xml.sax.saxutils import escape

PRIMARY_PREFIX = "/cdn"
BACKUP_PREFIX = "/cdn-backup"
FILENAME = "output_aigc.mp4"


@dataclass(frozen=True)
class SigningKey:
    access_key_id: str
    secret: bytes


class UrlSigner:
    """Signs and checks download URLs. One key pair for the main CDN, another for the backup."""

    def __init__(self) -> None:
        self.keys = {
            PRIMARY_PREFIX: SigningKey("LTAI5tEmu" + secrets.token_hex(6).upper(), secrets.token_bytes(32)),
            BACKUP_PREFIX: SigningKey("LTAI5tBak" + secrets.token_hex(6).upper(), secrets.token_bytes(32)),
        }

    @staticmethod
    def object_key(created_at: float, token: str) -> str:
        day = datetime.fromtimestamp(created_at, tz=timezone.utc).strftime("%Y-%m-%d")
        return f"inference_output/video/{day}/{token}/{FILENAME}"

    def _signature(self, prefix: str, object_key: str, expires: int) -> str:
        message = f"GET\n\n\n{expires}\n/{prefix.strip('/')}/{object_key}".encode()
        digest = hmac.new(self.keys[prefix].secret, message, hashlib.sha1).digest()
        return base64.b64encode(digest).decode()

    def sign(self, origin: str, prefix: str, object_key: str, ttl: float, now: float | None = None) -> str:
        """Return an absolute URL for ``object_key`` valid for ``ttl`` seconds.

        Like the vendors' OSS URLs, the object key is a single path segment with ``/`` encoded as
        ``%2F``.
        """
        expires = int((time.time() if now is None else now) + ttl)
        signature = self._signature(prefix, object_key, expires)
        return (
            f"{origin}{prefix}/{quote(object_key, safe='')}?Expires={expires}"
            f"&OSSAccessKeyId={self.keys[prefix].access_key_id}&Signature={quote(signature, safe='')}"
        )

    def check(self, prefix: str, object_key: str, query: dict[str, str], now: float | None = None) -> str | None:
        """Return None when the query signs ``object_key`` and has not expired, else the error code."""
        expires_text = query.get("Expires")
        signature = query.get("Signature")
        access_key = query.get("OSSAccessKeyId")
        if not expires_text or not signature or not access_key:
            return "AccessDenied"
        try:
            expires = int(expires_text)
        except ValueError:
            return "AccessDenied"
        if access_key != self.keys[prefix].access_key_id:
            return "InvalidAccessKeyId"
        expected = self._signature(prefix, object_key, expires)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return "SignatureDoesNotMatch"
        if expires < (time.time() if now is None else now):
            return "Expired"
        return None


_OSS_MESSAGES = {
    "AccessDenied": "You have no right to access this object because of bucket acl.",
    "InvalidAccessKeyId": "The OSS Access Key Id you provided does not exist in our records.",
    "SignatureDoesNotMatch": "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method.",
    "Expired": "Request has expired.",
    "NoSuchKey": "The specified key does not exist.",
    "InternalError": "We encountered an internal error. Please try again.",
    "ServiceUnavailable": "Service is unavailable. Please try again later.",
}


def oss_error_xml(code: str, request_id: str, host: str = "", expires: str | None = None) -> str:
    """An Aliyun-OSS-shaped XML error body."""
    xml_code = "AccessDenied" if code == "Expired" else code
    message = _OSS_MESSAGES.get(code, code)
    extra = ""
    if code == "Expired":
        server_time = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if expires is not None:
            extra += f"\n  <Expires>{escape(expires)}</Expires>"
        extra += f"\n  <ServerTime>{server_time}</ServerTime>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{xml_code}</Code>\n  <Message>{escape(message)}</Message>\n"
        f"  <RequestId>{request_id}</RequestId>\n  <HostId>{escape(host)}</HostId>{extra}\n"
        "</Error>\n"
    )
