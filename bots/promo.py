"""The promo bot's handlers: /start, /help, /templates, /promo CODE [TEMPLATE], and the buttons.

Handlers are thin: they read the command, call the `render_promo` flow (which validates the coupon,
renders and records the generation event) or the audience functions, and reply. Every error a user
can cause gets a friendly sentence; anything else is logged with the update's context and answered
with an apology, never a stack trace.

Callback data (64 bytes at most, so it is stateless and any web instance can answer the press):
`r|<CODE>|<slug>` renders CODE on template slug; `t|<slug>` shows the template's preview.
"""

from __future__ import annotations

import asyncio
import html
import logging
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from promostack import audience
from promostack.coupons import CouponServiceUnavailable, InvalidCoupon, normalise_code
from promostack.render import RenderError
from promostack.runtime import Runtime, current_runtime
from promostack.templates.store import TemplateNotFound, TemplateStore

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
CALLBACK_LIMIT = 64  # bytes, Telegram's limit on callback_data
CHANNEL = "telegram"


# --- wiring ------------------------------------------------------------------------------------


def register_handlers(application: Application) -> None:
    """Add the promo bot's handlers to `application`."""
    # Group -1 runs first for every update: it records the user before any command runs.
    application.add_handler(TypeHandler(Update, see_user), group=-1)
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("templates", templates))
    application.add_handler(CommandHandler("promo", promo))
    application.add_handler(CallbackQueryHandler(render_button, pattern=r"^r\|"))
    application.add_handler(CallbackQueryHandler(preview_button, pattern=r"^t\|"))
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, plain_text))
    application.add_error_handler(on_error)


# --- handlers ----------------------------------------------------------------------------------


