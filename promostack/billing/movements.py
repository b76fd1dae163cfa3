"""MRR movements and the churn figures built on them (values in, values out).

A movement is one change of a customer's MRR in one currency, classified as Stripe Billing does:

- **new**: from zero to positive, the customer's first time paying;
- **reactivation**: from zero to positive, after having paid before and churned;
- **expansion** / **contraction**: up or down while staying positive (plan or quantity
  changes; a trial counts zero, so a trial converting to paid is *new*);
- **churn**: from positive to zero (canceled, unpaid, or every counted item removed).

Net new MRR = new + expansion + reactivation − contraction − churn.

Over a window (30 days by default, as Stripe's dashboard):

- subscriber churn rate = customers churned ÷ (paying customers at the start + new customers);
- gross MRR churn rate = (churned + contraction MRR) ÷ MRR at the start;
- net MRR churn rate = (churned + contraction − expansion − reactivation MRR) ÷ MRR at the start
  (negative when expansion outgrows the losses);
- ARPU = MRR ÷ paying customers; LTV = ARPU ÷ subscriber churn rate (undefined at zero churn).

Baremetrics and ChartMogul differ: ChartMogul counts a reactivation only after a gap, and
both compute churn on customers at the start of the period only (no "+ new" in the divisor).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

KINDS = ("new", "expansion", "contraction", "churn", "reactivation")
# Below a hundredth of a cent, two MRR values are the same (float sums of normalised amounts).
EPSILON = 0.01


def classify(before: float, after: float, ever_paid: bool) -> str | None:
    """The kind of the change `before` → `after`, or None when nothing changed."""
    if abs(after - before) < EPSILON:
        return None
    if before < EPSILON:
        return "reactivation" if ever_paid else "new"
    if after < EPSILON:
        return "churn"
    return "expansion" if after > before else "contraction"


@dataclass(frozen=True)
class Movement:
    """One classified change of a customer's MRR."""

    customer_id: str
    currency: str
    kind: str
    before: float
    after: float
    at: datetime

    @property
    def delta(self) -> float:
        """after − before (negative for contraction and churn)."""
        return self.after - self.before


@dataclass
class MonthMovements:
    """The movements of one month in one currency: MRR amounts (losses positive) and counts."""

    month: str  # YYYY-MM
    currency: str
    new: float = 0.0
    expansion: float = 0.0
    contraction: float = 0.0
    churn: float = 0.0
    reactivation: float = 0.0
    new_customers: int = 0
    churned_customers: int = 0
    reactivated_customers: int = 0

    @property
    def net_new(self) -> float:
        """new + expansion + reactivation − contraction − churn."""
        return self.new + self.expansion + self.reactivation - self.contraction - self.churn


def monthly(movements: Iterable[Movement]) -> list[MonthMovements]:
    """Movements summed per (UTC month, currency), oldest month first."""
    months: dict[tuple[str, str], MonthMovements] = {}
    for m in movements:
        key = (m.at.strftime("%Y-%m"), m.currency)
        row = months.setdefault(key, MonthMovements(*key))
        setattr(row, m.kind, getattr(row, m.kind) + abs(m.delta))
        if m.kind == "new":
            row.new_customers += 1
        elif m.kind == "churn":
            row.churned_customers += 1
        elif m.kind == "reactivation":
            row.reactivated_customers += 1
    return [months[k] for k in sorted(months)]


@dataclass(frozen=True)
class ChurnFigures:
    """The window's churn figures in one currency (rates are fractions, None when undefined)."""

    currency: str
    mrr: float
    subscribers: int
    mrr_at_start: float
    subscribers_at_start: int
    new_customers: int
    churned_customers: int
    subscriber_churn_rate: float | None
    gross_mrr_churn_rate: float | None
    net_mrr_churn_rate: float | None
    arpu: float | None
    ltv: float | None


def churn_figures(
    currency: str, mrr: float, subscribers: int, window: Iterable[Movement]
) -> ChurnFigures:
    """Figures for `currency` from its current MRR and paying customers and the window's movements.

    The start of the window is derived backwards from now: MRR then = MRR now − Σ deltas, and
    customers then = customers now − new − reactivated + churned.
    """
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    net = 0.0
    for m in window:
        if m.currency != currency:
            continue
        sums[m.kind] += abs(m.delta)
        counts[m.kind] += 1
        net += m.delta
    mrr_start = mrr - net
    subscribers_start = subscribers - counts["new"] - counts["reactivation"] + counts["churn"]
    base = subscribers_start + counts["new"]
    subscriber_rate = counts["churn"] / base if base > 0 else None
    gross = (sums["churn"] + sums["contraction"]) / mrr_start if mrr_start > EPSILON else None
    net_rate = (
        (sums["churn"] + sums["contraction"] - sums["expansion"] - sums["reactivation"]) / mrr_start
        if mrr_start > EPSILON
        else None
    )
    arpu = mrr / subscribers if subscribers else None
    ltv = arpu / subscriber_rate if arpu is not None and subscriber_rate else None
    return ChurnFigures(
        currency=currency,
        mrr=mrr,
        subscribers=subscribers,
        mrr_at_start=mrr_start,
        subscribers_at_start=subscribers_start,
        new_customers=counts["new"],
        churned_customers=counts["churn"],
        subscriber_churn_rate=subscriber_rate,
        gross_mrr_churn_rate=gross,
        net_mrr_churn_rate=net_rate,
        arpu=arpu,
        ltv=ltv,
    )
