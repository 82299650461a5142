"""Input images: where they come from, whether the vendor will take them, how they are sent.

An image is given as an https URL (sent as is: the vendor fetches it; plain http is refused), a ``data:`` URL, a local
path / ``file://`` URI, or an object-storage URI (``s3://b/k.png``). Everything we can read is
checked like the vendor checks it (format by content, < 20 MB, short side > 300 px, aspect between
2:5 and 5:2) and sent as a ``data:`` URL, so a bad image fails here and not after a paid round trip.

Object-storage URIs are read through a ``read_object`` callable supplied by the Airflow layer
(``ObjectStoragePath``), which keeps this module free of Airflow.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from airflow_provider_hailuo.exceptions import HailuoInvalidRequestError

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIN_SHORT_SIDE = 300  # the short side must be strictly greater
MIN_ASPECT = 2 / 5
MAX_ASPECT = 5 / 2
#: Pillow format name -> MIME subtype. MPO is the multi-picture JPEG many cameras write.
ALLOWED_FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp"}
OBJECT_STORAGE_SCHEMES = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "adl", "wasb", "wasbs"})

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[\w.+-]+)*)(?P<b64>;base64)?,",
                       re.IGNORECASE)

ReadObject = Callable[[str, int], bytes]
"""``read_object(uri, max_bytes)`` returns the object's bytes, reading at most ``max_bytes + 1``."""


@dataclass(frozen=True)
class ImageInfo:
    format: str  # MIME subtype: jpeg, png or webp
    width: int
    height: int
    size: int


def describe(value: object, limit: int = 80) -> str:
    """A short, printable form of a parameter value (data: URLs are long and may be private)."""
    text = repr(value)
    if isinstance(value, str) and value[:5].lower() == "data:":
        text = repr(value[:40] + "...") + f" ({len(value)} characters)"
    elif len(text) > limit:
        text = text[:limit] + "...'"
    return text


def image_source_kind(value: str) -> str:
    """One of ``url``, ``data``, ``path``, ``object``."""
    lowered = value[:16].lower()
    if lowered.startswith("data:"):
        return "data"
    scheme = urlparse(value).scheme.lower()
    if scheme in ("http", "https"):
        return "url"
    if scheme in OBJECT_STORAGE_SCHEMES:
        return "object"
    if scheme == "file" or scheme == "" or (len(scheme) == 1 and os.name == "nt"):
        return "path"
    return "unknown"


def check_image_bytes(data: bytes, parameter: str, source: str) -> ImageInfo:
    """Check an image the way the vendor will; raise naming the parameter and the source."""
    if len(data) >= MAX_IMAGE_BYTES:
        raise HailuoInvalidRequestError(
            f"{parameter}: image {source} is {len(data):,} bytes; the vendor accepts images under 20 MB "
            f"({MAX_IMAGE_BYTES:,} bytes).",
            parameter=parameter,
            value=source,
        )
    from PIL import Image, UnidentifiedImageError  # imported here: not needed at DAG parse time

    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise HailuoInvalidRequestError(
            f"{parameter}: {source} is not a readable image ({exc.__class__.__name__}). "
            "Allowed formats: JPG/JPEG, PNG, WebP.",
            parameter=parameter,
            value=source,
        ) from None
    if fmt not in ALLOWED_FORMATS:
        raise HailuoInvalidRequestError(
            f"{parameter}: {source} is a {fmt or 'unknown'} image; allowed formats: JPG/JPEG, PNG, WebP.",
            parameter=parameter,
            value=source,
        )
    short_side = min(width, height)
    if short_side <= MIN_SHORT_SIDE:
        raise HailuoInvalidRequestError(
            f"{parameter}: {source} is {width}x{height} px; its short side must be more than "
            f"{MIN_SHORT_SIDE} px.",
            parameter=parameter,
            value=source,
        )
    aspect = width / height
    if not (MIN_ASPECT <= aspect <= MAX_ASPECT):
        raise HailuoInvalidRequestError(
            f"{parameter}: {source} is {width}x{height} px (aspect {aspect:.2f}); the aspect ratio must be "
            "between 2:5 (0.40) and 5:2 (2.50).",
            parameter=parameter,
            value=source,
        )
    return ImageInfo(ALLOWED_FORMATS[fmt], width, height, len(data))


def to_data_url(data: bytes, info: ImageInfo) -> str:
    return f"data:image/{info.format};base64," + base64.b64encode(data).decode("ascii")


