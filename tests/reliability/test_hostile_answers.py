"""Hostile or broken answers are refused with a clear ``HailuoError``, never followed or swallowed.

The emulator always answers like a well-behaved vendor, so these run against a small scripted
server (``hostile_server.py``): JSON too big or endless, JSON that blows the parser up, redirects
(and redirect loops) from the API and from the signed download URL, download URLs pointing at a
local file or a non-HTTP scheme, a "video" that is an HTML page. Each case checks the error class
and message, that the call was not repeated where repeating cannot help, that the key never went
to a download host, and that nothing was stored.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hailuo.core.request import VideoRequest
from airflow_provider_hailuo.exceptions import HailuoDownloadError, HailuoProtocolError
from airflow_provider_hailuo.hooks import get_hook
from airflow_provider_hailuo.vendors.base import MAX_JSON_BYTES
from tests.conftest import EMULATOR_API_KEY, conn_env
from tests.reliability.helpers import files_under, run_generate, run_transfer
from tests.reliability.hostile_server import HostileServer, endless, json_answer, raw_answer, redirect

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

OK = {"status_code": 0, "status_msg": "success"}
TEXT = VideoRequest.build(model="MiniMax-Hailuo-2.3", prompt="A lighthouse at dusk")
PREFIX = {"minimax": "/mm", "dmxapi": "/dmx", "modelverse": "/mv"}
STATUS_PATH = {"minimax": "/mm/v1/query/video_generation", "dmxapi": "/dmx/v1/query/video_generation",
               "modelverse": "/mv/v1/tasks/status"}
SUBMIT_PATH = {"minimax": "/mm/v1/video_generation", "dmxapi": "/dmx/v1/video_generation",
               "modelverse": "/mv/v1/tasks/submit"}
VIDEO = {"vendor": "dmxapi", "video_task_id": "555", "file_id": "777", "status": "succeeded"}
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 4000
PASSWD = Path("/etc/passwd")


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


@pytest.fixture
def conns(server: HostileServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    conns = {}
    for vendor, prefix in PREFIX.items():
        conn_id = f"hailuo_hostile_{vendor}"
        name, value = conn_env(conn_id, f"hailuo_{vendor}", server.url + prefix)
        monkeypatch.setenv(name, value)
        conns[vendor] = conn_id
    return conns


def status_sync(conn_id: str, task_id: str = "555") -> Any:
    return get_hook(conn_id).get_status(task_id)


def status_async(conn_id: str, task_id: str = "555") -> Any:
    """The trigger's path: aget_hook, one AsyncTransport session, aget_status."""
    from airflow_provider_hailuo.hooks import aget_hook

    async def poll() -> Any:
        hook = await aget_hook(conn_id)
        async with await hook.async_transport() as transport:
            return await hook.aget_status(task_id, transport)

    return asyncio.run(poll())


POLLERS = {"sync": status_sync, "async": status_async}


def check(error: BaseException, *parts: str) -> str:
    message = str(error)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    assert EMULATOR_API_KEY not in message
    return message


# -- the API answers too much, or the unparseable --------------------------------------------------

@pytest.mark.parametrize("mode", list(POLLERS))
def test_oversized_json_status_is_refused(server: HostileServer, conns: dict[str, str], mode: str) -> None:
    server.route(STATUS_PATH["minimax"], raw_answer(b'{"task_id": "555", "status": "Processing", "pad": "'
                                                    + b"x" * (2 * MAX_JSON_BYTES) + b'"}'))
    with pytest.raises(HailuoProtocolError) as caught:
        POLLERS[mode](conns["minimax"])
    check(caught.value, "minimax", "status answer is", "more than a JSON answer can be", "video_task_id 555",
          "Trace-Id trace-hostile")
    assert len(server.hits_on(STATUS_PATH["minimax"])) == 1  # not retried: a repeat gets the same answer


@pytest.mark.parametrize("mode", list(POLLERS))
def test_endless_answer_is_cut_off(server: HostileServer, conns: dict[str, str], mode: str) -> None:
    server.route(STATUS_PATH["dmxapi"], endless())
    started = time.monotonic()
    with pytest.raises(HailuoProtocolError) as caught:
        POLLERS[mode](conns["dmxapi"])
    check(caught.value, "dmxapi", "more than a JSON answer can be")
    assert time.monotonic() - started < 5  # read up to the limit, then hung up


def test_oversized_json_submit_is_refused_and_not_repeated(server: HostileServer, conns: dict[str, str]) -> None:
    server.route(SUBMIT_PATH["modelverse"], raw_answer(b'{"output": {"task_id": "' + b"9" * (2 * MAX_JSON_BYTES)
                                                       + b'"}}'))
    with pytest.raises(HailuoProtocolError) as caught:
        get_hook(conns["modelverse"]).submit(TEXT)
    check(caught.value, "modelverse", "submit answer is", "refusing it")
    assert len(server.hits_on(SUBMIT_PATH["modelverse"])) == 1


