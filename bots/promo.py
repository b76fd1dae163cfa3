"""The promo bot's handlers: /start, /help, /templates, /promo CODE [TEMPLATE], and the buttons.

Handlers are thin: they read the command, call one function — the promo step list
(`flows.render_promo.make_promo`, which checks the user's quota, records the attempt, validates
the coupon, renders, sends the photo and settles the attempt) or an audience function — and reply
with a text from `bots.promo_texts`. Every error a user can cause gets a friendly sentence;
anything else is logged with the update's context and answered with an apology, never a trace.

Callback data (64 bytes at most, so it is stateless and any web instance can answer the press):
`r|<CODE>|<slug>` renders CODE on template slug; `t|<slug>` shows the template's preview;
`f|<CODE>|<slug>` (under each photo) sends the same promo as a lossless PNG file.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bots import promo_audience, promo_delivery as delivery
from bots import channel_admin
from bots import promo_texts as say
from flows.render_promo import make_promo, record_refusal
from promostack import audience
from promostack.coupons import CouponServiceUnavailable, InvalidCoupon, normalise_code
from promostack.db.generations import derived_event_id
from promostack.errors import DeliveryUnknown, RateLimited
from promostack.limits import Limit
from promostack.promo import PromoRequest
from promostack.render import RenderError
from promostack.runtime import Runtime
from promostack.templates.schema import SLUG_RE
from promostack.templates.store import TemplateNotFound, TemplateStore

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# Errors the user can do something about (or wait out): answered in words, never apologised for.
USER_ERRORS = (InvalidCoupon, TemplateNotFound, CouponServiceUnavailable, RenderError, RateLimited)


# --- wiring ------------------------------------------------------------------------------------


def register_handlers(application: Application) -> None:
    """Add the promo bot's handlers to `application`."""
    # Group -1 runs first for every update: it records the user before any command runs.
    application.add_handler(TypeHandler(Update, promo_audience.see_user), group=-1)
    application.add_handler(CommandHandler("start", promo_audience.start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("templates", templates))
    application.add_handler(CommandHandler("promo", promo))
    application.add_handler(CommandHandler("post", channel_admin.post))
    application.add_handler(ChatMemberHandler(channel_admin.membership, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(CallbackQueryHandler(render_button, pattern=r"^[rf]\|"))
    application.add_handler(CallbackQueryHandler(preview_button, pattern=r"^t\|"))
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, plain_text))
    application.add_error_handler(on_error)


# --- handlers ----------------------------------------------------------------------------------


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explains the commands."""
    if update.effective_message:
        await update.effective_message.reply_html(say.HELP)


async def templates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Lists the designs visible on Telegram as buttons that show a preview."""
    if update.effective_message is None:
        return
    designs = await asyncio.to_thread(_templates(context).visible, "telegram")
    if not designs:
        await update.effective_message.reply_text(say.NO_DESIGNS)
        return
    keyboard = [[InlineKeyboardButton(d.name, callback_data=f"t|{d.slug}")] for d in designs]
    await update.effective_message.reply_html(
        say.designs_list([(d.name, d.slug) for d in designs]), reply_markup=InlineKeyboardMarkup(keyboard)
    )


async def promo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Renders `/promo CODE TEMPLATE`, or offers the designs as buttons for `/promo CODE`."""
    message = update.effective_message
    if message is None or update.effective_user is None:
        return
    args = context.args or []
    if not args or len(args) > 2:
        problem = "missing coupon code" if not args else "too many words after /promo"
        await _refuse(update, context, None, args[0] if args else None, problem)
        await message.reply_html(say.missing_or_extra_words(args))
        return
    code = normalise_code(args[0])
    if len(args) == 2:
        await _send_promo(update, context, code, args[1].strip().lower())
        return
    designs = await asyncio.to_thread(_templates(context).visible, "telegram")
    if not designs:
        await _refuse(update, context, None, code, "no template visible on telegram")
        await message.reply_text(say.NO_DESIGNS)
        return
    if any(len(f"r|{code}|{d.slug}".encode()) > delivery.CALLBACK_LIMIT for d in designs):
        # Too long to carry in a button: ask for the template in the command instead.
        await message.reply_html(say.name_the_design([d.slug for d in designs]))
        return
    keyboard = [[InlineKeyboardButton(d.name, callback_data=f"r|{code}|{d.slug}")] for d in designs]
    await message.reply_html(say.pick_a_design(code), reply_markup=InlineKeyboardMarkup(keyboard))


async def render_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Renders the code and design a `r|CODE|slug` button carries — as the lossless PNG file for
    the `f|CODE|slug` "Send as file" button under a photo."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    kind, code, slug = (query.data.split("|", 2) + ["", ""])[:3]
    # Answer first: it stops the button's spinner while the image is made.
    await query.answer()
    if code and slug:
        await _send_promo(update, context, code, slug, as_file=kind == "f")


async def preview_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends the preview of the design a `t|slug` button names."""
    query = update.callback_query
    if query is None or query.data is None or update.effective_chat is None:
        return
    slug = query.data[2:]
    await query.answer()
    store = _templates(context)
    try:
        meta = await asyncio.to_thread(store.get, slug)
        image = await asyncio.to_thread(store.image, slug, meta)
    except TemplateNotFound:
        await context.bot.send_message(update.effective_chat.id, say.DESIGN_GONE)
        return
    # Telegram keeps the upload: send its file_id again next time instead of the bytes.
    cache: dict[tuple[str, int], str] = context.bot_data.setdefault("preview_file_ids", {})
    sent = await context.bot.send_photo(
        update.effective_chat.id,
        photo=cache.get((slug, meta.version), image),
        caption=say.preview_caption(meta.name, slug),
    )
    if sent.photo:
        cache[(slug, meta.version)] = sent.photo[-1].file_id


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Points an unknown command at /help."""
    if update.effective_message:
        await update.effective_message.reply_html(say.UNKNOWN_COMMAND)


async def plain_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answers plain text with how to ask for an image."""
    if update.effective_message:
        await update.effective_message.reply_html(say.USAGE)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Marks users who blocked the bot; logs anything else with context and apologises."""
    error = context.error
    tg_update = update if isinstance(update, Update) else None
    user = tg_update.effective_user if tg_update else None
    if isinstance(error, Forbidden) and user is not None:
        marked = await asyncio.to_thread(
            audience.mark_blocked, _runtime(context).sessions, _bot_id(context), user.id
        )
        log.info("user %s blocked bot %s (%s)%s", user.id, _bot_id(context), error, "" if marked else ", already known")
        return
    text = tg_update.effective_message.text if tg_update and tg_update.effective_message else None
    log.error(
        "bot %s failed on update %s (user %s, text %r)",
        _bot_id(context),
        tg_update.update_id if tg_update else None,
        user.id if user else None,
        (text or "")[:200],  # a user's words, cut: the log is not theirs to fill
        exc_info=error,
    )
    chat = tg_update.effective_chat if tg_update else None
    if chat is not None:
        try:
            await context.bot.send_message(chat.id, say.APOLOGY)
        except TelegramError:
            log.warning("could not apologise to chat %s", chat.id, exc_info=True)


# --- the render path ---------------------------------------------------------------------------


async def _send_promo(
    update: Update, context: ContextTypes.DEFAULT_TYPE, code: str, slug: str, as_file: bool = False
) -> None:
    """Makes the promo image for `code` on `slug` and sends it — a photo, or the PNG document when
    `as_file` — or a friendly reply saying why not."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    runtime, bot_id = _runtime(context), _bot_id(context)
    # The update is the work's identity: a re-delivered update lands on the same event.
    event_id = derived_event_id(CHANNEL, bot_id, update.update_id)
    try:
        request = PromoRequest(  # a slug that can never exist is refused here, as an empty one is
            template_slug=slug if SLUG_RE.fullmatch(slug) else "", coupon_code=code, channel=CHANNEL,
            user_ref=str(user.id), bot_id=bot_id, event_id=event_id, fmt="png" if as_file else "telegram",
        )
    except ValueError:
        # A slug that can never exist gets the answer an unknown one gets, never the apology.
        await _refuse(update, context, slug[:64], code, f"unknown template {slug[:64]!r}")
        await _no_such_design(context, chat.id, slug)
        return

    settings = runtime.settings
    quota = (f"promo:{bot_id}:{user.id}", Limit(settings.promo_limit_per_user, settings.promo_limit_window_s))
    try:
        deliver = (delivery.as_file if as_file else delivery.as_photo)(context, chat.id, code, slug)
        await make_promo(runtime, request, deliver, quota=quota)
    except USER_ERRORS as exc:
        await context.bot.send_message(chat.id, say.why_not(exc, code, slug), parse_mode=ParseMode.HTML)
    except DeliveryUnknown:
        # The photo may well have arrived: an apology or a second photo would be wrong.
        log.warning("photo for update %s: delivery unknown (settled as unknown)", update.update_id)


async def _no_such_design(context: ContextTypes.DEFAULT_TYPE, chat_id: int, slug: str) -> None:
    slugs = [d.slug for d in await asyncio.to_thread(_templates(context).visible, "telegram")]
    await context.bot.send_message(chat_id, say.unknown_template(slug, slugs), parse_mode=ParseMode.HTML)


async def _refuse(
    update: Update, context: ContextTypes.DEFAULT_TYPE, slug: str | None, code: str | None, problem: str
) -> None:
    user, bot_id = update.effective_user, _bot_id(context)
    event_id = derived_event_id(CHANNEL, bot_id, update.update_id)
    await record_refusal(
        _runtime(context), CHANNEL, str(user.id) if user else None, slug, code, problem, event_id, bot_id
    )


# --- context -----------------------------------------------------------------------------------


def _runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    return context.bot_data["runtime"]


def _bot_id(context: ContextTypes.DEFAULT_TYPE) -> str:
    return str(context.bot_data.get("bot_id", "promo"))


def _templates(context: ContextTypes.DEFAULT_TYPE) -> TemplateStore:
    # The runtime's shared store keeps parsed metas and images cached between commands.
    return _runtime(context).templates
