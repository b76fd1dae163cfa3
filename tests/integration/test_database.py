"""The data layer on SQLite and on the real Postgres: migrations, constraints, round trips."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from promostack.db import BotUser, Coupon, GenerationEvent, Signal, session_scope


def _signal(**overrides) -> Signal:
    values = dict(
        symbol="XAU/USD",
        interval="15min",
        candle_time=datetime(2026, 11, 2, 10, 15, tzinfo=timezone.utc),
        side="BUY",
        entry=2650.0,
        take_profit=2660.0,
        stop_loss=2645.0,
        atr=4.0,
        reasons={"ema": "fast above slow"},
    )
    values.update(overrides)
    return Signal(**values)


def test_migrations_create_every_model_table(db_engine) -> None:
    tables = set(inspect(db_engine).get_table_names())
    assert {"bot_users", "generation_events", "coupons", "signals", "alembic_version"} <= tables


def test_generation_event_round_trips_with_aware_utc_time(sessions) -> None:
    with session_scope(sessions) as session:
        session.add(GenerationEvent(channel="web", template_slug="gold", coupon_code="X1", success=True, render_ms=12.5))
    with session_scope(sessions) as session:
        event = session.scalars(select(GenerationEvent)).one()
    assert event.template_slug == "gold" and event.success
    assert event.created_at.utcoffset() == timedelta(0), "read back timezone-aware UTC on both databases"


def test_a_time_in_another_zone_is_stored_as_the_same_instant_in_utc(sessions) -> None:
    paris = timezone(timedelta(hours=1))
    with session_scope(sessions) as session:
        session.add(Coupon(code="TZ", expires_at=datetime(2026, 12, 1, 10, 0, tzinfo=paris)))
    with session_scope(sessions) as session:
        expires = session.get(Coupon, "TZ").expires_at
    assert expires == datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc) and expires.utcoffset() == timedelta(0)


def test_a_bot_user_is_unique_per_bot(sessions) -> None:
    with session_scope(sessions) as session:
        session.add(BotUser(bot="promo", telegram_id=42))
    with pytest.raises(IntegrityError):
        with session_scope(sessions) as session:
            session.add(BotUser(bot="promo", telegram_id=42))
    with session_scope(sessions) as session:
        session.add(BotUser(bot="forex", telegram_id=42))  # another bot may know the same person


def test_two_signals_for_the_same_candle_are_refused_by_the_database(sessions) -> None:
    with session_scope(sessions) as session:
        session.add(_signal(status="take_profit"))
    with pytest.raises(IntegrityError):
        with session_scope(sessions) as session:
            session.add(_signal(status="stop_loss"))


def test_at_most_one_open_signal_per_symbol(sessions) -> None:
    later = datetime(2026, 11, 2, 10, 30, tzinfo=timezone.utc)
    with session_scope(sessions) as session:
        session.add(_signal())
    with pytest.raises(IntegrityError):
        with session_scope(sessions) as session:
            session.add(_signal(candle_time=later))
    with session_scope(sessions) as session:
        session.add(_signal(candle_time=later, status="expired"))  # closed ones do not count


def test_coupon_defaults(sessions) -> None:
    with session_scope(sessions) as session:
        session.add(Coupon(code="WELCOME10"))
    with session_scope(sessions) as session:
        coupon = session.get(Coupon, "WELCOME10")
    assert coupon.active and coupon.usage_count == 0
