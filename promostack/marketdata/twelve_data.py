"""Twelve Data's `time_series` endpoint: closed candles of a symbol, with its errors made plain.

Twelve Data answers most errors with HTTP 200 and a body like
`{"status": "error", "code": 429, "message": "..."}`; both that and real HTTP statuses are
turned into two exceptions a caller can act on:

* `TwelveDataUnavailable` (a `DependencyError`): rate limit (429), server errors, time-outs,
  unreadable answers. Retrying later is safe: a read changes nothing.
* `TwelveDataRejected` (an `InvalidInput`): a bad symbol or interval (400), a bad or missing key
  (401/403), an unknown symbol (404). Retrying cannot help, so it is never retried.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pandas as pd

from promostack.errors import DependencyError, InvalidInput
from promostack.marketdata.candles import closed_only, interval_seconds, normalise_candles
from promostack.marketdata.rate_limit import SlidingWindowLimiter

RETRYABLE_CODES = {429, 500, 502, 503, 504}
MAX_OUTPUTSIZE = 5000


class TwelveDataUnavailable(DependencyError):
    """Twelve Data could not answer now (rate limit, outage, time-out); try again later."""


class TwelveDataRejected(InvalidInput):
    """Twelve Data refused the request itself (bad symbol, interval or key); retrying won't help."""


class TwelveDataClient:
    """Reads candles from Twelve Data; `source` is "live"."""

    source = "live"

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.twelvedata.com",
        timeout_s: float = 10.0,
        limiter: SlidingWindowLimiter | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            # The key goes in a header, not the query string, so URL logs never carry it.
            headers={"Authorization": f"apikey {api_key}"},
            transport=transport,
        )
        self._limiter = limiter or SlidingWindowLimiter(per_window=8, window_s=60.0)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def time_series(self, symbol: str, interval: str, outputsize: int) -> pd.DataFrame:
        """All candles Twelve Data returns (the forming one included), oldest first, in UTC."""
        interval_seconds(interval)  # refuse an unknown interval before spending a credit
        if not 1 <= outputsize <= MAX_OUTPUTSIZE:
            raise InvalidInput(f"outputsize must be between 1 and {MAX_OUTPUTSIZE}, not {outputsize}")
        params = {"symbol": symbol, "interval": interval, "outputsize": outputsize, "timezone": "UTC"}
        self._limiter.acquire()
        try:
            response = self._client.get("/time_series", params=params)
        except httpx.TimeoutException as exc:
            raise TwelveDataUnavailable(f"Twelve Data timed out for {symbol} {interval}") from exc
        except httpx.HTTPError as exc:
            raise TwelveDataUnavailable(f"Twelve Data unreachable: {type(exc).__name__}: {exc}") from exc
        return _parse(response, symbol, interval)

    def closed_candles(self, symbol: str, interval: str, count: int, now: datetime) -> pd.DataFrame:
        """The newest `count` candles closed at `now`, oldest first."""
        # One extra candle: the newest one Twelve Data sends is usually still forming.
        candles = self.time_series(symbol, interval, min(count + 1, MAX_OUTPUTSIZE))
        return closed_only(candles, interval, now).tail(count)


def _parse(response: httpx.Response, symbol: str, interval: str) -> pd.DataFrame:
    """Candles from a `time_series` answer, or the exception its error calls for."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        if response.status_code in RETRYABLE_CODES or response.status_code >= 500:
            raise TwelveDataUnavailable(f"Twelve Data answered HTTP {response.status_code}")
        raise TwelveDataUnavailable(f"Twelve Data answered HTTP {response.status_code} with no JSON body")
    if body.get("status") == "error" or response.status_code >= 400:
        code = int(body.get("code") or response.status_code)
        message = str(body.get("message") or "no message")
        if code in RETRYABLE_CODES or code >= 500:
            raise TwelveDataUnavailable(f"Twelve Data error {code} for {symbol} {interval}: {message}")
        raise TwelveDataRejected(f"Twelve Data refused {symbol} {interval} ({code}): {message}")
    values = body.get("values")
    if not isinstance(values, list):
        raise TwelveDataUnavailable("Twelve Data answer has no `values` list")
    if not values:
        return normalise_candles(pd.DataFrame(columns=["time", "open", "high", "low", "close"]))
    try:
        frame = pd.DataFrame(
            {
                "time": [v["datetime"] for v in values],
                "open": [v["open"] for v in values],
                "high": [v["high"] for v in values],
                "low": [v["low"] for v in values],
                "close": [v["close"] for v in values],
            }
        )
        # Values come newest first and as strings; normalising sorts and converts them.
        return normalise_candles(frame)
    except (KeyError, TypeError, ValueError) as exc:
        raise TwelveDataUnavailable(f"Twelve Data answer is malformed: {exc}") from exc
