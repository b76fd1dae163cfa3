"""The promo bot's handlers: /start, /help, /templates, /promo CODE [TEMPLATE], and the buttons.

Handlers are thin: they read the command, make the image with the `render-promo` steps (validate
the coupon, load the template, render, record the generation event — see `RENDER_MODE` for how
Prefect is involved) or call the audience functions, and reply. Every error a user can cause gets a
friendly sentence; anything else is logged with the update's context and answered with an apology,
never a stack trace.

Callback data (64 bytes at most, so it is stateless and any web instance can answer the press):
`r|<CODE>|<slug>` renders CODE on template slug; `t|<slug>` shows the template's preview.
"""

from __future__ import annotations

import asyncio
import dataclasses
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

from bots.application import run_in_background
from promostack import audience
from promostack.coupons import CouponServiceUnavailable, InvalidCoupon, normalise_code
from promostack.errors import DependencyError
from promostack.promo import (
    GenerationRecord,
    PromoRequest,
    PromoResult,
    make_promo,
    plain_steps,
    record_generation,
    services_for,
)
from promostack.render import BadImage, RenderError
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
# How /promo makes the image (the README's "Telegram bots" has the measured latencies):
# "direct" runs the render_promo flow's own steps without Prefect (`make_promo`), sends the photo,
#   then writes the generation event and records a finished render-promo flow run, so every promo
#   still shows in the Prefect UI; Prefect being slow or down never delays or loses a photo.
# "flow" awaits the render_promo flow itself (task retries included): the photo leaves only after
#   Prefect's bookkeeping, which costs 2-3x the render here, and fails when Prefect's API fails.
# Chosen by the TELEGRAM_RENDER_MODE setting; bot_data[RENDER_MODE_KEY] overrides it per Application.
RENDER_MODE = "direct"
RENDER_MODE_KEY = "promo_render"
RECORD_RETRY_PAUSES = (0.5, 1.5)  # seconds between attempts to write a generation event


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
        # In the background: the command's answer never waits for this write; the bot awaits its
        # background work when it stops, so no touch is lost on shutdown.
        sessions = _runtime().sessions
        run_in_background(
            context.application, asyncio.to_thread(audience.touch, sessions, _bot_id(context), person)
        )


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
    if code and slug:
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
        await context.bot.send_message(
            update.effective_chat.id, "That design is gone. Send /templates for the list."
        )
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
        marked = await asyncio.to_thread(
            audience.mark_blocked, _runtime().sessions, _bot_id(context), user.id
        )
        log.info(
            "user %s blocked bot %s (%s)%s",
            user.id,
            _bot_id(context),
            error,
            "" if marked else ", already known",
        )
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
            await context.bot.send_message(
                chat.id, "Sorry, something went wrong on our side. Please try again in a minute."
            )
        except TelegramError:
            log.warning("could not apologise to chat %s", chat.id, exc_info=True)


# --- the render path ---------------------------------------------------------------------------


