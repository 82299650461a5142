"""Where a video goes: the destination URI checked and split, and the names staged beside it.

Pure functions of strings (no Airflow, no I/O), so the rules are tested with plain values.
"""

from __future__ import annotations

import posixpath
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError

#: scheme -> install hint for its filesystem (the official provider that registers it).
ALLOWED_SCHEMES: dict[str, str] = {
    "s3": "apache-airflow-providers-amazon[s3fs] (extra airflow-provider-hailuo[amazon])",
    "gs": "apache-airflow-providers-google and gcsfs (extra airflow-provider-hailuo[google])",
    "gcs": "apache-airflow-providers-google and gcsfs (extra airflow-provider-hailuo[google])",
    "abfs": "apache-airflow-providers-microsoft-azure and adlfs (extra airflow-provider-hailuo[azure])",
    "abfss": "apache-airflow-providers-microsoft-azure and adlfs (extra airflow-provider-hailuo[azure])",
    "az": "apache-airflow-providers-microsoft-azure and adlfs (extra airflow-provider-hailuo[azure])",
    "file": "nothing (built in)",
}
ALLOWED_TEXT = "s3://bucket/key.mp4, gs:// or gcs://, abfs://, abfss:// or az://container/path.mp4, file:///abs/path.mp4"
LOCAL_SCHEMES = frozenset({"file"})
PARTIAL_MARKER = ".partial-"
SIDECAR_SUFFIX = ".json"
MAX_NAME_BYTES = 255  # the usual file-name limit of local filesystems


def _bad_dest(value: object, why: str) -> HailuoInvalidRequestError:
    return HailuoInvalidRequestError(
        f"dest {value!r} is not usable: {why}. Allowed: {ALLOWED_TEXT}.", parameter="dest", value=value
    )


@dataclass(frozen=True)
class Destination:
    """A checked destination: ``scheme`` and the path its fsspec filesystem takes.

    ``fs_path`` is ``bucket/key`` for object stores and an absolute path for ``file``;
    ``conn_id`` is the Airflow connection of the store (None: the filesystem's default).
    """

    scheme: str
    fs_path: str
    conn_id: str | None = None

    @property
    def is_local(self) -> bool:
        return self.scheme in LOCAL_SCHEMES

    @property
    def uri(self) -> str:
        """The URI without connection id: what XCom, the sidecar and the asset carry."""
        if self.is_local:
            return f"file://{self.fs_path}"
        return f"{self.scheme}://{self.fs_path}"

    @property
    def name(self) -> str:
        return posixpath.basename(self.fs_path)

    @property
    def bucket(self) -> str:
        return "" if self.is_local else self.fs_path.split("/", 1)[0]

    @property
    def key(self) -> str:
        return self.fs_path.lstrip("/") if self.is_local else self.fs_path.split("/", 1)[1]

    @property
    def namespace(self) -> str:
        """OpenLineage dataset namespace (``s3://bucket``, ``file``)."""
        return "file" if self.is_local else f"{self.scheme}://{self.bucket}"

    def sibling(self, name: str) -> Destination:
        """Another object in the same directory (prefix) and store."""
        if "/" in name or not name:
            raise ValueError(f"a sibling name is one path segment, got {name!r}")
        return Destination(self.scheme, posixpath.join(posixpath.dirname(self.fs_path), name), self.conn_id)

    def sidecar(self) -> Destination:
        """``<dest>.json``: the metadata beside the video."""
        return Destination(self.scheme, self.fs_path + SIDECAR_SUFFIX, self.conn_id)


def parse_destination(dest: Any, dest_conn_id: str | None = None) -> Destination:
    """Check ``dest`` (a URI string or an ObjectStoragePath) and split it; raise before any I/O.

    The ``conn@bucket`` form of Airflow's ObjectStoragePath is honoured; ``dest_conn_id`` wins over it.
    """
    if hasattr(dest, "protocol") and hasattr(dest, "path") and not isinstance(dest, str):
        # an ObjectStoragePath (duck-typed: no Airflow import here)
        protocol = (getattr(dest, "protocol", "") or "").lower()
        conn_id = dest_conn_id or getattr(dest, "conn_id", None)
        if protocol == "file":
            text = f"file://{dest.path}"
        elif protocol:
            text = f"{protocol}://{str(dest.path).lstrip('/')}"
        else:
            raise _bad_dest(str(dest), "it has no scheme")
        return _parse_uri(text, conn_id, shown=str(dest))
    if not isinstance(dest, str):
        raise HailuoInvalidRequestError(
            f"dest must be a URI string or an ObjectStoragePath, got {type(dest).__name__}. Allowed: {ALLOWED_TEXT}.",
            parameter="dest",
            value=dest,
        )
    return _parse_uri(dest.strip(), dest_conn_id, shown=dest)


def _parse_uri(text: str, dest_conn_id: str | None, *, shown: str) -> Destination:
    if not text:
        raise _bad_dest(shown, "it is empty")
    if "{{" in text or "{%" in text:
        raise _bad_dest(shown, "it still holds a Jinja template (was it rendered?)")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise _bad_dest(shown, f"it is not a URI ({exc})") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise _bad_dest(shown, "it has no scheme (write file:///abs/path.mp4 for a local file)")
    if scheme not in ALLOWED_SCHEMES:
        raise _bad_dest(shown, f"scheme {scheme!r} is not supported")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise _bad_dest(shown, "it has a query or fragment ('?' or '#'), which object keys here may not hold")
    userinfo, _, host = parts.netloc.rpartition("@")
    conn_id = dest_conn_id or (userinfo or None)
    path = parts.path
    if path.endswith("/") or not path.strip("/"):
        raise _bad_dest(shown, "it names a directory or bucket, not a file; end it with a file name (.../clip.mp4)")
    segments = path.strip("/").split("/")
    if any(segment in (".", "..") for segment in segments):
        raise _bad_dest(shown, "'.' and '..' path segments are not allowed")
    if any(segment == "" for segment in segments):
        raise _bad_dest(shown, "it has an empty path segment ('//')")
    if scheme == "file":
        if host not in ("", "localhost"):
            raise _bad_dest(shown, f"a file URI has no host (got {host!r}); write file:///abs/path.mp4")
        return Destination("file", "/" + "/".join(segments), None)
    if not host:
        raise _bad_dest(shown, "it has no bucket or container")
    return Destination(scheme, host + "/" + "/".join(segments), conn_id)


def staging_name(final_name: str, token: str | None = None) -> str:
    """The temporary name a video is written under beside its final name.

    Hidden (leading dot) and ending in ``.partial-<token>``, so listings by suffix (``*.mp4``)
    and consumers never mistake it for a finished video; unique per attempt.
    """
    token = token or uuid.uuid4().hex[:16]
    name = f".{final_name}{PARTIAL_MARKER}{token}"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        name = f".hailuo{PARTIAL_MARKER}{token}"
    return name

