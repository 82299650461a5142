"""``hailuo-emulator`` / ``python -m airflow_provider_hailuo.emulator``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from typing import Any

from .config import CONFIG_KEYS, ConfigError
from .server import DEFAULT_API_KEY, EmulatorServer, is_loopback


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hailuo-emulator",
        description="Local emulator of the MiniMax, DMXAPI and Modelverse Hailuo video APIs. "
        "Vendor base URLs: http://HOST:PORT/minimax, /dmxapi, /modelverse.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8089, help="port to bind (default 8089)")
    parser.add_argument(
        "--api-key",
        default=None,
        help="the key clients must send (default: $HAILUO_EMULATOR_API_KEY, else sk-emulator)",
    )
    parser.add_argument(
        "--generation-seconds",
        type=float,
        default=20.0,
        help="seconds from submit to the final status (default 20)",
    )
    parser.add_argument(
        "--v2-cdn-port",
        type=int,
        default=0,
        help="port of the MiniMax-H3 (v2) video CDN, another origin than the API (default 0: any free port)",
    )
    parser.add_argument("--video-cache-dir", default=None, help="where rendered MP4s are cached")
    parser.add_argument(
        "--config",
        default=None,
        metavar="JSON",
        help="more behaviour options as a JSON object, e.g. '{\"synthetic_video_bytes\": 1000000}'; "
        f"keys: {', '.join(sorted(CONFIG_KEYS))}",
    )
    parser.add_argument("--quiet", action="store_true", help="no access log on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    api_key = args.api_key or os.environ.get("HAILUO_EMULATOR_API_KEY") or DEFAULT_API_KEY
    options: dict[str, Any] = {"generation_seconds": args.generation_seconds}
    if args.config:
        try:
            extra = json.loads(args.config)
        except ValueError as exc:
            print(f"hailuo-emulator: --config is not valid JSON: {exc}", file=sys.stderr)
            return 2
        if not isinstance(extra, dict):
            print("hailuo-emulator: --config must be a JSON object", file=sys.stderr)
            return 2
        options.update(extra)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not is_loopback(args.host):
        print(
            f"hailuo-emulator: WARNING: binding {args.host} exposes the emulator beyond this machine; "
            "it still requires the API key.",
            file=sys.stderr,
            flush=True,
        )
    try:
        server = EmulatorServer(
            host=args.host,
            port=args.port,
            api_key=api_key,
            video_cache_dir=args.video_cache_dir,
            access_log=not args.quiet,
            v2_cdn_port=args.v2_cdn_port,
            **options,
        )
        server.start()
    except (ConfigError, RuntimeError, OSError) as exc:
        print(f"hailuo-emulator: {exc}", file=sys.stderr)
        return 1

    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    url = server.url
    print(
        f"hailuo-emulator listening on {url} "
        f"(minimax: {url}/minimax, dmxapi: {url}/dmxapi, modelverse: {url}/modelverse; "
        f"v2 video CDN on port {server.v2_cdn_port})",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    print("hailuo-emulator stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
