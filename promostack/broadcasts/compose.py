"""What an admin composes: the bot, the Telegram-HTML text, an optional photo, URL buttons, the
audience filters and when to send. Checked in full before anything is saved."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from promostack.broadcasts.html import check_html

MAX_BUTTONS = 8
URL = re.compile(r"^(https?://[^\s]+|tg://[^\s]+)\Z")


class Button(BaseModel):
    """A URL button under the message (one per row)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1, max_length=512)

    @field_validator("url")
    @classmethod
    def _http_or_tg(cls, url: str) -> str:
        if not URL.match(url.strip()):
            raise ValueError("a button's URL starts with https://, http:// or tg://")
        return url.strip()


class Draft(BaseModel):
    """A broadcast as composed; `photo` says where its picture comes from (none, an upload whose
    bytes the caller stores, or a promo rendered from `promo_template` + `promo_code`)."""

    model_config = ConfigDict(extra="forbid")

    bot: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=20_000)
    photo: Literal["none", "upload", "promo"] = "none"
    promo_template: str | None = Field(default=None, max_length=64)
    promo_code: str | None = Field(default=None, max_length=64)
    buttons: list[Button] = Field(default_factory=list, max_length=MAX_BUTTONS)
    seen_within_days: int | None = Field(default=None, ge=1, le=3650)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    paid: bool = False
    scheduled_at: datetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Draft:
        # A photo's text is its caption, which Telegram caps at 1 024 characters, not 4 096.
        check_html(self.text, caption=self.photo != "none")
        if self.photo == "promo" and not (self.promo_template and self.promo_code):
            raise ValueError("a promo photo needs a template and a coupon code")
        if self.scheduled_at is not None and self.scheduled_at.tzinfo is None:
            raise ValueError("scheduled_at needs a time zone (ISO 8601 with Z or an offset)")
        return self