async def _send_promo(update: Update, context: ContextTypes.DEFAULT_TYPE, code: str, slug: str) -> None:
    """Makes the promo image for `code` on `slug` and sends it, or a friendly reply saying why not."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None:
        return
    try:
        request = PromoRequest(template_slug=slug, coupon_code=code, channel=CHANNEL, user_ref=str(user.id))
    except ValueError:
        # The request model refuses a slug that can never exist: same answer as an unknown one.
        await asyncio.to_thread(_record_refusal, update, slug[:64], code, f"unknown template {slug[:64]!r}")
        await context.bot.send_message(chat.id, _unknown_template(slug), parse_mode=ParseMode.HTML)
        return
    mode = context.bot_data.get(RENDER_MODE_KEY) or context.bot_data["settings"].telegram_render_mode
    direct = mode == "direct"
    records: list[GenerationRecord] = []
    error: Exception | None = None
    try:
        result = await (_render_direct(request, records) if direct else _render_flow(request))
    except (InvalidCoupon, TemplateNotFound, CouponServiceUnavailable, RenderError) as exc:
        error = exc
        await context.bot.send_message(chat.id, _why_not(exc, code, slug), parse_mode=ParseMode.HTML)
    except Exception as exc:
        error = exc  # the error handler logs it and apologises; the run is recorded as failed
        raise
    else:
        name = await asyncio.to_thread(_template_name, context, slug)
        await context.bot.send_photo(chat.id, photo=result.image, caption=f"{code} — {name}")
    finally:
        if direct:
            # After the reply has left, so the bookkeeping never delays the user; the bot awaits
            # its background work when it stops, so none is lost on a clean shutdown.
            run_in_background(context.application, _bookkeeping(request, records, error))


async def _render_flow(request: PromoRequest) -> PromoResult:
    from flows.render_promo import render_promo

    return await render_promo(request)


async def _render_direct(request: PromoRequest, records: list[GenerationRecord]) -> PromoResult:
    """The image made by the flow's own steps without Prefect; the generation records are kept
    in `records` (success or failure) to be written once the reply has left."""
    runtime = _runtime()

    async def keep(record: GenerationRecord) -> None:
        records.append(record)

    steps = dataclasses.replace(plain_steps(runtime), record_generation=keep)
    return await make_promo(runtime, request, steps)


async def _bookkeeping(
    request: PromoRequest, records: list[GenerationRecord], error: Exception | None
) -> None:
    """Nothing; writes the generation events (retrying database failures), then records a
    finished render-promo flow run so the promo shows in the Prefect UI like any other."""
    runtime = _runtime()
    for record in records:
        for attempt, pause in enumerate((*RECORD_RETRY_PAUSES, None)):
            try:
                await asyncio.to_thread(record_generation, runtime, record)
                break
            except DependencyError:
                if pause is None:
                    log.exception("generation event lost after %d attempts: %s", attempt + 1, record)
                else:
                    await asyncio.sleep(pause)  # back off: the database said no just now
    await _record_flow_run(request, error)


async def _record_flow_run(request: PromoRequest, error: Exception | None) -> None:
    """Nothing; records a finished `render-promo` flow run for a promo made in direct mode."""
    from prefect.client.orchestration import get_client
    from prefect.states import Completed, Failed

    from flows.render_promo import render_promo

    state = (
        Completed(message="made and sent by the Telegram bot")
        if error is None
        else Failed(message=f"{type(error).__name__}: {error}")
    )
    try:
        async with get_client() as client:
            await client.create_flow_run(
                render_promo,
                parameters={"request": request.model_dump(mode="json", exclude={"logo"})},
                tags=["telegram", "recorded-after-send"],
                state=state,
            )
    except Exception:  # observability only: the user has their answer, the event is in the database
        log.warning("could not record the render-promo flow run for user %s", request.user_ref, exc_info=True)


def _why_not(error: Exception, code: str, slug: str) -> str:
    """The friendly sentence for an error the user caused (or a validation outage)."""
    if isinstance(error, InvalidCoupon):
        return f"Sorry, <code>{html.escape(code)}</code> can't be used: {html.escape(str(error))}"
    if isinstance(error, TemplateNotFound):
        return _unknown_template(slug)
    if isinstance(error, CouponServiceUnavailable):
        return "I can't check coupon codes right now. Please try again in a few minutes."
    if isinstance(error, BadImage):
        # The design's own image is broken: not the user's doing, so say so and tell the logs.
        log.error("template %s cannot be rendered: %s", slug, error)
        return "That design can't be used right now. Please pick another one with /templates."
    return f"<code>{html.escape(code)}</code> doesn't fit on that design. Try another one with /templates."


def _unknown_template(slug: str) -> str:
    return f"There's no design called <code>{html.escape(slug[:64])}</code>. Send /templates for the list."


def _template_name(context: ContextTypes.DEFAULT_TYPE, slug: str) -> str:
    try:
        return _template_store(context).get(slug).name
    except TemplateNotFound:  # deleted between render and caption: the slug still names it
        return slug


def _record_refusal(update: Update, slug: str | None, code: str | None, problem: str) -> None:
    """Nothing; records a generation attempt refused before the flow ran (the flow records the rest)."""
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
    return services_for(_runtime()).templates


def _person(update: Update) -> audience.Person | None:
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    return audience.Person(user.id, user.username, user.first_name, user.language_code)
