"""Prometheus metrics of the web app, exposed at `/metrics` with `prometheus_client`.

Two kinds, so a scrape of every web process adds up:

- this process's requests (`promostack_http_requests_total`, `promostack_http_request_seconds`),
  counted by the `RequestMetrics` middleware under the route's path template, never the raw URL
  (bounded label values);
- the cluster's work, read from the shared database at scrape time (every process answers the
  same numbers: query them with `max()`, not `sum()`): promo renders by channel and outcome
  (`promostack_renders`), broadcast sends by state (`promostack_sends`), and queue depths
  (`promostack_queue_depth`: Telegram updates stored and not started, promo attempts pending,
  broadcast rows not yet sent). Each registry is built per app (no import-time globals).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promostack.db.broadcasts import BroadcastRecipient
from promostack.db.engine import session_scope
from promostack.db.models import GenerationEvent
from promostack.db.updates import TelegramUpdate

# Database figures are read at most this often, however often Prometheus scrapes.
CACHE_FOR = timedelta(seconds=10)


class WorkCollector(Collector):
    """Renders, sends and queue depths, read from the database (cached `CACHE_FOR`)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._cached: list[Metric] = []
        self._read_at = float("-inf")

    def collect(self) -> Iterator[Metric]:
        now = time.monotonic()
        if now - self._read_at >= CACHE_FOR.total_seconds():
            self._cached = self._read()
            self._read_at = now
        yield from self._cached

    def _read(self) -> list[Metric]:
        renders = GaugeMetricFamily(
            "promostack_renders", "Promo images attempted, by channel and outcome (cluster-wide)",
            labels=["channel", "status"],
        )
        sends = GaugeMetricFamily(
            "promostack_sends", "Broadcast messages by state (cluster-wide)", labels=["state"]
        )
        depth = GaugeMetricFamily(
            "promostack_queue_depth", "Work waiting, by queue (cluster-wide)", labels=["queue"]
        )
        with session_scope(self.sessions) as session:
            by_outcome = session.execute(
                select(GenerationEvent.channel, GenerationEvent.status, func.count()).group_by(
                    GenerationEvent.channel, GenerationEvent.status
                )
            ).all()
            by_state = session.execute(
                select(BroadcastRecipient.state, func.count()).group_by(BroadcastRecipient.state)
            ).all()
            updates_waiting = session.scalar(
                select(func.count()).select_from(TelegramUpdate).where(TelegramUpdate.state == "received")
            )
        for channel, status, count in by_outcome:
            renders.add_metric([channel, status], count)
        states = {state: count for state, count in by_state}
        for state, count in states.items():
            sends.add_metric([state], count)
        pending = sum(count for (_, status, count) in by_outcome if status == "pending")
        depth.add_metric(["telegram_updates"], updates_waiting or 0)
        depth.add_metric(["promo_attempts"], pending)
        depth.add_metric(["broadcast_sends"], states.get("pending", 0) + states.get("sending", 0))
        return [renders, sends, depth]


class Metrics:
    """One app's registry: request counters plus the database collector."""

    def __init__(self, sessions: sessionmaker[Session] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "promostack_http_requests", "HTTP requests answered by this process",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "promostack_http_request_seconds", "Time to answer, by route (this process)",
            ["route"], registry=self.registry,
        )
        self._work: WorkCollector | None = None
        if sessions is not None:
            self.watch(sessions)

    def watch(self, sessions: sessionmaker[Session]) -> None:
        """Nothing; the database figures are read from `sessions` from now on (once per app)."""
        if self._work is None:
            self._work = WorkCollector(sessions)
            self.registry.register(self._work)


class RequestMetrics:
    """ASGI middleware counting each HTTP request under its route's path template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
