"""What the promo bot says: every reply text in one place, HTML-escaped where users' words appear."""

from __future__ import annotations

import html
import logging
import math

from promostack import audience
from promostack.coupons import CouponServiceUnavailable, InvalidCoupon
from promostack.errors import RateLimited
from promostack.render import BadImage
from promostack.templates.store import TemplateNotFound

log = logging.getLogger(__name__)

COMMANDS = [
    ("start", "Start the bot"),
    ("promo", "Make a promo image: /promo CODE [TEMPLATE]"),
    ("templates", "See the designs"),
    ("help", "How to use the bot"),
]
HELP = (
    "Send <b>/promo CODE</b> and pick a design to get your promo image, or "
    "<b>/promo CODE TEMPLATE</b> to choose it right away.\n"
    "<b>/templates</b> shows the designs, <b>/help</b> shows this message."
)
USAGE = "Send <b>/promo CODE</b>, for example <code>/promo WELCOME10</code>, or <b>/promo CODE TEMPLATE</b>."
NO_DESIGNS = "There are no designs yet. Please check back soon."
UNKNOWN_COMMAND = "I don't know that command. " + HELP
APOLOGY = "Sorry, something went wrong on our side. Please try again in a minute."
DESIGN_GONE = "That design is gone. Send /templates for the list."
SEND_AS_FILE = "Send as file (PNG)"


def greeting(arrival: audience.Arrival, first_name: str | None) -> str:
    """The /start answer for a new, returning or reactivated user."""
    name = html.escape(first_name or "there")
    line = {
        audience.Arrival.NEW: f"Hi {name}! I turn coupon codes into promo images.",
        audience.Arrival.RETURNING: f"Welcome back, {name}!",
        audience.Arrival.REACTIVATED: f"Good to see you again, {name}! You're back on the list.",
    }[arrival]
    return f"{line}\n\n{HELP}"


def missing_or_extra_words(args: list[str]) -> str:
    """The answer to `/promo` with no code or too many words."""
    return ("Please add your coupon code. " if not args else "") + USAGE


def designs_list(lines: list[tuple[str, str]]) -> str:
    """The /templates answer for (name, slug) pairs."""
    body = "\n".join(f"• <b>{html.escape(name)}</b> — <code>{slug}</code>" for name, slug in lines)
    return f"The designs:\n{body}\n\nTap one for a preview, then send <b>/promo CODE TEMPLATE</b>."


def name_the_design(slugs: list[str]) -> str:
    """The answer when a code is too long to carry in the design buttons."""
    names = ", ".join(f"<code>{slug}</code>" for slug in slugs)
    return f"Please name the design too: <b>/promo CODE TEMPLATE</b>, one of {names}."


def pick_a_design(code: str) -> str:
    """The question above the design buttons."""
    return f"Pick a design for <code>{html.escape(code)}</code>:"


def photo_caption(code: str, template_name: str) -> str:
    """The caption of a promo photo."""
    return f"{code} — {template_name}"


def preview_caption(name: str, slug: str) -> str:
    """The caption of a design's preview."""
    return f"{name}\nSend /promo CODE {slug} to use it."


def unknown_template(slug: str, slugs: list[str] | None = None) -> str:
    """The answer for a design that does not exist (naming the designs there are, when given)."""
    there = f"There's no design called <code>{html.escape(slug[:64])}</code>."
    if slugs:
        names = ", ".join(f"<code>{s}</code>" for s in slugs)
        return f"{there} The designs are: {names}. Send /templates to see them."
    return f"{there} Send /templates for the list."


def why_not(error: Exception, code: str, slug: str) -> str:
    """The friendly sentence for an error the user caused (or an outage they should wait out)."""
    if isinstance(error, InvalidCoupon):
        # The same words for every invalid code (see InvalidCoupon): no telling which codes exist.
        return f"Sorry, <code>{html.escape(code)}</code> can't be used: {html.escape(error.user_message)}"
    if isinstance(error, TemplateNotFound):
        return unknown_template(slug)
    if isinstance(error, CouponServiceUnavailable):
        return "I can't check coupon codes right now. Please try again in a few minutes."
    if isinstance(error, RateLimited):
        seconds = max(1, math.ceil(error.retry_after_s))
        return f"You're making images quickly! Please wait {seconds} seconds and try again."
    if isinstance(error, BadImage):
        # The design's own image is broken: not the user's doing, so say so and tell the logs.
        log.error("template %s cannot be rendered: %s", slug, error)
        return "That design can't be used right now. Please pick another one with /templates."
    return f"<code>{html.escape(code)}</code> doesn't fit on that design. Try another one with /templates."
