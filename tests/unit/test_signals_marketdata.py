"""Market data: Twelve Data over HTTP (errors, limits), the CSV replay, closed candles, market hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from promostack.errors import InvalidInput
from promostack.marketdata import (
    ReplaySource,
    TwelveDataClient,
    TwelveDataRejected,
    TwelveDataUnavailable,
    build_candle_source,
    gold_market_open,
)
from promostack.marketdata.rate_limit import SlidingWindowLimiter
from promostack.marketdata.synthetic import synthetic_candles, write_candles_csv
from tests.conftest import make_settings
from tests.fakes.twelve_data import FakeTwelveData

CANDLES = synthetic_candles(600, start=datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc))
LAST = CANDLES.index[-1].to_pydatetime()  # the newest candle: still forming a minute after it opened


@pytest.fixture
def twelve_data() -> Iterator[FakeTwelveData]:
    with FakeTwelveData(api_key="k") as fake:
        fake.set_candles("XAU/USD", "15min", CANDLES)
        yield fake


def client(fake: FakeTwelveData, key: str = "k") -> TwelveDataClient:
    return TwelveDataClient(key, fake.base_url, timeout_s=2, limiter=SlidingWindowLimiter(100, 60))


def test_twelve_data_candles_are_closed_only_oldest_first_in_utc(twelve_data: FakeTwelveData) -> None:
    candles = client(twelve_data).closed_candles("XAU/USD", "15min", 100, LAST + timedelta(minutes=1))
    assert len(candles) == 100
    assert candles.index[-1] == CANDLES.index[-2]  # the forming candle is dropped
    assert candles.index.is_monotonic_increasing and str(candles.index.tz) == "UTC"
    assert candles["close"].iloc[-1] == pytest.approx(CANDLES["close"].iloc[-2])
    assert twelve_data.requests[-1]["timezone"] == "UTC" and "apikey" not in twelve_data.requests[-1]


def test_twelve_data_rate_limit_answer_is_a_retryable_dependency_error(twelve_data: FakeTwelveData) -> None:
    twelve_data.fail_next(429, "You have run out of API credits for the current minute.")
    with pytest.raises(TwelveDataUnavailable, match="run out of API credits"):
        client(twelve_data).time_series("XAU/USD", "15min", 10)


def test_twelve_data_server_error_is_retryable(twelve_data: FakeTwelveData) -> None:
    twelve_data.fail_next(500, "Internal error", http_status=500)
    with pytest.raises(TwelveDataUnavailable):
        client(twelve_data).time_series("XAU/USD", "15min", 10)


def test_twelve_data_bad_key_and_bad_symbol_are_rejected_not_retried(twelve_data: FakeTwelveData) -> None:
    with pytest.raises(TwelveDataRejected, match="401"):
        client(twelve_data, key="wrong").time_series("XAU/USD", "15min", 10)
    with pytest.raises(TwelveDataRejected, match="XAU/EUR"):
        client(twelve_data).time_series("XAU/EUR", "15min", 10)


def test_unreachable_twelve_data_is_a_dependency_error() -> None:
    from tests.fakes.ports import free_port

    dead = TwelveDataClient(
        "k", f"http://127.0.0.1:{free_port()}", timeout_s=1, limiter=SlidingWindowLimiter(9, 60)
    )
    with pytest.raises(TwelveDataUnavailable, match="unreachable"):
        dead.time_series("XAU/USD", "15min", 10)


def test_unknown_interval_is_refused_before_any_request(twelve_data: FakeTwelveData) -> None:
    with pytest.raises(InvalidInput, match="unknown candle interval '7min'"):
        client(twelve_data).time_series("XAU/USD", "7min", 10)
    assert twelve_data.requests == []


def test_limiter_makes_the_ninth_call_in_a_minute_wait_for_the_first_to_age_out() -> None:
    clock = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    limiter = SlidingWindowLimiter(8, 60.0, clock=lambda: clock[0], sleep=sleep)
    for i in range(8):
        clock[0] = i * 2.0
        assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(46.0)  # the first call (t=0) leaves at t=60
    assert clock[0] == pytest.approx(60.0)


def test_replay_advances_with_the_clock_and_shows_a_new_candle_every_interval(tmp_path: Path) -> None:
    path = tmp_path / "candles.csv"
    write_candles_csv(CANDLES, str(path))
    replay = ReplaySource(path)
    wednesday = datetime(2026, 11, 25, 10, 7, tzinfo=timezone.utc)
    first = replay.closed_candles("XAU/USD", "15min", 50, wednesday)
    later = replay.closed_candles("XAU/USD", "15min", 50, wednesday + timedelta(minutes=15))
    assert first.index[-1] == pd.Timestamp("2026-11-25 09:45", tz="UTC")
    assert later.index[-1] == first.index[-1] + timedelta(minutes=15)
    # Shifted by whole weeks: the replayed candle is a file candle with the same weekday and hour.
    same_prices = CANDLES[(CANDLES.to_numpy() == first.iloc[-1].to_numpy()).all(axis=1)]
    [original_time] = same_prices.index
    assert (first.index[-1] - original_time) % timedelta(weeks=1) == timedelta(0)


def test_replay_over_a_weekend_ends_at_friday_close_without_filling_the_gap(tmp_path: Path) -> None:
    path = tmp_path / "candles.csv"
    write_candles_csv(CANDLES, str(path))
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    candles = ReplaySource(path).closed_candles("XAU/USD", "15min", 200, saturday)
    assert candles.index[-1] == pd.Timestamp("2026-11-27 20:45", tz="UTC")
    steps = candles.index.to_series().diff().dropna()
    assert steps.max() <= timedelta(hours=49) and (steps == timedelta(minutes=15)).mean() > 0.9


def test_bundled_sample_is_the_embedded_default() -> None:
    source = build_candle_source(make_settings(Path("/nonexistent")))
    assert source.source == "replay"
    candles = source.closed_candles(
        "XAU/USD", "15min", 500, datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
    )
    assert len(candles) == 500 and 1000 < candles["close"].iloc[-1] < 4000


def test_replay_refuses_a_file_without_prices(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("time,open,high\n2026-01-05T00:00:00Z,1,2\n")
    with pytest.raises(InvalidInput, match="lack the column"):
        ReplaySource(path)
    with pytest.raises(InvalidInput, match="does not exist"):
        ReplaySource(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        ("2026-11-27 20:59", True),  # Friday before the close
        ("2026-11-27 21:00", False),  # Friday close
        ("2026-11-28 12:00", False),  # Saturday
        ("2026-11-29 21:59", False),  # Sunday before the open
        ("2026-11-29 22:00", True),  # Sunday open
        ("2026-11-25 03:00", True),  # Wednesday night
    ],
)
def test_gold_market_hours(moment: str, open_: bool) -> None:
    assert gold_market_open(datetime.fromisoformat(moment).replace(tzinfo=timezone.utc)) is open_
