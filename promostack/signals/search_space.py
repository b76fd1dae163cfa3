"""Which strategy parameters the optimiser may change, within what bounds, and the sets it tries.

The candidates are drawn once (seeded, so a run can be repeated) and the same list is tried on
every window: a parameter set is then one thing whose choices can be compared across windows,
which is what the stability figures of a walk-forward report measure. The first candidate is
always the base (live) parameter set, so the report shows how today's settings would have done.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from promostack.errors import InvalidInput
from promostack.signals.params import StrategyParams

#: The default bounds: trend speed, trend strength, the RSI entry bands and the exits. Indicator
#: periods outside the EMAs stay at their published defaults (the fewer knobs, the less to overfit).
DEFAULT_BOUNDS: dict[str, tuple[float, float]] = {
    "ema_fast": (8, 34),
    "ema_slow": (35, 100),
    "adx_min": (15.0, 35.0),
    "rsi_buy_min": (40.0, 60.0),
    "rsi_sell_max": (40.0, 60.0),
    "stop_atr": (1.0, 3.0),
    "target_atr": (1.0, 4.0),
    "expiry_candles": (16, 96),
}

_FIELDS = StrategyParams.model_fields


class SearchSpace(BaseModel):
    """Bounds (low, high, both included) of each searched `StrategyParams` field."""

    model_config = ConfigDict(frozen=True)

    bounds: dict[str, tuple[float, float]] = DEFAULT_BOUNDS

    @field_validator("bounds")
    @classmethod
    def _known_and_ordered(cls, bounds: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for name, (low, high) in bounds.items():
            if name not in _FIELDS or name in ("symbol", "interval"):
                raise ValueError(f"{name!r} is not a numeric strategy parameter")
            if low > high:
                raise ValueError(f"{name}: low {low} is above high {high}")
        return bounds

    def candidates(self, base: StrategyParams, count: int, seed: int = 7) -> list[StrategyParams]:
        """`count` parameter sets: `base` first, then random draws within the bounds (valid ones only)."""
        if count < 1:
            raise InvalidInput("try at least one parameter set")
        rng = np.random.default_rng(seed)
        found = [base]
        attempts = 0
        while len(found) < count:
            attempts += 1
            if attempts > 50 * count:
                raise InvalidInput("the search bounds allow too few valid parameter sets (check EMA order)")
            changes: dict[str, float | int] = {}
            for name, (low, high) in self.bounds.items():
                if _FIELDS[name].annotation is int:
                    changes[name] = int(rng.integers(int(low), int(high) + 1))
                else:
                    changes[name] = round(float(rng.uniform(low, high)), 2)
            try:
                found.append(StrategyParams(**{**base.model_dump(), **changes}))
            except ValidationError:
                continue  # e.g. ema_fast >= ema_slow: not a strategy, draw again
        return found

    def searched(self, params: StrategyParams) -> dict[str, float]:
        """The searched fields of `params`, by name."""
        return {name: getattr(params, name) for name in self.bounds}
