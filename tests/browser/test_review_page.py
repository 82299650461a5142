"""The daily review page in headless Chromium: every poster displayed, every <video> loads its metadata.

The page is the real output of ``hailuo_daily_content`` (``dag.test()`` against the emulator, three
prompts), served from its folder as it is (a plain HTTP server on loopback) and also opened
straight from disk (``file://``): its links are relative, so both must work.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import save_screenshot
from tests.dags.test_daily_content_dag import _load_dags, dags_module_env  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

PROMPTS = [
    "A red kite dances above a windy beach [Pan left]",
    "雨夜的城市，霓虹灯倒映在湿漉漉的街道上 [变焦推近]",
    {"slug": "lighthouse", "prompt": "A lighthouse at dusk, waves crash below [固定]", "model": "MiniMax-Hailuo-02",
     "duration": 10},
]

# Wait until each <video> has its metadata (or failed), then report what the browser knows.
VIDEO_STATE = """async () => {
  const videos = [...document.querySelectorAll('video')];
  await Promise.all(videos.map(v => v.readyState >= 1 ? null : new Promise(done => {
    v.addEventListener('loadedmetadata', done, {once: true});
    v.addEventListener('error', done, {once: true});
  })));
  return videos.map(v => ({src: v.getAttribute('src'), duration: v.duration, width: v.videoWidth,
                           error: v.error && v.error.code}));
}"""
POSTER_STATE = """async () => {
  const images = [...document.querySelectorAll('img.poster')];
  await Promise.all(images.map(i => i.complete ? null : new Promise(done => {
    i.addEventListener('load', done, {once: true}); i.addEventListener('error', done, {once: true});
  })));
  return images.map(i => ({src: i.getAttribute('src'), width: i.naturalWidth}));
}"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def review_folder(airflow_db: Path, emulator: Any, vendor_conns: dict[str, str], dags_module_env: None,  # noqa: F811
                  tmp_path: Path) -> Path:
    dag = _load_dags().dags["hailuo_daily_content"]
    media = tmp_path / "media"
    run = dag.test(run_conf={"prompts": PROMPTS, "hailuo_conn_id": vendor_conns["minimax"],
                             "media_base": media.as_uri()})
    assert run.state == "success"
    folder = media / "daily" / run.logical_date.strftime("%Y-%m-%d")
    assert (folder / "index.html").is_file()
    return folder


@pytest.fixture
def served(review_folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(review_folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


def _check_page(page: Any) -> None:
    assert page.locator("article.card").count() == len(PROMPTS)
    posters = page.evaluate(POSTER_STATE)
    assert len(posters) == len(PROMPTS) and all(poster["width"] > 0 for poster in posters), posters
    videos = page.evaluate(VIDEO_STATE)
    assert [video["error"] for video in videos] == [None] * len(PROMPTS), videos  # H.264 plays in Debian's build
    assert [round(video["duration"]) for video in videos] == [6, 6, 10], videos
    assert all(video["width"] == 1366 for video in videos), videos
    for prompt in PROMPTS:
        text = prompt if isinstance(prompt, str) else prompt["prompt"]
        assert page.get_by_text(text, exact=True).count() == 1


def test_review_page_plays_every_video(served: str, review_folder: Path, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page()
    page.goto(served, wait_until="networkidle")
    _check_page(page)
    page.evaluate("() => Promise.all([...document.querySelectorAll('video')].map(v => {"
                  " v.currentTime = 2; return new Promise(done => v.addEventListener('seeked', done, {once: true}));"
                  " }))")  # show a labelled frame of each clip in the screenshot
    save_screenshot(page, tmp_path, "review-page")
    # copied as it is: the same page straight from disk
    page.goto((review_folder / "index.html").as_uri(), wait_until="load")
    _check_page(page)
    page.close()
