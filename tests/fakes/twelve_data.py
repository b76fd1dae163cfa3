"""A fake Twelve Data API: a real HTTP server on loopback answering `GET /time_series`.

It answers the way Twelve Data does: `{"meta": {...}, "values": [...], "status": "ok"}` with
values newest first and every number a string; errors as HTTP 200 with
`{"code": 400|401|429, "message": "...", "status": "error"}`. It checks the API key (header
`Authorization: apikey KEY` or `apikey` query parameter) and can enforce a per-minute limit.

    with FakeTwelveData(api_key="k") as td:
        td.set_candles("XAU/USD", "15min", frame)   # frame: UTC index, open/high/low/close
        td.fail_next(429, "You have run out of API credits for the current minute.")
        td.requests                                  # every request's query parameters
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pandas as pd

from tests.fakes.json_http import JsonHandler, serve_in_thread, stop_server
from tests.fakes.ports import free_port


class FakeTwelveData:
    """The fake server; start it with `with` or `.start()`."""

    def __init__(self, api_key: str = "test-key", requests_per_minute: int | None = None) -> None:
        self.api_key = api_key
        self.requests_per_minute = requests_per_minute
        self.requests: list[dict[str, str]] = []
        self._candles: dict[tuple[str, str], pd.DataFrame] = {}
        self._failures: list[tuple[int, str, int]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeTwelveData:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> FakeTwelveData:
        """Serve in a background thread."""
        self._server = serve_in_thread(self.port, _handler_for(self))
        return self

    def stop(self) -> None:
        """Stop serving."""
        stop_server(self._server)

    def set_candles(self, symbol: str, interval: str, candles: pd.DataFrame) -> None:
        """Serve `candles` (oldest first, UTC index) for `symbol` and `interval`."""
        with self._lock:
            self._candles[(symbol, interval)] = candles

    def fail_next(self, code: int, message: str, http_status: int = 200, times: int = 1) -> None:
        """Answer the next `times` requests with an error body of `code` (HTTP `http_status`)."""
        with self._lock:
            self._failures.extend([(code, message, http_status)] * times)

    def answer(self, params: dict[str, str], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) for one `time_series` request."""
        with self._lock:
            self.requests.append(params)
            if self._failures:
                code, message, status = self._failures.pop(0)
                return status, {"code": code, "message": message, "status": "error"}
            key = params.get("apikey") or headers.get("authorization", "").removeprefix("apikey ").strip()
            if key != self.api_key:
                return 200, _error(401, "**apikey** parameter is incorrect or not specified.")
            if self.requests_per_minute is not None and len(self.requests) > self.requests_per_minute:
                return 200, _error(429, "You have run out of API credits for the current minute.")
            symbol, interval = params.get("symbol", ""), params.get("interval", "")
            candles = self._candles.get((symbol, interval))
        if candles is None:
            return 200, _error(400, f"**symbol** {symbol} with interval {interval} is missing or invalid.")
        size = int(params.get("outputsize", "30"))
        newest_first = candles.iloc[::-1].head(size)
        values = [
            {
                "datetime": t.strftime("%Y-%m-%d %H:%M:%S"),
                "open": f"{row.open:.5f}",
                "high": f"{row.high:.5f}",
                "low": f"{row.low:.5f}",
                "close": f"{row.close:.5f}",
            }
            for t, row in zip(newest_first.index, newest_first.itertuples(), strict=True)
        ]
        meta = {
            "symbol": symbol,
            "interval": interval,
            "currency_base": "Gold Spot",
            "currency_quote": "US Dollar",
            "exchange_timezone": "UTC",
            "type": "Physical Currency",
        }
        return 200, {"meta": meta, "values": values, "status": "ok"}


def _error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "status": "error", "meta": {}}


def _handler_for(fake: FakeTwelveData) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            url = urlsplit(self.path)
            if url.path != "/time_series":
                self._send(404, {"code": 404, "message": "Not found", "status": "error"})
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = fake.answer(dict(parse_qsl(url.query)), headers)
            self._send(status, body)


    return Handler
