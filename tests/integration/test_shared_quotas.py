"""FunderPro's quota is shared by every worker: inside a flow run each coupon check holds a slot
of the `funderpro-api` global concurrency limit (tasks/quotas.py), so however many threads and
workers check codes, FunderPro never sees more requests at once than the limit allows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from promostack.runtime import Runtime, build_runtime, install_runtime
from promostack.templates.store import TemplateStore
from tasks.quotas import FUNDERPRO_API
from tests.conftest import make_settings
from tests.fakes.funderpro import FakeFunderPro, run_fake_funderpro
from tests.integration.prefect_limits import drop_global_limit, global_limit
from tests.integration.test_render_flows import bulk_template
from tests.integration.test_template_store import png

CODES = [f"FP{i:02d}" for i in range(16)]


@pytest.fixture
def funderpro_world(db_url, tmp_path, prefect_harness) -> Iterator[tuple[Runtime, FakeFunderPro]]:  # type: ignore[no-untyped-def]
    codes = {code: (True, None, 10.0) for code in CODES}
    with run_fake_funderpro(FakeFunderPro(codes=codes, hold_s=0.05)) as fake:
        settings = make_settings(tmp_path, database_url=db_url, funderpro_product_id="prod-1", funderpro_api_base=fake.base_url)
        runtime = build_runtime(settings)
        TemplateStore(runtime.store).save(bulk_template(), png(400, 200))
        with install_runtime(runtime):
            yield runtime, fake
        runtime.close()


def _bulk(runtime: Runtime) -> None:
    from flows.bulk_render import bulk_render

    csv_text = "code\n" + "\n".join(CODES) + "\n"
    report = bulk_render(template_slug="bulk", csv_text=csv_text, workers=1)
    assert report.rendered == len(CODES)


def test_a_bulk_renders_coupon_checks_hold_the_shared_funderpro_limit(funderpro_world) -> None:  # type: ignore[no-untyped-def]
    runtime, fake = funderpro_world

    async def with_limit() -> None:
        async with global_limit(FUNDERPRO_API, 2):
            await asyncio.to_thread(_bulk, runtime)

    asyncio.run(with_limit())
    assert fake.requests == len(CODES) and fake.max_in_flight == 2


def test_without_the_limit_the_checks_overlap_as_the_threads_allow(funderpro_world) -> None:  # type: ignore[no-untyped-def]
    runtime, fake = funderpro_world
    asyncio.run(drop_global_limit(FUNDERPRO_API))  # as where the set-up never ran
    _bulk(runtime)  # nothing waits on Prefect
    assert fake.requests == len(CODES) and fake.max_in_flight > 2