def _read_local(value: str, parameter: str) -> bytes:
    path = unquote(urlparse(value).path) if value.lower().startswith("file:") else value
    path = os.path.expanduser(path)
    if not os.path.isfile(path):
        raise HailuoInvalidRequestError(
            f"{parameter}: {value!r} is not an https URL, a data: URL or an object-storage URI, and no "
            "local file exists at that path. Give an https URL, a data:image/...;base64, URL, a path to a "
            "readable JPG/PNG/WebP file, or a URI such as s3://bucket/key.png.",
            parameter=parameter,
            value=value,
        )
    size = os.path.getsize(path)
    if size >= MAX_IMAGE_BYTES:
        raise HailuoInvalidRequestError(
            f"{parameter}: image {value!r} is {size:,} bytes; the vendor accepts images under 20 MB.",
            parameter=parameter,
            value=value,
        )
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise HailuoInvalidRequestError(
            f"{parameter}: cannot read image file {value!r}: {exc.strerror or exc}.",
            parameter=parameter,
            value=value,
        ) from None


def _decode_data_url(value: str, parameter: str) -> bytes:
    match = _DATA_URL.match(value)
    source = describe(value)
    if not match or not match.group("b64") or not (match.group("mime") or "").lower().startswith("image/"):
        raise HailuoInvalidRequestError(
            f"{parameter}: {source} is not a base64 image data URL; expected data:image/<jpeg|png|webp>;"
            "base64,<data>.",
            parameter=parameter,
            value=source,
        )
    payload = value[match.end():]
    if len(payload) * 3 // 4 >= MAX_IMAGE_BYTES + 3:
        raise HailuoInvalidRequestError(
            f"{parameter}: the image in {source} is about {len(payload) * 3 // 4:,} bytes; the vendor accepts "
            "images under 20 MB.",
            parameter=parameter,
            value=source,
        )
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise HailuoInvalidRequestError(
            f"{parameter}: {source} does not hold valid base64 data.",
            parameter=parameter,
            value=source,
        ) from None


def resolve_image(value: object, parameter: str, read_object: ReadObject | None = None) -> str:
    """Check an image input and return what to send: the URL itself or a ``data:`` URL."""
    if not isinstance(value, str) or not value.strip():
        raise HailuoInvalidRequestError(
            f"{parameter} must be an https URL, a data: URL, a local file path or an object-storage URI; "
            f"got {describe(value)}.",
            parameter=parameter,
            value=value,
        )
    value = value.strip()
    kind = image_source_kind(value)
    if kind == "url":
        parsed = urlparse(value)
        if not parsed.netloc:
            raise HailuoInvalidRequestError(
                f"{parameter}: {value!r} is not a complete URL (no host).", parameter=parameter, value=value
            )
        if parsed.scheme.lower() != "https":
            # Refused rather than fetched: the vendor would fetch it in clear (anyone on the path can swap
            # the image), and fetching it ourselves would follow user input to any host, loopback and
            # private addresses included. Whoever has the file can pass it in one of the readable forms.
            raise HailuoInvalidRequestError(
                f"{parameter}: {value!r} is a plain http:// URL; image URLs must be https:// (the vendor "
                "fetches them, and over plain http anyone on the way can read or replace the image). Give "
                "an https URL, or download the image and pass a local path, a data:image/...;base64, URL "
                "or an object-storage URI such as s3://bucket/key.png.",
                parameter=parameter,
                value=value,
            )
        return value
    if kind == "data":
        data = _decode_data_url(value, parameter)
        source = describe(value)
    elif kind == "path":
        data = _read_local(value, parameter)
        source = repr(value)
    elif kind == "object":
        if read_object is None:
            raise HailuoInvalidRequestError(
                f"{parameter}: {value!r} is an object-storage URI, which can only be read inside Airflow "
                "(through ObjectStoragePath).",
                parameter=parameter,
                value=value,
            )
        try:
            data = read_object(value, MAX_IMAGE_BYTES)
        except HailuoInvalidRequestError:
            raise
        except Exception as exc:
            raise HailuoInvalidRequestError(
                f"{parameter}: cannot read image {value!r} from object storage: "
                f"{exc.__class__.__name__}: {exc}",
                parameter=parameter,
                value=value,
            ) from None
        source = repr(value)
    else:
        raise HailuoInvalidRequestError(
            f"{parameter}: {value!r} has an unsupported scheme {urlparse(value).scheme!r}. Give an https URL, "
            f"a data: URL, a local path or one of {', '.join(sorted(OBJECT_STORAGE_SCHEMES | {'file'}))}.",
            parameter=parameter,
            value=value,
        )
    info = check_image_bytes(data, parameter, source)
    return to_data_url(data, info)


def data_url_size(value: str) -> tuple[int, int] | None:
    """Pixel size of the image in a data: URL we built, or None for anything else."""
    if not value.startswith("data:image/"):
        return None
    from PIL import Image

    try:
        with Image.open(io.BytesIO(base64.b64decode(value.split(",", 1)[1]))) as image:
            width, height = image.size
            return width, height
    except Exception:
        return None