@pytest.mark.parametrize("mode", list(POLLERS))
def test_json_that_breaks_the_parser_is_refused(server: HostileServer, conns: dict[str, str], mode: str) -> None:
    server.route(STATUS_PATH["minimax"], raw_answer(b"[" * 200_000))  # recursion bomb, well under the size limit
    with pytest.raises(HailuoProtocolError) as caught:
        POLLERS[mode](conns["minimax"])
    check(caught.value, "minimax", "status answer is not a JSON object")


def test_huge_number_in_a_submit_answer_is_refused_and_not_repeated(server: HostileServer,
                                                                    conns: dict[str, str]) -> None:
    # Python refuses to parse integers over 4,300 digits (ValueError, not JSONDecodeError).
    server.route(SUBMIT_PATH["dmxapi"], raw_answer(b'{"task_id": ' + b"7" * 5000 + b', "base_resp": '
                                                   b'{"status_code": 0}}'))
    with pytest.raises(HailuoProtocolError) as caught:
        get_hook(conns["dmxapi"]).submit(TEXT)
    check(caught.value, "dmxapi", "submit answer is not a JSON object")
    assert len(server.hits_on(SUBMIT_PATH["dmxapi"])) == 1


def test_task_id_of_a_hostile_type_is_refused(server: HostileServer, conns: dict[str, str]) -> None:
    server.route(SUBMIT_PATH["minimax"], json_answer({"task_id": {"$ne": None}, "base_resp": OK}))
    with pytest.raises(HailuoProtocolError) as caught:
        get_hook(conns["minimax"]).submit(TEXT)
    check(caught.value, "minimax", "task_id of type dict")
    assert len(server.hits_on(SUBMIT_PATH["minimax"])) == 1


# -- redirects from the API: never followed (the key would go with them) ------------------------------

@pytest.mark.parametrize("mode", list(POLLERS))
def test_api_redirect_is_not_followed(server: HostileServer, conns: dict[str, str], mode: str) -> None:
    server.route(STATUS_PATH["dmxapi"], redirect(server.url + "/collector?Signature=s3cr3t-sig"))
    with pytest.raises(HailuoProtocolError) as caught:
        POLLERS[mode](conns["dmxapi"])
    message = check(caught.value, "dmxapi", "redirect (HTTP 302)", "Signature=***")
    assert "s3cr3t-sig" not in message
    assert server.hits_on("/collector") == []  # not followed: the key never reached it


def test_api_redirect_loop_is_refused_at_once(server: HostileServer, conns: dict[str, str]) -> None:
    server.route(STATUS_PATH["minimax"], redirect(server.url + STATUS_PATH["minimax"] + "?task_id=555", 307))
    with pytest.raises(HailuoProtocolError) as caught:
        status_sync(conns["minimax"])
    check(caught.value, "minimax", "redirect (HTTP 307)")
    assert len(server.hits_on(STATUS_PATH["minimax"])) == 1


# -- download locations --------------------------------------------------------------------------------

def retrieve_answer(download_url: str, backup: str | None = None) -> Any:
    file = {"file_id": 777, "bytes": 0, "filename": "output_aigc.mp4", "download_url": download_url}
    if backup:
        file["backup_download_url"] = backup
    return json_answer({"file": file, "base_resp": OK})


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://cdn.example.com/v.mp4", "javascript:alert(1)",
                                 "/relative/v.mp4", "gopher://127.0.0.1:6379/_FLUSHALL"])
def test_download_url_that_is_not_http_is_refused(server: HostileServer, conns: dict[str, str], tmp_path: Path,
                                                  url: str) -> None:
    server.route("/dmx/v1/files/retrieve", retrieve_answer(url))
    with pytest.raises(HailuoProtocolError) as caught:
        run_transfer(conns["dmxapi"], f"file://{tmp_path}/out/v.mp4", VIDEO)
    check(caught.value, "dmxapi", "file.download_url", "only http(s) download URLs are followed")
    assert files_under(tmp_path) == []


def test_backup_url_pointing_at_a_local_file_is_refused(server: HostileServer, conns: dict[str, str],
                                                        tmp_path: Path) -> None:
    server.route("/dmx/v1/files/retrieve", retrieve_answer(server.url + "/cdn/v.mp4", "file:///etc/passwd"))
    server.route("/cdn/v.mp4", raw_answer(MP4, content_type="video/mp4"))
    with pytest.raises(HailuoProtocolError) as caught:
        run_transfer(conns["dmxapi"], f"file://{tmp_path}/v.mp4", VIDEO)
    check(caught.value, "file.backup_download_url", "scheme 'file'")
    assert files_under(tmp_path) == []


