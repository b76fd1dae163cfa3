"""A promo image as values: what is asked, what comes back, and the pure steps in between.

Values in, values out — no database, no storage, no Prefect. The step list that puts these
together with the outside world (check the coupon and load the template, render, store, record)
is `flows/render_promo.py`, the one place a promo's steps are written down.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from promostack.coupons import CouponCheck, InvalidCoupon, normalise_code
from promostack.db.generations import GenerationRecord
from promostack.errors import InvalidInput
from promostack.render import render_template
from promostack.render.telegram import telegram_photo
from promostack.templates.schema import TemplateMeta

Channel = Literal["web", "api", "telegram", "bulk", "cli"]
# "telegram": the JPEG made to survive Telegram's own re-encode of a photo (see render/telegram.py).
Format = Literal["png", "jpeg", "webp", "telegram"]
CONTENT_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "telegram": "image/jpeg",
}
EXTENSIONS: dict[str, str] = {"png": "png", "jpeg": "jpg", "webp": "webp", "telegram": "jpg"}
MAX_LOGO_BYTES = 5 * 1024 * 1024


class PromoRequest(BaseModel):
    """What a caller asks for: a template, a coupon code, texts for the other areas.

    `template`, `code` and `format` are accepted as well as the field names (the JSON API's words).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    template_slug: str = Field(min_length=1, max_length=64, validation_alias=AliasChoices("template_slug", "template"))
    coupon_code: str = Field(min_length=1, max_length=64, validation_alias=AliasChoices("coupon_code", "code"))
    # No area takes more than 500 characters (the edges refuse longer ones with a reason first).
    texts: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=500)]] = Field(
        default_factory=dict, max_length=64
    )
    channel: Channel = "api"
    user_ref: str | None = Field(default=None, max_length=64)
    # The bot that asked, for bot promos (events and analytics tell bots apart by it).
    bot_id: str | None = Field(default=None, max_length=32)
    # The generation event's id when the work has an identity (a bot's update): a retry of the
    # same work then lands on the same event. None: a fresh id per request.
    event_id: str | None = Field(default=None, min_length=1, max_length=32)
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
    template_name: str = ""
    output_key: str | None = None
    render_ms: float
    event_id: str = ""


@dataclass(frozen=True)
class PromoInputs:
    """What a render needs from outside: the coupon's (valid) verdict, the template, its image."""

    check: CouponCheck
    meta: TemplateMeta
    background: bytes


def promo_inputs(
    check: CouponCheck | BaseException, loaded: tuple[TemplateMeta, bytes] | BaseException
) -> PromoInputs:
    """The inputs from a coupon verdict and a loaded template, fetched side by side; the coupon is
    reported first, as if they had run in that order: an invalid code wins over a missing template."""
    if isinstance(check, BaseException):
        raise check
    if not check.valid:
        raise InvalidCoupon(check)
    if isinstance(loaded, BaseException):
        raise loaded
    meta, background = loaded
    return PromoInputs(check, meta, background)


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


def render_promo_image(inputs: PromoInputs, request: PromoRequest) -> tuple[bytes, float]:
    """The rendered image and how long the render took in milliseconds."""
    started = time.perf_counter()
    texts = compose_texts(inputs.meta, inputs.check.code, request.texts)
    if request.fmt == "telegram":
        image = telegram_photo(inputs.meta, inputs.background, texts, logo=request.logo)
    else:
        image = render_template(
            inputs.meta, inputs.background, texts, logo=request.logo, fmt=request.fmt, quality=request.quality
        )
    return image, (time.perf_counter() - started) * 1000


def promo_result(inputs: PromoInputs, request: PromoRequest, image: bytes, render_ms: float, **extra: object) -> PromoResult:
    """The result of a finished render."""
    return PromoResult(
        image=image,
        content_type=CONTENT_TYPES[request.fmt],
        width=inputs.meta.width,
        height=inputs.meta.height,
        template_name=inputs.meta.name,
        render_ms=render_ms,
        **extra,  # type: ignore[arg-type]
    )


def render_key(fmt: str, now: datetime | None = None) -> str:
    """A new key for a rendered image: `renders/<UTC date>/<uuid>.<ext>`."""
    now = now or datetime.now(timezone.utc)
    return f"renders/{now:%Y-%m-%d}/{uuid.uuid4().hex}.{EXTENSIONS[fmt]}"


def attempt_record(request: PromoRequest, *, event_id: str, output_key: str | None = None) -> GenerationRecord:
    """The generation event of `request`, written as a pending attempt before its effect."""
    return GenerationRecord(
        channel=request.channel,
        user_ref=request.user_ref,
        template_slug=request.template_slug,
        coupon_code=normalise_code(request.coupon_code),
        success=False,
        output_key=output_key,
        event_id=event_id,
        status="pending",
        bot=request.bot_id,
    )


def refusal_record(
    request_channel: str,
    user_ref: str | None,
    template_slug: str | None,
    coupon_code: str | None,
    problem: str,
    event_id: str | None = None,
    bot: str | None = None,
) -> GenerationRecord:
    """The event of an attempt refused before any step ran (a missing code, a slug that can't exist)."""
    extra = {"event_id": event_id} if event_id else {}
    return GenerationRecord(
        bot=bot,
        channel=request_channel,
        user_ref=user_ref,
        template_slug=template_slug or "",
        coupon_code=coupon_code or "",
        success=False,
        error=problem,
        **extra,  # type: ignore[arg-type]
    )
