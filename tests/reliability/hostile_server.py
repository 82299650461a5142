"""A small HTTP server that answers what the emulator never would: hostile or broken vendors and CDNs.

Each path gets a responder (``route(path, responder)``); every request is recorded with its
headers, so a test can tell what reached the server (and that no key went where it must not).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Responder = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Hit:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


def send(handler: BaseHTTPRequestHandler, body: bytes, status: int = 200, content_type: str = "application/json",
         headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Trace-Id", "trace-hostile")
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    try:
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass


def json_answer(document: Any, status: int = 200) -> Responder:
    body = json.dumps(document).encode()
    return lambda handler: send(handler, body, status)


def raw_answer(body: bytes, status: int = 200, content_type: str = "application/json",
               headers: dict[str, str] | None = None) -> Responder:
    return lambda handler: send(handler, body, status, content_type, headers)


def redirect(location: str, status: int = 302) -> Responder:
    return lambda handler: send(handler, b"", status, "text/plain", {"Location": location})


def endless(chunk: bytes = b'{"padding": "' + b"x" * 65536, seconds: float = 10.0, head: bytes = b"",
            content_type: str = "application/json", max_bytes: int | None = None) -> Responder:
    """HTTP/1.0 style body with no length, streamed until the client hangs up, ``seconds`` pass or
    ``max_bytes`` were sent (the body then simply ends: a client cannot tell it was cut)."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Trace-Id", "trace-hostile")
        handler.end_headers()
        handler.close_connection = True
        deadline = time.monotonic() + seconds
        sent = 0
        try:
            if head:
                handler.wfile.write(head)
                sent += len(head)
            while time.monotonic() < deadline and (max_bytes is None or sent < max_bytes):
                handler.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    return respond


class HostileServer:
    def __init__(self) -> None:
        self.routes: dict[str, Responder] = {}
        self.hits: list[Hit] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                server.hits.append(Hit(self.command, parts.path, parse_qs(parts.query), dict(self.headers)))
                responder = server.routes.get(parts.path)
                if responder is None:
                    send(self, b'{"error": "no route"}', 404)
                    return
                responder(self)

            do_GET = _handle
            do_POST = _handle
            do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def route(self, path: str, responder: Responder) -> None:
        self.routes[path] = responder

    def hits_on(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    def __enter__(self) -> HostileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