def test_minimax_local_file_url_falls_back_to_the_vendor_api(server: HostileServer, conns: dict[str, str],
                                                             tmp_path: Path) -> None:
    """MiniMax serves the bytes itself too: a hostile URL is skipped for files/retrieve_content."""
    server.route("/mm/v1/files/retrieve", retrieve_answer("file:///etc/passwd"))
    server.route("/mm/v1/files/retrieve_content", raw_answer(MP4, content_type="video/mp4"))
    run_transfer(conns["minimax"], f"file://{tmp_path}/v.mp4", {**VIDEO, "vendor": "minimax"})
    assert (tmp_path / "v.mp4").read_bytes() == MP4
    if PASSWD.is_file():
        assert PASSWD.read_bytes() not in (tmp_path / "v.mp4").read_bytes()


def test_modelverse_video_url_pointing_at_a_local_file_is_refused(server: HostileServer,
                                                                  conns: dict[str, str]) -> None:
    server.route(SUBMIT_PATH["modelverse"], json_answer({"output": {"task_id": "555"}}))
    server.route(STATUS_PATH["modelverse"], json_answer({"output": {"task_id": "555", "task_status": "Success",
                                                                    "urls": ["file:///etc/passwd"]}}))
    with pytest.raises(HailuoProtocolError) as caught:
        run_generate(conns["modelverse"], deferrable=False)
    check(caught.value, "modelverse", "output.urls[0]", "scheme 'file'", "video_task_id 555")
    assert len(server.hits_on(SUBMIT_PATH["modelverse"])) == 1


def test_download_redirect_loop_is_refused(server: HostileServer, conns: dict[str, str], tmp_path: Path) -> None:
    loop = server.url + "/cdn/loop.mp4?Expires=1&Signature=s3cr3t-sig"
    server.route("/dmx/v1/files/retrieve", retrieve_answer(loop))
    server.route("/cdn/loop.mp4", redirect(loop))
    with pytest.raises(HailuoDownloadError) as caught:
        run_transfer(conns["dmxapi"], f"file://{tmp_path}/v.mp4", VIDEO)
    message = check(caught.value, "dmxapi video_task_id 555", "too many redirects", "Signature=***")
    assert "s3cr3t-sig" not in message
    hits = server.hits_on("/cdn/loop.mp4")
    assert 0 < len(hits) <= 6 * 6  # bounded: 6 attempts of at most 5 redirects each
    assert all("Authorization" not in hit.headers for hit in hits)  # signed URLs never get the key
    assert files_under(tmp_path) == []


def test_download_redirect_to_a_local_file_is_refused(server: HostileServer, conns: dict[str, str],
                                                      tmp_path: Path) -> None:
    server.route("/dmx/v1/files/retrieve", retrieve_answer(server.url + "/cdn/v.mp4?Signature=s3cr3t-sig"))
    server.route("/cdn/v.mp4", redirect("file:///etc/passwd"))
    with pytest.raises(HailuoDownloadError) as caught:
        run_transfer(conns["dmxapi"], f"file://{tmp_path}/v.mp4", VIDEO)
    check(caught.value, "dmxapi video_task_id 555", "download failed")
    assert files_under(tmp_path) == []


def test_download_that_is_not_a_video_is_refused(server: HostileServer, conns: dict[str, str],
                                                 tmp_path: Path) -> None:
    server.route("/dmx/v1/files/retrieve", retrieve_answer(server.url + "/cdn/v.mp4"))
    server.route("/cdn/v.mp4", raw_answer(b"<html><body>" + b"buy now " * 1000 + b"</body></html>",
                                          content_type="video/mp4"))
    with pytest.raises(HailuoDownloadError) as caught:
        run_transfer(conns["dmxapi"], f"file://{tmp_path}/v.mp4", VIDEO)
    check(caught.value, "dmxapi video_task_id 555", "not an MP4")
    assert files_under(tmp_path) == []
    assert all("Authorization" not in hit.headers for hit in server.hits_on("/cdn/v.mp4"))
    assert all(hit.headers.get("Authorization") == EMULATOR_API_KEY
               for hit in server.hits_on("/dmx/v1/files/retrieve"))



def test_endless_video_download_is_refused(server: HostileServer, conns: dict[str, str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_hailuo.transfers.object_storage import HailuoToObjectStorageOperator

    monkeypatch.setattr(HailuoToObjectStorageOperator, "max_video_bytes", 4 * 1024 * 1024)
    server.route("/dmx/v1/files/retrieve", retrieve_answer(server.url + "/cdn/endless.mp4"))
    server.route("/cdn/endless.mp4", endless(chunk=b"\x00" * 65536, head=MP4[:32], content_type="video/mp4",
                                             max_bytes=16 * 1024 * 1024))
    with pytest.raises(HailuoDownloadError) as caught:
        run_transfer(conns["dmxapi"], f"file://{tmp_path}/v.mp4", VIDEO)
    check(caught.value, "dmxapi video_task_id 555")
    assert files_under(tmp_path) == []
