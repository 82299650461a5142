"""Signed CDN URLs (expiry, signature), Range, HEAD, synthetic videos, aiohttp clients."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import pytest
import requests

from airflow_provider_hailuo.emulator import EmulatorServer, synthetic_video_chunks
from airflow_provider_hailuo.emulator.media import _synthetic_header

from .helpers import AUTH, SUBMIT_PATH, TIMEOUT, body_for, generate, retrieve

pytestmark = pytest.mark.integration


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_url_expiry_and_refresh(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0)
    result = generate(emulator, "minimax")
    expires = int(dict(parse_qsl(urlsplit(result["url"]).query))["Expires"])
    assert 9 * 3600 - 5 <= expires - time.time() <= 9 * 3600  # nine hours by default

    emulator.configure(download_url_ttl=0)
    stale = retrieve(emulator, "minimax", result["file_id"]).json()["file"]
    for url in (stale["download_url"], stale["backup_download_url"]):
        response = requests.get(url, timeout=TIMEOUT)
        assert response.status_code == 403
        assert response.headers["Content-Type"].startswith("application/xml")
        assert "<Code>AccessDenied</Code>" in response.text and "Request has expired" in response.text
        assert response.headers.get("Trace-Id")
    emulator.configure(download_url_ttl=60)
    fresh = retrieve(emulator, "minimax", result["file_id"]).json()["file"]
    assert requests.get(fresh["download_url"], timeout=TIMEOUT).status_code == 200


def test_bad_signatures(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0)
    url = generate(emulator, "minimax")["url"]
    expires = dict(parse_qsl(urlsplit(url).query))["Expires"]
    cases = {
        "signature": with_query(url, Signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        "extended expiry": with_query(url, Expires=str(int(expires) + 3600)),
        "other access key": with_query(url, OSSAccessKeyId="LTAI5tSomeoneElse"),
        "no query": url.split("?")[0],
        "other object": url.replace("output_aigc.mp4", "other.mp4"),
    }
    for name, bad in cases.items():
        response = requests.get(bad, timeout=TIMEOUT)
        assert response.status_code == 403, name
        assert "<Error>" in response.text, name
    assert "SignatureDoesNotMatch" in requests.get(cases["signature"], timeout=TIMEOUT).text
    # a backup signature does not open the main CDN path
    backup = generate(emulator, "minimax")["backup_url"]
    assert requests.get(backup.replace("/cdn-backup/", "/cdn/"), timeout=TIMEOUT).status_code == 403
    assert emulator.count("download") == len(cases) + 2


def test_unknown_object_after_reset(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0)
    url = generate(emulator, "dmxapi")["url"]
    emulator.reset()
    response = requests.get(url, timeout=TIMEOUT)
    assert response.status_code == 404 and "NoSuchKey" in response.text


def test_range_and_head(emulator: EmulatorServer) -> None:
    emulator.configure(generation_seconds=0)
    result = generate(emulator, "minimax")
    full = requests.get(result["url"], timeout=TIMEOUT).content
    size = len(full)

    tail = requests.get(result["url"], headers={"Range": "bytes=1000-"}, timeout=TIMEOUT)
    assert tail.status_code == 206
    assert tail.headers["Content-Range"] == f"bytes 1000-{size - 1}/{size}"
    assert int(tail.headers["Content-Length"]) == size - 1000 and tail.content == full[1000:]

    middle = requests.get(result["url"], headers={"Range": "bytes=10-19"}, timeout=TIMEOUT)
    assert middle.status_code == 206 and middle.content == full[10:20]
    suffix = requests.get(result["url"], headers={"Range": "bytes=-100"}, timeout=TIMEOUT)
    assert suffix.status_code == 206 and suffix.content == full[-100:]
    beyond = requests.get(result["url"], headers={"Range": f"bytes={size}-"}, timeout=TIMEOUT)
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{size}"

    head = requests.head(result["url"], timeout=TIMEOUT)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["Content-Length"]) == size and head.headers["Accept-Ranges"] == "bytes"
    assert head.headers["Content-Type"] == "video/mp4"

    content = requests.get(
        emulator.base_url("minimax") + "/v1/files/retrieve_content",
        params={"file_id": result["file_id"]},
        headers={**AUTH["minimax"], "Range": "bytes=500-"},
        timeout=TIMEOUT,
    )
    assert content.status_code == 206 and content.content == full[500:]
    content_head = requests.head(
        emulator.base_url("minimax") + "/v1/files/retrieve_content",
        params={"file_id": result["file_id"]},
        headers=AUTH["minimax"],
        timeout=TIMEOUT,
    )
    assert content_head.status_code == 200 and int(content_head.headers["Content-Length"]) == size
    ranged = emulator.requests(endpoint="download")[1]
    assert ranged["range"] == [1000, size - 1] and ranged["bytes_sent"] == size - 1000
    assert ranged["sha256"] == hashlib.sha256(full[1000:]).hexdigest()


def test_synthetic_video(emulator: EmulatorServer) -> None:
    size = 3_000_017
    emulator.configure(generation_seconds=0, synthetic_video_bytes=size)
    result = generate(emulator, "modelverse")
    expected = hashlib.sha256(b"".join(synthetic_video_chunks(size))).hexdigest()
    digest = hashlib.sha256()
    total = 0
    with requests.get(result["url"], stream=True, timeout=TIMEOUT) as response:
        assert int(response.headers["Content-Length"]) == size
        first = True
        for chunk in response.iter_content(100_000):
            if first:
                assert chunk[4:12] == b"ftypisom"
                first = False
            digest.update(chunk)
            total += len(chunk)
    assert total == size and digest.hexdigest() == expected
    entry = emulator.requests(endpoint="download")[0]
    assert entry["sha256"] == expected and entry["bytes_sent"] == size and entry["complete"] is True

    # ranges of the synthetic file line up with the generator
    tail = requests.get(result["url"], headers={"Range": "bytes=2000000-"}, timeout=TIMEOUT)
    assert tail.content == b"".join(synthetic_video_chunks(size, start=2_000_000))


def test_synthetic_chunks_are_deterministic() -> None:
    size = 200_000
    whole = b"".join(synthetic_video_chunks(size, 1_000_000))
    assert len(whole) == size
    assert whole == b"".join(synthetic_video_chunks(size, 777))
    assert all(len(chunk) == 777 for chunk in list(synthetic_video_chunks(size, 777))[:-1])
    assert whole[4:8] == b"ftyp" and whole[36:40] == b"mdat"
    assert int.from_bytes(whole[32:36], "big") == size - 32  # the mdat box covers the rest
    assert b"".join(synthetic_video_chunks(size, 4096, start=12_345, end=99_999)) == whole[12_345:99_999]
    # blocks carry their index: a shifted block would not match
    assert whole[40 : 40 + 65536] != whole[40 + 65536 : 40 + 2 * 65536]
    large = _synthetic_header(6 * 1024**3)
    assert large[36:40] == b"mdat" and int.from_bytes(large[32:36], "big") == 1
    assert int.from_bytes(large[40:48], "big") == 6 * 1024**3 - 32


async def test_aiohttp_client_cycle(emulator: EmulatorServer) -> None:
    """The signed URLs (with %2F in the object key) survive aiohttp's URL handling too."""
    emulator.configure(generation_seconds=0.1)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
        for vendor in ("dmxapi", "modelverse"):
            async with session.post(
                emulator.base_url(vendor) + SUBMIT_PATH[vendor],
                json=body_for(vendor, prompt="async"),
                headers=AUTH[vendor],
            ) as response:
                data = await response.json()
            task_id = data["output"]["task_id"] if vendor == "modelverse" else data["task_id"]
            status_path = "/v1/tasks/status" if vendor == "modelverse" else "/v1/query/video_generation"
            for _ in range(100):
                async with session.get(
                    emulator.base_url(vendor) + status_path, params={"task_id": task_id}, headers=AUTH[vendor]
                ) as response:
                    status = await response.json()
                word = status["output"]["task_status"] if vendor == "modelverse" else status["status"]
                if word == "Success":
                    break
                await __import__("asyncio").sleep(0.05)
            if vendor == "modelverse":
                url = status["output"]["urls"][0]
            else:
                async with session.get(
                    emulator.base_url(vendor) + "/v1/files/retrieve",
                    params={"file_id": status["file_id"], "task_id": task_id},
                    headers=AUTH[vendor],
                ) as response:
                    url = (await response.json())["file"]["download_url"]
            digest = hashlib.sha256()
            async with session.get(url) as response:
                assert response.status == 200, await response.text()
                async for chunk in response.content.iter_chunked(65536):
                    digest.update(chunk)
            entry = emulator.requests(vendor=vendor, endpoint="download")[-1]
            assert entry["sha256"] == digest.hexdigest()
