"""A scriptable HTTP server on 127.0.0.1 for download tests (Range, failures, drops, stalls)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HALF = 150_000


@dataclass
class ServerState:
    """What the handler serves and how it misbehaves; counters count down per request."""

    files: dict[str, bytes] = field(default_factory=dict)
    etag: str | None = None
    fail_times: int = 0
    fail_status: int = 500
    drop_times: int = 0  # send full Content-Length, then only drop_after bytes, then close
    drop_after: int = HALF
    stall_times: int = 0  # send half the body, then stall longer than the client's read timeout
    ignore_range: bool = False
    content_encoding: str | None = None
    requests: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _empty(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        st: ServerState = self.server.state  # type: ignore[attr-defined]
        with st.lock:
            st.requests.append({"path": self.path, "range": self.headers.get("Range"),
                                "if_range": self.headers.get("If-Range")})
            fail = st.fail_times > 0
            st.fail_times -= fail
            drop = st.drop_times > 0
            st.drop_times -= drop
            stall = st.stall_times > 0
            st.stall_times -= stall
        if fail:
            return self._empty(st.fail_status)
        body = st.files.get(self.path)
        if body is None:
            return self._empty(404)
        start, status = 0, 200
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if rng and not st.ignore_range and (if_range is None or if_range == st.etag):
            start = int(re.fullmatch(r"bytes=(\d+)-", rng).group(1))
            if start >= len(body):
                return self._empty(416, {"Content-Range": f"bytes */{len(body)}"})
            status = 206
        chunk = body[start:]
        self.send_response(status)
        self.send_header("Content-Length", str(len(chunk)))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        if st.etag:
            self.send_header("ETag", st.etag)
        if st.content_encoding:
            self.send_header("Content-Encoding", st.content_encoding)
        self.end_headers()
        try:
            if drop:
                self.wfile.write(chunk[: st.drop_after])
                self.wfile.flush()
                self.close_connection = True
                return
            if stall:
                self.wfile.write(chunk[: len(chunk) // 2])
                self.wfile.flush()
                time.sleep(1.0)
                self.close_connection = True
                return
            self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class Server:
    def __init__(self, httpd: ThreadingHTTPServer, state: ServerState) -> None:
        self.state = state
        self.base = f"http://127.0.0.1:{httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def serve(files: dict[str, bytes]) -> Iterator[Server]:
    """Serve ``files`` (URL path -> bytes) until the block ends."""
    state = ServerState(files=dict(files))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Server(httpd, state)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
