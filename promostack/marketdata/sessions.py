"""When spot gold trades: Sunday 22:00 to Friday 21:00 UTC (the usual XAU/USD week).

The hours are fixed in UTC; the one-hour shift some brokers make with US daylight saving and
the odd holiday close are not modelled: a scheduled run then finds no new candle and does nothing.
"""

from __future__ import annotations

from datetime import datetime, timezone

from promostack.errors import InvalidInput

SUNDAY, FRIDAY, SATURDAY = 6, 4, 5
OPEN_HOUR_SUNDAY = 22
CLOSE_HOUR_FRIDAY = 21


def gold_market_open(now: datetime) -> bool:
    """True while XAU/USD trades at `now` (timezone-aware)."""
    if now.tzinfo is None:
        raise InvalidInput("`now` must be timezone-aware")
    utc = now.astimezone(timezone.utc)
    day = utc.weekday()
    if day == SATURDAY:
        return False
    if day == SUNDAY:
        return utc.hour >= OPEN_HOUR_SUNDAY
    if day == FRIDAY:
        return utc.hour < CLOSE_HOUR_FRIDAY
    return True