async def see_user(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Records that the update's user was seen now."""
    person = _person(update)
    text = update.message.text if update.message else None
    # /start registers the user itself, and must see whether they are new or coming back.
    if person is not None and not (text and text.split()[0].split("@")[0] == "/start"):
        await asyncio.to_thread(audience.touch, _runtime().sessions, _bot_id(context), person)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Registers (or reactivates) the user and greets them."""
    person = _person(update)
    if person is None or update.effective_message is None:
        return
    arrival = await asyncio.to_thread(audience.register, _runtime().sessions, _bot_id(context), person)
    name = html.escape(person.first_name or "there")
    greeting = {
        audience.Arrival.NEW: f"Hi {name}! I turn coupon codes into promo images.",
        audience.Arrival.RETURNING: f"Welcome back, {name}!",
        audience.Arrival.REACTIVATED: f"Good to see you again, {name}! You're back on the list.",
    }[arrival]
    await update.effective_message.reply_html(f"{greeting}\n\n{HELP}")


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explains the commands."""
    if update.effective_message:
        await update.effective_message.reply_html(HELP)


async def templates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Lists the designs visible on Telegram as buttons that show a preview."""
    if update.effective_message is None:
        return
    designs = await asyncio.to_thread(_template_store(context).visible, "telegram")
    if not designs:
        await update.effective_message.reply_text("There are no designs yet. Please check back soon.")
        return
    keyboard = [[InlineKeyboardButton(d.name, callback_data=f"t|{d.slug}")] for d in designs]
    lines = "\n".join(f"• <b>{html.escape(d.name)}</b> — <code>{d.slug}</code>" for d in designs)
    await update.effective_message.reply_html(
        f"The designs:\n{lines}\n\nTap one for a preview, then send <b>/promo CODE TEMPLATE</b>.",
        reply_markup=InlineKeyboardMarkup(keyboard),
    )


async def promo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Renders `/promo CODE TEMPLATE`, or offers the designs as buttons for `/promo CODE`."""
    message = update.effective_message
    if message is None or update.effective_user is None:
        return
    args = context.args or []
    if not args or len(args) > 2:
        problem = "missing coupon code" if not args else "too many words after /promo"
        await asyncio.to_thread(_record_refusal, update, None, args[0] if args else None, problem)
        await message.reply_html(("Please add your coupon code. " if not args else "") + USAGE)
        return
    code = normalise_code(args[0])
    if len(args) == 2:
        await _send_promo(update, context, code, args[1].strip().lower())
        return
    designs = await asyncio.to_thread(_template_store(context).visible, "telegram")
    if not designs:
        await asyncio.to_thread(_record_refusal, update, None, code, "no template visible on telegram")
        await message.reply_text("There are no designs yet. Please check back soon.")
        return
    if any(len(f"r|{code}|{d.slug}".encode()) > CALLBACK_LIMIT for d in designs):
        # Too long to carry in a button: ask for the template in the command instead.
        names = ", ".join(f"<code>{d.slug}</code>" for d in designs)
        await message.reply_html(f"Please name the design too: <b>/promo CODE TEMPLATE</b>, one of {names}.")
        return
    keyboard = [[InlineKeyboardButton(d.name, callback_data=f"r|{code}|{d.slug}")] for d in designs]
    await message.reply_html(
        f"Pick a design for <code>{html.escape(code)}</code>:", reply_markup=InlineKeyboardMarkup(keyboard)
    )


async def render_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Renders the code and design a `r|CODE|slug` button carries."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, code, slug = (query.data.split("|", 2) + ["", ""])[:3]
    # Answer first: it stops the button's spinner while the image is made.
    await query.answer()
    await _send_promo(update, context, code, slug)


async def preview_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends the preview of the design a `t|slug` button names."""
    query = update.callback_query
    if query is None or query.data is None or update.effective_chat is None:
        return
    slug = query.data[2:]
    await query.answer()
    store = _template_store(context)
    try:
        meta = await asyncio.to_thread(store.get, slug)
        image = await asyncio.to_thread(store.image, slug, meta)
    except TemplateNotFound:
        await context.bot.send_message(update.effective_chat.id, "That design is gone. Send /templates for the list.")
        return
    # Telegram keeps the upload: send its file_id again next time instead of the bytes.
    cache: dict[tuple[str, int], str] = context.bot_data.setdefault("preview_file_ids", {})
    sent = await context.bot.send_photo(
        update.effective_chat.id,
        photo=cache.get((slug, meta.version), image),
        caption=f"{meta.name}\nSend /promo CODE {slug} to use it.",
    )
    if sent.photo:
        cache[(slug, meta.version)] = sent.photo[-1].file_id


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Points an unknown command at /help."""
    if update.effective_message:
        await update.effective_message.reply_html("I don't know that command. " + HELP)


async def plain_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answers plain text with how to ask for an image."""
    if update.effective_message:
        await update.effective_message.reply_html(USAGE)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Marks users who blocked the bot; logs anything else with context and apologises."""
    error = context.error
    tg_update = update if isinstance(update, Update) else None
    user = tg_update.effective_user if tg_update else None
    if isinstance(error, Forbidden) and user is not None:
        marked = await asyncio.to_thread(audience.mark_blocked, _runtime().sessions, _bot_id(context), user.id)
        log.info("user %s blocked bot %s (%s)%s", user.id, _bot_id(context), error, "" if marked else ", already known")
        return
    text = tg_update.effective_message.text if tg_update and tg_update.effective_message else None
    log.error(
        "bot %s failed on update %s (user %s, text %r)",
        _bot_id(context),
        tg_update.update_id if tg_update else None,
        user.id if user else None,
        text,
        exc_info=error,
    )
    chat = tg_update.effective_chat if tg_update else None
    if chat is not None:
        try:
            await context.bot.send_message(chat.id, "Sorry, something went wrong on our side. Please try again in a minute.")
        except TelegramError:
            log.warning("could not apologise to chat %s", chat.id, exc_info=True)


# --- the render path ---------------------------------------------------------------------------


async def _send_promo(update: Update, context: ContextTypes.DEFAULT_TYPE, code: str, slug: str) -> None:
    """Runs the render_promo flow for `code` on `slug` and sends the photo, or a friendly reply."""
    from flows.render_promo import PromoRequest, render_promo

    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None:
        return
    reply = None
    try:
        request = PromoRequest(template_slug=slug, coupon_code=code, channel=CHANNEL, user_ref=str(user.id))
    except ValueError:
        # The request model refuses a slug that can never exist: same answer as an unknown one.
        await asyncio.to_thread(_record_refusal, update, None, code, f"unknown template {slug!r}")
        reply = _unknown_template(slug)
    if reply is None:
        try:
            result = await render_promo(request)
        except InvalidCoupon as exc:
            reply = f"Sorry, <code>{html.escape(code)}</code> can't be used: {html.escape(str(exc))}"
        except TemplateNotFound:
            reply = _unknown_template(slug)
        except CouponServiceUnavailable:
            reply = "I can't check coupon codes right now. Please try again in a few minutes."
        except RenderError:
            reply = (
                f"<code>{html.escape(code)}</code> doesn't fit on that design. "
                "Try another one with /templates."
            )
        else:
            name = await asyncio.to_thread(_template_name, context, slug)
            await context.bot.send_photo(chat.id, photo=result.image, caption=f"{code} — {name}")
            return
    await context.bot.send_message(chat.id, reply, parse_mode=ParseMode.HTML)


def _unknown_template(slug: str) -> str:
    return f"There's no design called <code>{html.escape(slug[:64])}</code>. Send /templates for the list."


def _template_name(context: ContextTypes.DEFAULT_TYPE, slug: str) -> str:
    try:
        return _template_store(context).get(slug).name
    except TemplateNotFound:  # deleted between render and caption: the slug still names it
        return slug


def _record_refusal(update: Update, slug: str | None, code: str | None, problem: str) -> None:
    """Nothing; records a generation attempt refused before the flow ran (the flow records the rest)."""
    from promostack.promo import GenerationRecord, record_generation

    user = update.effective_user
    record = GenerationRecord(
        channel=CHANNEL,
        user_ref=str(user.id) if user else None,
        template_slug=slug or "",
        coupon_code=code or "",
        success=False,
        error=problem,
    )
    record_generation(_runtime(), record)


# --- context -----------------------------------------------------------------------------------


def _runtime() -> Runtime:
    return current_runtime()


def _bot_id(context: ContextTypes.DEFAULT_TYPE) -> str:
    return str(context.bot_data.get("bot_id", "promo"))


def _template_store(context: ContextTypes.DEFAULT_TYPE) -> TemplateStore:
    # The runtime's shared store keeps parsed metas and images cached between commands.
    from promostack.promo import services_for

    return services_for(_runtime()).templates


def _person(update: Update) -> audience.Person | None:
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    return audience.Person(user.id, user.username, user.first_name, user.language_code)
