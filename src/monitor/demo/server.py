"""A static HTTP server on 127.0.0.1 (a free port) for the demo newsroom and the tests."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves files with Last-Modified (so conditional GETs get 304s) over keep-alive connections, and logs
    nothing."""

    protocol_version = "HTTP/1.1"  # keep-alive, as real news sites: HTTP/1.0 made every page a new connection
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".xml": "application/xml", ".html": "text/html; charset=utf-8"}

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
        return


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops connections when a run opens 16 at once, and each dropped one
    # waits a second for the kernel to retry: the benchmark measured that wait, not the pipeline.
    request_queue_size = 128


@contextmanager
def serve_directory(root: Path, port: int = 0) -> Iterator[str]:
    """Serve `root` on 127.0.0.1 with a free port (or `port`); yields the base URL (no trailing slash)."""
    with serve_handler(functools.partial(_QuietHandler, directory=str(root)), port) as base:
        yield base


@contextmanager
def serve_handler(handler: Callable[..., BaseHTTPRequestHandler], port: int = 0) -> Iterator[str]:
    """Serve a request handler on 127.0.0.1 with a free port (or `port`), in a background thread; yields the base
    URL. A port already taken raises OSError."""
    server = _Server(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="demo-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
