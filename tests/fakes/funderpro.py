"""A fake FunderPro discount API: a real HTTP server on loopback speaking the shape that
`promostack.coupons.funderpro` documents, with switches for outages and a request counter."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import parse_qs, urlparse

Mode = Literal["ok", "5xx", "429", "garbage", "slow"]


@dataclass
class FakeFunderPro:
    """The server's state: known codes, the product they apply to, how it misbehaves."""

    product_id: str = "prod-1"
    # code -> (valid, reason, discount_percent)
    codes: dict[str, tuple[bool, str | None, float | None]] = field(default_factory=dict)
    mode: Mode = "ok"
    fail_next: int = 0  # answer this many requests with 503 first, then behave per `mode`
    slow_s: float = 2.0
    requests: int = 0
    hold_s: float = 0.0  # every answer waits this long (so overlapping requests can be counted)
    in_flight: int = 0
    max_in_flight: int = 0  # the most requests the server was answering at one moment
    base_url: str = ""
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        """`answer`, counting the requests in flight around it."""
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.hold_s:
                self._release.wait(self.hold_s)
            return self.answer(path, query)
        finally:
            with self._lock:
                self.in_flight -= 1

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        """The status and body for one request."""
        self.requests += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            return 503, b'{"error": "maintenance"}'
        if self.mode == "5xx":
            return 503, b'{"error": "maintenance"}'
        if self.mode == "429":
            return 429, b'{"error": "slow down"}'
        if self.mode == "garbage":
            return 200, b"<html>proxy error</html>"
        if self.mode == "slow":
            self._release.wait(self.slow_s)
        if path != "/discounts/validate":
            return 404, b'{"error": "no such route"}'
        code = (query.get("code") or [""])[0]
        product = (query.get("product_id") or [""])[0]
        if not code:
            return 422, b'{"error": "code is required"}'
        if code not in self.codes:
            return 404, b'{"error": "unknown code"}'
        valid, reason, discount = self.codes[code]
        if product != self.product_id:
            valid, reason = False, "wrong_product"
        body = {"code": code, "valid": valid}
        if valid:
            body["discount_percent"] = discount
        else:
            body["reason"] = reason
        return 200, json.dumps(body).encode()


@contextmanager
def run_fake_funderpro(fake: FakeFunderPro | None = None) -> Iterator[FakeFunderPro]:
    """Serve `fake` on a free loopback port for the duration of the block."""
    fake = fake or FakeFunderPro()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            status, body = fake.serve(url.path, parse_qs(url.query))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (time-out tests)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake._release.set()  # let slow handlers finish instead of holding the shutdown
        server.shutdown()
        server.server_close()
