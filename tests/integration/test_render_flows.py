"""The render flows under Prefect: one promo, the bulk job (and its resume), the template sync."""

import io
import zipfile
from collections.abc import Iterator

import pytest
from PIL import Image
from sqlalchemy import select

from promostack.coupons import CouponServiceUnavailable, InvalidCoupon, LocalRegistry
from promostack.db import GenerationEvent
from flows.render_promo import make_promo
from promostack.promo import PromoRequest
from promostack.runtime import Runtime, build_runtime, install_runtime
from promostack.templates.schema import TemplateMeta
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


async def test_logo_passed_in_process_is_drawn_into_the_logo_area(prefect_harness, runtime) -> None:
    from flows.render_promo import render_promo

    with_logo = meta("with-logo", logo_area={"box": {"x": 320, "y": 120, "w": 60, "h": 60}})
    TemplateStore(runtime.store).save(with_logo, png(400, 200))
    LocalRegistry(runtime.sessions).add("LOGO1")
    request = PromoRequest(template_slug="with-logo", coupon_code="LOGO1", logo=png(60, 60, "#ff0000"))
    result = await render_promo(request)
    picture = Image.open(io.BytesIO(result.image)).convert("RGB")
    assert picture.getpixel((350, 150)) == (255, 0, 0)
    assert picture.getpixel((390, 190)) == (0x20, 0x40, 0x80)


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
    codes = {"WELCOME10": (True, None, 10.0)}
    with run_fake_funderpro(FakeFunderPro(mode="5xx", codes=codes)) as fake:
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


async def test_brief_funderpro_outage_is_ridden_out_by_a_retry(prefect_harness, funderpro_down) -> None:
    from flows.render_promo import render_promo

    runtime, fake = funderpro_down
    fake.mode, fake.fail_next = "ok", 1
    result = await render_promo(PromoRequest(template_slug="black-friday", coupon_code="WELCOME10"))
    assert Image.open(io.BytesIO(result.image)).size == (400, 200)
    assert fake.requests == 2
    assert [e.success for e in events(runtime)] == [True]


async def test_plain_make_promo_gives_the_same_image_without_prefect(promo_runtime) -> None:
    request = PromoRequest(template_slug="black-friday", coupon_code="WELCOME10", fmt="jpeg")
    result = await make_promo(promo_runtime, request)
    assert Image.open(io.BytesIO(result.image)).format == "JPEG"
    assert result.output_key is None and [e.success for e in events(promo_runtime)] == [True]


# --- bulk render ---------------------------------------------------------------------------------


def bulk_template() -> TemplateMeta:
    return TemplateMeta(
        slug="bulk",
        name="Bulk",
        image_key="templates/bulk/background.png",
        width=400,
        height=200,
        text_areas=[
            {"id": "code", "source": "coupon", "box": {"x": 10, "y": 10, "w": 380, "h": 80}},
            {"id": "headline", "box": {"x": 10, "y": 100, "w": 380, "h": 40}, "max_chars": 20, "default_text": "Hi"},
        ],
    )


CODES = [f"BULK{i:02d}" for i in range(20)]


@pytest.fixture
def bulk_runtime(runtime: Runtime) -> Runtime:
    TemplateStore(runtime.store).save(bulk_template(), png(400, 200))
    registry = LocalRegistry(runtime.sessions)
    for code in CODES:
        registry.add(code)
    return runtime


def codes_csv(extra_rows: list[str] = ()) -> str:
    return "\n".join(["code,headline", *[f"{c.lower()},Deal {c}" for c in CODES], *extra_rows]) + "\n"


def zip_names(runtime: Runtime, key: str) -> list[str]:
    return sorted(zipfile.ZipFile(io.BytesIO(runtime.store.get(key))).namelist())


