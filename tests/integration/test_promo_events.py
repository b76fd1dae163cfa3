"""Ops see every promo as a Prefect event; the event never delays or fails the image."""

from __future__ import annotations

import inspect
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from prefect.events.clients import AssertingEventsClient
from prefect.events.worker import EventsWorker
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.render_promo import make_promo
from promostack.coupons import InvalidCoupon, LocalRegistry
from promostack.promo import PromoRequest
from promostack.runtime import Runtime
from promostack.templates.store import TemplateStore
from tests.integration.test_template_store import meta, png


@pytest.fixture
def promo_runtime(runtime: Runtime) -> Runtime:
    """The test runtime with one template and one valid coupon."""
    TemplateStore(runtime.store).save(meta(), png(400, 200))
    LocalRegistry(runtime.sessions).add("WELCOME10", discount=10)
    return runtime


@pytest.fixture
def asserting_events(prefect_harness: None) -> Iterator[type[AssertingEventsClient]]:
    """Prefect's recording events client in place of the harness server's."""
    EventsWorker.drain_all()
    AssertingEventsClient.reset()
    EventsWorker.set_client_override(AssertingEventsClient)
    try:
        yield AssertingEventsClient
    finally:
        EventsWorker.drain_all()
        EventsWorker.set_client_override(None)
        AssertingEventsClient.reset()


async def _drain() -> None:
    # Inside an event loop Prefect's drain_all hands back an awaitable instead of blocking.
    drained = EventsWorker.drain_all()
    if inspect.isawaitable(drained):
        await drained


async def _emitted() -> list:
    await _drain()
    return [event for client in AssertingEventsClient.all for event in getattr(client, "events", [])]


async def test_a_promo_emits_its_event_on_the_template_with_channel_and_bot(promo_runtime, asserting_events) -> None:
    request = PromoRequest(template_slug="black-friday", coupon_code="welcome10", channel="telegram", bot_id="promo")
    await make_promo(promo_runtime, request)
    [event] = await _emitted()
    assert event.event == "promostack.promo.succeeded"
    assert event.resource.id == "promostack.template.black-friday"
    assert {r.id for r in event.related} == {"promostack.channel.telegram", "promostack.bot.promo"}
    assert event.payload["duration_ms"] > 0 and event.payload["error"] is None


async def test_a_refused_promo_emits_a_failed_event_naming_the_error(promo_runtime, asserting_events) -> None:
    with pytest.raises(InvalidCoupon):
        await make_promo(promo_runtime, PromoRequest(template_slug="black-friday", coupon_code="NOPE"))
    [event] = await _emitted()
    assert event.event == "promostack.promo.failed" and "InvalidCoupon" in event.payload["error"]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: a Prefect API that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/api"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


async def test_a_hanging_prefect_api_neither_delays_nor_fails_the_image(promo_runtime, silent_server) -> None:
    await _drain()
    try:
        with temporary_settings({PREFECT_API_URL: silent_server}):
            started = time.perf_counter()
            result = await make_promo(promo_runtime, PromoRequest(template_slug="black-friday", coupon_code="WELCOME10"))
            elapsed = time.perf_counter() - started
    finally:
        # The events worker is still trying to reach the silent server: let it go.
        threading.Thread(target=EventsWorker.drain_all, daemon=True).start()
    assert result.image[:8] == b"\x89PNG\r\n\x1a\n"
    # A render of this template takes milliseconds; the event's connection would hang for good.
    assert elapsed < 5


async def test_with_no_prefect_api_configured_nothing_is_emitted_or_started(promo_runtime) -> None:
    from prefect.server.api.server import SubprocessASGIServer

    await _drain()
    before = dict(SubprocessASGIServer._instances)
    with temporary_settings({PREFECT_API_URL: None}):
        result = await make_promo(promo_runtime, PromoRequest(template_slug="black-friday", coupon_code="WELCOME10"))
    assert result.width == 400
    assert SubprocessASGIServer._instances == before  # no temporary Prefect server was started
