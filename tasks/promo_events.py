"""Promos as Prefect events: what ops see of every promo in the Prefect UI's Event Feed.

A promo made on the fast path (the bot, the web API) runs no flow, so it is shown as what it is —
an event, `promostack.promo.succeeded` / `.failed` / `.unknown`, on the resource of its template,
related to its channel and bot, with the duration and error in the payload. Automations can react
to them (for example: more than N failed promos in 10 minutes).

Emitting never delays or fails the image: `emit_event` only queues the event for Prefect's
background events worker, and any error here is logged at debug level and dropped. With no Prefect
API configured (`PREFECT_API_URL` unset: the web app started alone) nothing is emitted — Prefect
would otherwise start a temporary server of its own to receive the event.
"""

from __future__ import annotations

import logging

from prefect.events import emit_event
from prefect.events.worker import EventsWorker
from prefect.settings import get_current_settings

from promostack.db.generations import Status
from promostack.promo import PromoRequest

log = logging.getLogger(__name__)

EVENT_PREFIX = "promostack.promo"


def events_enabled() -> bool:
    """True when a Prefect API is configured (or a test installed an events client)."""
    return bool(get_current_settings().api.url) or EventsWorker._client_override is not None


def emit_promo_event(
    request: PromoRequest, status: Status, duration_ms: float, error: BaseException | None = None
) -> None:
    """Nothing; queues the promo's event for Prefect when a Prefect API is configured."""
    if not events_enabled():
        return
    related = [
        {"prefect.resource.id": f"promostack.channel.{request.channel}", "prefect.resource.role": "channel"}
    ]
    if request.bot_id:
        related.append({"prefect.resource.id": f"promostack.bot.{request.bot_id}", "prefect.resource.role": "bot"})
    try:
        emit_event(
            event=f"{EVENT_PREFIX}.{status}",
            resource={
                "prefect.resource.id": f"promostack.template.{request.template_slug}",
                "prefect.resource.name": request.template_slug,
            },
            related=related,
            payload={
                "channel": request.channel,
                "bot": request.bot_id,
                "format": request.fmt,
                "duration_ms": round(duration_ms, 1),
                "error": f"{type(error).__name__}: {error}" if error is not None else None,
            },
        )
    except Exception:  # observability only: the image has been decided already
        log.debug("could not emit the promo event for %s", request.template_slug, exc_info=True)