def artifacts_of(flow_run_id) -> dict[str, object]:
    """The artifacts a flow run published in the Prefect UI, by key."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {artifact.key: artifact for artifact in found}


class Crash(Exception):
    """Stands for the process dying part-way through a run."""


def test_bulk_render_resumes_after_a_crash_and_renders_only_the_rest(prefect_harness, bulk_runtime) -> None:
    from flows.bulk_render import bulk_render
    from promostack.bulk import prepare_job, run_bulk

    csv_text = codes_csv()
    job = prepare_job(TemplateStore(bulk_runtime.store), "bulk", csv_text=csv_text)

    def crash_after_three(done: int, total: int) -> None:
        if done == 3:
            raise Crash()

    with pytest.raises(Crash):
        run_bulk(job, bulk_runtime.store, on_progress=crash_after_three)
    assert len(bulk_runtime.store.list(f"bulk/{job.job_id}/images/")) == 3

    report = bulk_render(template_slug="bulk", csv_text=csv_text, workers=1)
    assert (report.job_id, report.rendered, report.skipped, report.problems) == (job.job_id, 17, 3, 0)
    assert zip_names(bulk_runtime, report.zip_key) == [f"{c}.png" for c in CODES]

    # The crashed run wrote no events; its 3 stored images get theirs on the resume.
    assert sorted(e.coupon_code for e in events(bulk_runtime)) == CODES

    again = bulk_render(template_slug="bulk", csv_text=csv_text, workers=1)
    assert (again.rendered, again.skipped) == (0, 20)
    assert len(events(bulk_runtime)) == 20  # every image once, however often the job runs


def test_bad_rows_are_reported_and_the_rest_still_rendered(prefect_harness, bulk_runtime) -> None:
    from flows.bulk_render import bulk_render

    bad = ["not a code,x", "UNKNOWN1,x", "BULK00,dup", f"{'A' * 3},{'very long headline ' * 20}"]
    LocalRegistry(bulk_runtime.sessions).add("AAA")
    state = bulk_render(
        template_slug="bulk", csv_text=codes_csv(bad), workers=1, zip_key="exports/out.zip", return_state=True
    )
    report = state.result()
    assert (report.rendered, report.skipped, report.problems, report.zip_key) == (20, 0, 4, "exports/out.zip")
    names = zip_names(bulk_runtime, "exports/out.zip")
    assert "problems.csv" in names and len(names) == 21
    problems = zipfile.ZipFile(io.BytesIO(bulk_runtime.store.get("exports/out.zip"))).read("problems.csv").decode()
    assert "duplicate of line 2" in problems and "UNKNOWN1 is not a known coupon code" in problems
    assert "headline" in problems
    recorded = events(bulk_runtime)
    assert [e.success for e in recorded].count(True) == 20 and [e.success for e in recorded].count(False) == 4
    assert {e.channel for e in recorded} == {"bulk"}
    artifacts = artifacts_of(state.state_details.flow_run_id)
    assert artifacts[f"bulk-{report.job_id}"].data == 100.0
    table = artifacts["bulk-render-problems"].data
    assert "UNKNOWN1" in table and "duplicate of line 2" in table


def test_bulk_render_with_two_workers_renders_every_code(prefect_harness, bulk_runtime) -> None:
    from flows.bulk_render import bulk_render

    report = bulk_render(template_slug="bulk", csv_text=codes_csv(), workers=2, fmt="jpeg")
    assert (report.rendered, report.problems) == (20, 0)
    names = zip_names(bulk_runtime, report.zip_key)
    assert names == [f"{c}.jpg" for c in CODES]


def test_csv_without_a_code_column_is_refused_naming_the_header(bulk_runtime) -> None:
    from promostack.bulk import prepare_job
    from promostack.errors import InvalidInput

    with pytest.raises(InvalidInput, match="needs a 'code' column; its header is coupon"):
        prepare_job(TemplateStore(bulk_runtime.store), "bulk", csv_text="coupon\nA\n")
    with pytest.raises(InvalidInput, match="price are not text areas"):
        prepare_job(TemplateStore(bulk_runtime.store), "bulk", csv_text="code,price\nA,1\n")


# --- template sync -------------------------------------------------------------------------------


def test_sync_copies_each_template_to_the_side_where_it_is_older(prefect_harness, runtime, tmp_path) -> None:
    from flows.sync_templates import sync_templates
    from promostack.storage import LocalStore

    mirror = TemplateStore(LocalStore(tmp_path / "mirror"))
    storage = TemplateStore(runtime.store)
    storage.save(meta("only-remote", name="Remote"), png(400, 200))
    mirror.save(meta("only-local", name="Local"), png(400, 200))
    storage.save(meta("both", name="Old name"), png(400, 200))
    mirror.save(meta("both", name="New name"), png(400, 200))  # saved later: newer

    state = sync_templates(mirror_dir=str(tmp_path / "mirror"), return_state=True)
    report = state.result()
    assert (report.pushed, report.pulled, report.failed) == (["both", "only-local"], ["only-remote"], {})
    moved = artifacts_of(state.state_details.flow_run_id)["template-sync"].data
    assert "only-local" in moved and "newer in the mirror" in moved and "only in storage" in moved
    assert storage.get("both").name == "New name" and storage.get("both") == mirror.get("both")
    assert mirror.image("only-remote") == storage.image("only-remote")
    assert [t.slug for t in storage.index().templates] == ["both", "only-local", "only-remote"]
    assert [t.slug for t in mirror.index().templates] == ["both", "only-local", "only-remote"]
    [backup] = storage.backups("both")  # the meta the sync replaced
    assert b'"Old name"' in runtime.store.get(backup)

    again = sync_templates(mirror_dir=str(tmp_path / "mirror"))
    assert (again.pushed, again.pulled, again.in_step) == ([], [], ["both", "only-local", "only-remote"])


def test_template_deleted_in_storage_stays_deleted_and_leaves_the_mirror(prefect_harness, runtime, tmp_path) -> None:
    from flows.sync_templates import sync_templates
    from promostack.storage import LocalStore

    mirror = TemplateStore(LocalStore(tmp_path / "mirror"))
    storage = TemplateStore(runtime.store)
    storage.save(meta("gone", name="Gone"), png(400, 200))
    storage.save(meta("kept", name="Kept"), png(400, 200))
    sync_templates(mirror_dir=str(tmp_path / "mirror"))
    assert mirror.exists("gone")

    storage.delete("gone")  # an admin deletes it
    report = sync_templates(mirror_dir=str(tmp_path / "mirror"))
    assert (report.deleted, report.pushed) == (["gone"], [])
    assert not storage.exists("gone") and not mirror.exists("gone")
    assert [t.slug for t in mirror.index().templates] == ["kept"]
    assert mirror.backups("gone")  # the mirror's copy is backed up, not lost

    storage.save(meta("gone", name="Back again"), png(400, 200))  # saved anew: it returns
    assert sync_templates(mirror_dir=str(tmp_path / "mirror")).pulled == ["gone"]
    assert mirror.get("gone").name == "Back again"


def test_sync_reports_a_template_it_cannot_copy_and_still_copies_the_rest(prefect_harness, runtime, tmp_path) -> None:
    from flows.sync_templates import SyncIncomplete, sync_templates
    from promostack.storage import LocalStore

    mirror = TemplateStore(LocalStore(tmp_path / "mirror"))
    mirror.save(meta("good", name="Good"), png(400, 200))
    # Written behind the store's back: a meta whose image is not the size it claims.
    broken = meta("broken", name="Broken")
    mirror.store.put("templates/broken/background.png", png(10, 10))
    mirror.store.put("templates/broken/meta.json", broken.model_dump_json().encode())

    with pytest.raises(SyncIncomplete, match="could not copy broken"):
        sync_templates(mirror_dir=str(tmp_path / "mirror"))
    storage = TemplateStore(runtime.store)
    assert storage.get("good") == mirror.get("good")
    assert not storage.exists("broken")


def test_bulk_render_on_s3_with_two_workers(prefect_harness, db_url, s3_settings) -> None:
    from flows.bulk_render import bulk_render

    rt = build_runtime(s3_settings.model_copy(update={"database_url": db_url}))
    TemplateStore(rt.store).save(bulk_template(), png(400, 200))
    registry = LocalRegistry(rt.sessions)
    for code in CODES:
        registry.add(code)
    with install_runtime(rt):
        report = bulk_render(template_slug="bulk", csv_text=codes_csv(), workers=2)
    assert (report.rendered, report.problems) == (20, 0)
    assert zip_names(rt, report.zip_key) == [f"{c}.png" for c in CODES]
    rt.close()


def test_bulk_render_reads_the_csv_from_storage_and_names_a_missing_one(prefect_harness, bulk_runtime) -> None:
    from flows.bulk_render import bulk_render
    from promostack.errors import InvalidInput

    bulk_runtime.store.put("uploads/codes.csv", codes_csv().encode())
    report = bulk_render(template_slug="bulk", csv_key="uploads/codes.csv", workers=1)
    assert (report.rendered, report.problems) == (20, 0)
    with pytest.raises(InvalidInput, match="csv_key: nothing is stored at 'uploads/none.csv'"):
        bulk_render(template_slug="bulk", csv_key="uploads/none.csv")
