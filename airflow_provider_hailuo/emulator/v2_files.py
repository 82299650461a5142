"""``POST /v1/files/upload`` (multipart ``purpose=video_generation_input``, ``file``) for v2 inputs.

Uploads are checked against the media rules at upload (HTTP 400 when invalid) and can then be
used as ``mm_file://<file_id>`` by the same account for 7 days (API_V2_NOTES "Media").
"""

from __future__ import annotations

import time

from aiohttp import web

from .app import _ctx, json_response
from .state import EmulatorState
from .v2_media import MediaError, check_media, kind_of
from .v2_store import UploadedFile


def base_resp_error(status: int, code: int, message: str) -> web.Response:
    """The upload endpoint is a v1 one: ``base_resp`` errors, but with a real HTTP status."""
    return json_response({"file": None, "base_resp": {"status_code": code, "status_msg": message}}, status=status)


async def receive_upload(state: EmulatorState, request: web.Request, account: str) -> web.StreamResponse:
    limit = state.config_snapshot()["max_body_bytes"]
    if request.content_length is not None and request.content_length > limit:
        return base_resp_error(413, 2013, f"invalid params, request body exceeds {limit} bytes")
    if not request.content_type.startswith("multipart/"):
        return base_resp_error(400, 2013, "invalid params, send multipart/form-data with purpose and file")
    form = await request.post()
    purpose, upload = form.get("purpose"), form.get("file")
    filename = getattr(upload, "filename", None)
    state.update_entry(_ctx().entry, body={"purpose": purpose, "filename": filename})
    if purpose != "video_generation_input":
        return base_resp_error(400, 2013, f"invalid params, purpose {purpose!r} must be video_generation_input")
    if not isinstance(upload, web.FileField):
        return base_resp_error(400, 2013, "invalid params, file is required (a multipart file field)")
    raw = upload.file.read()
    kind = kind_of(raw)
    if kind is None:
        return base_resp_error(
            400, 2013, "invalid params, file is not a JPG/PNG/WEBP/HEIC image, MP4/MOV video or WAV/MP3 audio"
        )
    try:
        info = check_media(raw, kind, "file")
    except MediaError as exc:
        return base_resp_error(400, 2013, str(exc))
    stored = UploadedFile(state.v2.new_id(), account, upload.filename, info, time.time())
    state.v2.add_file(stored)
    file_info = {
        "file_id": int(stored.file_id),
        "bytes": len(raw),
        "created_at": int(stored.created_at),
        "filename": stored.filename,
        "purpose": "video_generation_input",
    }
    return json_response({"file": file_info, "base_resp": {"status_code": 0, "status_msg": "success"}})
