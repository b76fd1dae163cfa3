"""Making one promo image: check the coupon, load the template, render, store, record.

`make_promo(runtime, request)` runs the steps as plain async code; the `render-promo` flow runs
the same function with the side-effecting steps swapped for Prefect tasks (retries, visibility),
so the two differ only by orchestration and can be timed against each other.

Every attempt is recorded as a `GenerationEvent`, failed ones too. Errors the user caused
(`InvalidCoupon`, `TemplateNotFound`, `RenderError`, any `InvalidInput`) reach the caller
unchanged; `DependencyError`s are what the flow's tasks retry.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from promostack.coupons import CouponCheck, CouponValidator, InvalidCoupon, build_validator, normalise_code
from promostack.db import GenerationEvent, session_scope
from promostack.errors import DependencyError, InvalidInput
from promostack.render import render_template
from promostack.runtime import Runtime
from promostack.storage import ObjectStore
from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateStore

log = logging.getLogger(__name__)

Channel = Literal["web", "api", "telegram", "bulk", "cli"]
Format = Literal["png", "jpeg", "webp"]
CONTENT_TYPES: dict[str, str] = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EXTENSIONS: dict[str, str] = {"png": "png", "jpeg": "jpg", "webp": "webp"}
MAX_LOGO_BYTES = 5 * 1024 * 1024


class PromoRequest(BaseModel):
    """What a caller asks for: a template, a coupon code, texts for the other areas.

    `template`, `code` and `format` are accepted as well as the field names (the JSON API's words).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    template_slug: str = Field(min_length=1, max_length=64, validation_alias=AliasChoices("template_slug", "template"))
    coupon_code: str = Field(min_length=1, max_length=64, validation_alias=AliasChoices("coupon_code", "code"))
    texts: dict[str, str] = Field(default_factory=dict)
    channel: Channel = "api"
    user_ref: str | None = Field(default=None, max_length=64)
    fmt: Format = Field(default="png", validation_alias=AliasChoices("fmt", "format"))
    quality: int = Field(default=90, ge=1, le=100)
    store_output: bool = False
    # Excluded from serialisation: Prefect records a flow's parameters on its server, and a
    # logo (up to 5 MiB) has no business there. In-process callers pass it through untouched.
    logo: bytes | None = Field(default=None, max_length=MAX_LOGO_BYTES, exclude=True)


class PromoResult(BaseModel):
    """The finished image and what is known about it."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    image: bytes
    content_type: str
    width: int
    height: int
    output_key: str | None = None
    render_ms: float


@dataclass(frozen=True)
class GenerationRecord:
    """One attempt, as it goes into `generation_events`."""

    channel: str
    user_ref: str | None
    template_slug: str
    coupon_code: str
    success: bool
    error: str | None = None
    render_ms: float | None = None
    output_key: str | None = None
    # Fixed when the record is made, so writing it again (a retry) adds no second row.
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)


# --- the services a runtime needs for promos (built once per runtime: they cache) ---------------


@dataclass(frozen=True)
class PromoServices:
    """The template store and coupon validator of one runtime."""

    templates: TemplateStore
    validator: CouponValidator


_services: dict[int, PromoServices] = {}
_services_lock = threading.Lock()


def services_for(runtime: Runtime) -> PromoServices:
    """The runtime's template store and validator, built on first use and kept while it lives.

    Kept, because both cache: parsed metas and images, and FunderPro's answers.
    """
    key = id(runtime)
    with _services_lock:
        found = _services.get(key)
        if found is None:
            found = PromoServices(
                templates=TemplateStore(runtime.store),
                validator=build_validator(runtime.settings, runtime.sessions),
            )
            _services[key] = found
            weakref.finalize(runtime, _services.pop, key, None)
        return found


# --- the steps, as plain functions ------------------------------------------------------------


def load_template(templates: TemplateStore, slug: str) -> tuple[TemplateMeta, bytes]:
    """The meta and background image of template `slug`."""
    meta = templates.get(slug)
    return meta, templates.image(slug, meta)


def compose_texts(meta: TemplateMeta, code: str, texts: Mapping[str, str]) -> dict[str, str]:
    """The texts to draw: `texts` plus the coupon code in the template's coupon area."""
    composed = dict(texts)
    area = meta.coupon_area
    if area is not None:
        given = composed.get(area.id)
        if given is not None and normalise_code(given) != code:
            raise InvalidInput(f"texts.{area.id}: this area shows the coupon code; leave it out")
        composed[area.id] = code
    return composed


def render_promo_image(
    meta: TemplateMeta, background: bytes, code: str, request: PromoRequest
) -> tuple[bytes, float]:
    """The rendered image and how long the render took in milliseconds."""
    started = time.perf_counter()
    texts = compose_texts(meta, code, request.texts)
    image = render_template(meta, background, texts, logo=request.logo, fmt=request.fmt, quality=request.quality)
    return image, (time.perf_counter() - started) * 1000


def render_key(fmt: str, now: datetime | None = None) -> str:
    """A new key for a rendered image: `renders/<UTC date>/<uuid>.<ext>`."""
    now = now or datetime.now(timezone.utc)
    return f"renders/{now:%Y-%m-%d}/{uuid.uuid4().hex}.{EXTENSIONS[fmt]}"


def store_render(store: ObjectStore, image: bytes, key: str) -> str:
    """`key`, after storing `image` there (the key is chosen before, so a retry overwrites)."""
    by_extension = {ext: CONTENT_TYPES[fmt] for fmt, ext in EXTENSIONS.items()}
    store.put(key, image, by_extension.get(key.rsplit(".", 1)[-1]))
    return key


def record_generation(runtime: Runtime, record: GenerationRecord) -> None:
    """Insert `record` into `generation_events`; `DependencyError` when the database fails."""
    record_generations(runtime, [record])


def record_generations(runtime: Runtime, records: Sequence[GenerationRecord]) -> None:
    """Insert `records` in one transaction; `DependencyError` when the database fails.

    Idempotent: a record whose `event_id` is already stored is skipped, so a write retried after
    a lost acknowledgement (the commit went through, the answer did not) adds nothing.
    """
    if not records:
        return
    rows = [
        {
            "event_id": record.event_id,
            "created_at": datetime.now(timezone.utc),
            "channel": record.channel,
            "user_ref": record.user_ref[:64] if record.user_ref else None,
            "template_slug": record.template_slug[:64],
            "coupon_code": record.coupon_code[:64],
            "success": record.success,
            "error": record.error[:2000] if record.error else None,
            "render_ms": record.render_ms,
            "output_key": record.output_key,
        }
        for record in records
    ]
    try:
        with session_scope(runtime.sessions) as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
            session.execute(insert(GenerationEvent).on_conflict_do_nothing(index_elements=["event_id"]), rows)
    except SQLAlchemyError as exc:
        raise DependencyError(f"cannot record generation events: {exc.__class__.__name__}") from exc


class GenerationLog:
    """Generation records written in batches as they come, and the rest when the block ends."""

    def __init__(self, runtime: Runtime, batch_size: int = 50) -> None:
        self.runtime = runtime
        self.batch_size = batch_size
        self._pending: list[GenerationRecord] = []

    def add(self, record: GenerationRecord) -> None:
        """Queue `record`, writing the batch once it is full."""
        self._pending.append(record)
        if len(self._pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write every queued record."""
        if self._pending:
            record_generations(self.runtime, self._pending)
            self._pending = []

    def __enter__(self) -> GenerationLog:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc is None:
            self.flush()
            return
        try:
            # The block failed part-way: keep the records of the rows that did finish.
            self.flush()
        except DependencyError:
            log.exception("could not record %d generation events", len(self._pending))


@dataclass(frozen=True)
class PromoInputs:
    """What a render needs from outside: the coupon's (valid) verdict, the template, its image."""

    check: CouponCheck
    meta: TemplateMeta
    background: bytes


async def fetch_inputs(found: PromoServices, code: str, slug: str) -> PromoInputs:
    """The coupon verdict and template of a promo; `InvalidCoupon` when the code is not valid.

    Both are fetched at once (either may be a network call), but the coupon is reported first,
    as if they had run in that order: an invalid code wins over a missing template.
    """
    check, loaded = await asyncio.gather(
        asyncio.to_thread(found.validator.validate, code),
        asyncio.to_thread(load_template, found.templates, slug),
        return_exceptions=True,
    )
    if isinstance(check, BaseException):
        raise check
    if not check.valid:
        raise InvalidCoupon(check)
    if isinstance(loaded, BaseException):
        raise loaded
    meta, background = loaded
    return PromoInputs(check, meta, background)


@dataclass(frozen=True)
class PromoSteps:
    """The steps that touch the outside world; the flow passes Prefect tasks in their place.

    Two steps on the usual path (inputs, record) because each Prefect task run adds its own
    bookkeeping to a promo's latency.
    """

    fetch_inputs: Callable[[str, str], Awaitable[PromoInputs]]
    store_render: Callable[[bytes, str], Awaitable[str]]  # (image, key) -> key
    record_generation: Callable[[GenerationRecord], Awaitable[None]]


def plain_steps(runtime: Runtime) -> PromoSteps:
    """The steps without Prefect: blocking calls moved off the event loop, no retries."""
    found = services_for(runtime)

    async def inputs(code: str, slug: str) -> PromoInputs:
        return await fetch_inputs(found, code, slug)

    async def store(image: bytes, key: str) -> str:
        return await asyncio.to_thread(store_render, runtime.store, image, key)

    async def record(record: GenerationRecord) -> None:
        await asyncio.to_thread(record_generation, runtime, record)

    return PromoSteps(inputs, store, record)


async def make_promo(runtime: Runtime, request: PromoRequest, steps: PromoSteps | None = None) -> PromoResult:
    """The promo image `request` asks for; every attempt is recorded, failed ones too."""
    steps = steps or plain_steps(runtime)
    code = normalise_code(request.coupon_code)
    render_ms: float | None = None
    try:
        inputs = await steps.fetch_inputs(code, request.template_slug)
        check, meta = inputs.check, inputs.meta
        image, render_ms = await asyncio.to_thread(render_promo_image, meta, inputs.background, check.code, request)
        output_key = await steps.store_render(image, render_key(request.fmt)) if request.store_output else None
    except Exception as exc:
        await _record_failure(steps, request, code, exc, render_ms)
        raise
    await steps.record_generation(
        GenerationRecord(
            channel=request.channel,
            user_ref=request.user_ref,
            template_slug=meta.slug,
            coupon_code=check.code,
            success=True,
            render_ms=render_ms,
            output_key=output_key,
        )
    )
    return PromoResult(
        image=image,
        content_type=CONTENT_TYPES[request.fmt],
        width=meta.width,
        height=meta.height,
        output_key=output_key,
        render_ms=render_ms,
    )


async def _record_failure(
    steps: PromoSteps, request: PromoRequest, code: str, exc: Exception, render_ms: float | None
) -> None:
    record = GenerationRecord(
        channel=request.channel,
        user_ref=request.user_ref,
        template_slug=request.template_slug,
        coupon_code=code,
        success=False,
        error=f"{type(exc).__name__}: {exc}",
        render_ms=render_ms,
    )
    try:
        await steps.record_generation(record)
    except Exception:
        # The caller must see the original error, not the bookkeeping one; the log keeps both.
        log.exception("could not record the failed generation for %s/%s", request.template_slug, code)
