"""What the channel reads: signal posts, closing replies, recaps, celebrations and the equity chart."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from PIL import Image

from promostack.signals.celebrations import TEMPLATES, CelebrationWriter, Win, template_celebration
from promostack.signals.equity_chart import equity_png
from promostack.signals.messages import close_text, recap_text, signal_text
from promostack.signals.stats import ClosedTrade, equity_curve, max_drawdown, performance, recap_stats
from tests.fakes.chat_llm import FakeChatLLM

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def signal(**overrides: object) -> SimpleNamespace:
    fields = dict(
        symbol="XAU/USD",
        interval="15min",
        candle_time=T0,
        side="BUY",
        entry=2000.0,
        take_profit=2004.0,
        stop_loss=1997.0,
        reasons={"rules": ["Trend: price above EMA200 (1990.00)", "RSI <b>55</b>"]},
        source="live",
        status="take_profit",
        exit_price=2004.0,
        pips=40.0,
        r_multiple=1.333,
    )
    fields.update(overrides)
    return SimpleNamespace(**fields)


def trade(pips: float, hours: int, r: float | None = None) -> ClosedTrade:
    return ClosedTrade(
        "BUY",
        "take_profit" if pips > 0 else "stop_loss",
        T0,
        T0 + timedelta(hours=hours),
        pips,
        r if r is not None else pips / 30,
    )


def test_signal_post_shows_entry_levels_in_pips_and_escaped_reasons() -> None:
    text = signal_text(signal())
    assert "🟢 <b>BUY XAU/USD</b>" in text
    assert "Entry: <b>2000.00</b>" in text and "Take profit: 2004.00 (+40 pips)" in text
    assert "Stop loss: 1997.00 (-30 pips)" in text and "Reward/risk: 1.33" in text
    assert "RSI &lt;b&gt;55&lt;/b&gt;" in text  # reasons are text, never markup
    assert "REPLAY" not in text


def test_every_message_from_replayed_candles_starts_with_replay() -> None:
    replayed = signal(source="replay")
    for text in (
        signal_text(replayed),
        close_text(replayed),
        recap_text("Daily", recap_stats([trade(10, 1)], 1), True),
    ):
        assert "REPLAY" in text.splitlines()[0]


def test_close_reply_says_how_it_ended_with_pips_and_r() -> None:
    loss = close_text(signal(status="stop_loss", exit_price=1997.0, pips=-30.0, r_multiple=-1.0))
    assert "Stop loss hit" in loss and "-30.0 pips" in loss and "-1.00R" in loss
    win = close_text(signal(), celebration="Nice & clean")
    assert "Take profit hit" in win and "+40.0 pips" in win and "Nice &amp; clean" in win


def test_recap_figures_and_the_current_streak() -> None:
    period = [trade(40, 1), trade(-30, 2), trade(40, 3), trade(25, 4)]
    stats = recap_stats(period, opened=5)
    assert (stats.closed, stats.wins, stats.losses, stats.pips) == (4, 3, 1, 75.0)
    assert stats.win_rate == 0.75 and stats.best_pips == 40 and stats.worst_pips == -30
    assert stats.streak == 2 and stats.streak_text == "2 wins"
    text = recap_text("Daily recap", stats, replay=False)
    assert "Win rate: 75%" in text and "Pips: <b>+75.0</b>" in text and "Current streak: 2 wins" in text
    assert recap_stats([trade(-5, 1), trade(-3, 2)], 2).streak_text == "2 losses"


def test_an_empty_period_says_so() -> None:
    text = recap_text("Daily recap", recap_stats([], opened=0), replay=False)
    assert "No signal closed in this period." in text and "Current streak: none" in text


def test_performance_figures_from_hand_computed_trades() -> None:
    trades = [
        trade(40, 1, 1.0),
        trade(-30, 2, -1.0),
        trade(40, 3, 1.0),
        trade(-30, 5, -1.0),
        trade(-30, 6, -1.0),
    ]
    report = performance(trades)
    assert report.total_pips == -10.0 and report.win_rate == pytest.approx(0.4)
    assert report.profit_factor == pytest.approx(80 / 90, abs=0.005)
    assert report.expectancy_pips == -2.0 and report.expectancy_r == pytest.approx(-0.2)
    # Equity 0, 40, 10, 50, 20, -10: the deepest fall from a peak is 50 -> -10.
    assert equity_curve(trades) == [0.0, 40.0, 10.0, 50.0, 20.0, -10.0]
    assert report.max_drawdown_pips == 60.0 == max_drawdown(equity_curve(trades))
    assert report.average_duration == timedelta(hours=17 / 5)


def test_template_celebrations_vary_between_signals_and_name_the_pips() -> None:
    lines = {template_celebration(Win(i, "XAU/USD", "BUY", 42.0, 1.4)) for i in range(30)}
    assert len(lines) >= 3 and all("42" in line or "Gold glitters" in line for line in lines)
    assert template_celebration(Win(7, "XAU/USD", "BUY", 42.0, 1.4)) == template_celebration(
        Win(7, "XAU/USD", "BUY", 42.0, 1.4)
    )
    assert len(TEMPLATES) >= 5


async def test_celebration_comes_from_the_chat_model_when_configured() -> None:
    with FakeChatLLM(reply="  Gold shines: +42 pips!  ") as llm:
        writer = CelebrationWriter(llm.base_url, "k", "gpt-test")
        assert await writer.celebrate(Win(1, "XAU/USD", "BUY", 42.0, 1.4)) == "Gold shines: +42 pips!"
        request = llm.requests[0]
    assert request["body"]["model"] == "gpt-test" and "+42 pips" in request["body"]["messages"][-1]["content"]


async def test_a_slow_chat_model_times_out_quickly_to_a_template() -> None:
    with FakeChatLLM() as llm:
        llm.stall_next()
        writer = CelebrationWriter(llm.base_url, "k", "gpt-test", timeout_s=0.3)
        started = datetime.now()
        line = await writer.celebrate(Win(3, "XAU/USD", "SELL", 25.0, 0.8))
    assert line == template_celebration(Win(3, "XAU/USD", "SELL", 25.0, 0.8))
    assert datetime.now() - started < timedelta(seconds=3)


def test_equity_chart_is_a_png_with_the_curve_drawn() -> None:
    png = equity_png([0.0, 40.0, 10.0, 50.0], "Weekly recap")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (960, 480)
    assert len(image.convert("RGB").getcolors(100000) or []) > 10  # more than a blank frame
    assert equity_png([], "Nothing yet").startswith(b"\x89PNG")
