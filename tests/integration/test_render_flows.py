"""The render flows under Prefect: one promo, the bulk job (and its resume), the template sync."""

import io
from collections.abc import Iterator

import pytest
from PIL import Image
from sqlalchemy import select

from promostack.coupons import CouponServiceUnavailable, InvalidCoupon, LocalRegistry
from promostack.db import GenerationEvent
from promostack.promo import PromoRequest, make_promo
from promostack.runtime import Runtime, build_runtime, install_runtime
from promostack.templates.store import TemplateNotFound, TemplateStore
from tests.conftest import make_settings
from tests.fakes.funderpro import FakeFunderPro, run_fake_funderpro
from tests.integration.test_template_store import meta, png

pytestmark = pytest.mark.prefect


def events(runtime: Runtime) -> list[GenerationEvent]:
    with runtime.sessions() as session:
        return list(session.scalars(select(GenerationEvent).order_by(GenerationEvent.id)))


@pytest.fixture
def promo_runtime(runtime: Runtime) -> Runtime:
    """The test runtime with one template and one valid coupon."""
    TemplateStore(runtime.store).save(meta(), png(400, 200))
    LocalRegistry(runtime.sessions).add("WELCOME10", discount=10)
    return runtime


async def test_render_promo_returns_the_image_and_records_a_success(prefect_harness, promo_runtime) -> None:
    from flows.render_promo import render_promo

    request = PromoRequest(template_slug="black-friday", coupon_code="welcome10", channel="telegram", user_ref="42", store_output=True)
    result = await render_promo(request)
    assert Image.open(io.BytesIO(result.image)).size == (400, 200) == (result.width, result.height)
    assert result.content_type == "image/png"
    assert promo_runtime.store.get(result.output_key) == result.image
    [event] = events(promo_runtime)
    assert (event.success, event.channel, event.coupon_code, event.user_ref) == (True, "telegram", "WELCOME10", "42")
    assert event.output_key == result.output_key and event.render_ms > 0


async def test_invalid_coupon_raises_and_records_a_failed_event(prefect_harness, promo_runtime) -> None:
    from flows.render_promo import render_promo

    with pytest.raises(InvalidCoupon, match="NOPE is not a known coupon code"):
        await render_promo(PromoRequest(template_slug="black-friday", coupon_code="nope"))
    [event] = events(promo_runtime)
    assert not event.success and "not a known coupon" in event.error


async def test_unknown_template_raises_not_found_and_records_it(prefect_harness, promo_runtime) -> None:
    from flows.render_promo import render_promo

    with pytest.raises(TemplateNotFound, match="'summer'"):
        await render_promo(PromoRequest(template_slug="summer", coupon_code="WELCOME10"))
    [event] = events(promo_runtime)
    assert not event.success and event.template_slug == "summer"


async def test_text_for_an_unknown_area_is_a_render_error(prefect_harness, promo_runtime) -> None:
    from flows.render_promo import render_promo
    from promostack.render import RenderError

    with pytest.raises(RenderError, match="no text area 'headline'"):
        await render_promo(PromoRequest(template_slug="black-friday", coupon_code="WELCOME10", texts={"headline": "Hi"}))
    assert [e.success for e in events(promo_runtime)] == [False]


@pytest.fixture
def funderpro_down(db_url, tmp_path) -> Iterator[tuple[Runtime, FakeFunderPro]]:
    with run_fake_funderpro(FakeFunderPro(mode="5xx")) as fake:
        settings = make_settings(
            tmp_path, database_url=db_url, funderpro_product_id="prod-1", funderpro_api_base=fake.base_url
        )
        rt = build_runtime(settings)
        TemplateStore(rt.store).save(meta(), png(400, 200))
        with install_runtime(rt):
            yield rt, fake
        rt.close()


async def test_funderpro_outage_is_retried_then_reported_as_unavailable(prefect_harness, funderpro_down) -> None:
    from flows.render_promo import render_promo

    runtime, fake = funderpro_down
    with pytest.raises(CouponServiceUnavailable, match="HTTP 503"):
        await render_promo(PromoRequest(template_slug="black-friday", coupon_code="WELCOME10"))
    assert fake.requests == 3  # the first try and two retries
    [event] = events(runtime)
    assert not event.success and "CouponServiceUnavailable" in event.error


async def test_plain_make_promo_gives_the_same_image_without_prefect(promo_runtime) -> None:
    request = PromoRequest(template_slug="black-friday", coupon_code="WELCOME10", fmt="jpeg")
    result = await make_promo(promo_runtime, request)
    assert Image.open(io.BytesIO(result.image)).format == "JPEG"
    assert result.output_key is None and [e.success for e in events(promo_runtime)] == [True]
