"""`promostack bot …`: list the bots, register their webhooks, or poll for local development.

- `promostack bot list` — each bot, on or off, and its webhook URL.
- `promostack bot set-webhook` — tells Telegram to post each bot's updates to
  `BASE_URL/telegram/<bot id>/webhook` with the bot's secret token (and sets the promo bot's
  command menu). Run it after deploying, and after rotating `TELEGRAM_WEBHOOK_SECRET` or a token.
- `promostack bot delete-webhook` — removes them (polling needs that; `poll` does it itself).
- `promostack bot poll` — runs the bots with long polling instead of webhooks, for a machine
  Telegram cannot reach. Ctrl-C stops it.
"""

from __future__ import annotations

import asyncio
import signal
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass

import typer
from rich.console import Console
from rich.text import Text
from telegram import Bot, BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application

from bots.application import build_application
from bots.background import drain_background
from bots.registry import BotEntry, all_bots, enabled_bots, webhook_secret
from cli.output import Column, error_console, json_option, print_list
from promostack.config import Settings, get_settings
from promostack.runtime import build_runtime, install_runtime

app = typer.Typer(help="Telegram bots: webhooks and local polling.", no_args_is_help=True)
console = Console()


@dataclass(frozen=True)
class WebhookResult:
    """What Telegram answered for one bot."""

    bot_id: str
    url: str
    ok: bool
    detail: str


def webhook_url(settings: Settings, bot: BotEntry) -> str:
    """The public URL Telegram posts `bot`'s updates to."""
    return settings.base_url.rstrip("/") + bot.webhook_path


def _bot(settings: Settings, entry: BotEntry) -> Bot:
    assert entry.token is not None
    api = settings.telegram_api_base.rstrip("/")
    return Bot(entry.token.get_secret_value(), base_url=api + "/bot", base_file_url=api + "/file/bot")


def _selected(settings: Settings, bot_ids: list[str] | None) -> list[BotEntry]:
    entries = enabled_bots(settings)
    if bot_ids:
        known = {b.id for b in all_bots(settings)}
        unknown = sorted(set(bot_ids) - known)
        if unknown:
            raise typer.BadParameter(
                f"unknown bot(s) {', '.join(unknown)}; the bots are {', '.join(sorted(known))}"
            )
        off = sorted(set(bot_ids) - {b.id for b in entries})
        if off:
            raise typer.BadParameter(f"bot(s) {', '.join(off)} have no token, so they are off")
        entries = [b for b in entries if b.id in bot_ids]
    return entries


async def set_webhooks(
    settings: Settings, bots: list[BotEntry], drop_pending: bool = False
) -> list[WebhookResult]:
    """Telegram's answer per bot after registering its webhook URL and secret."""
    results = []
    for entry in bots:
        url = webhook_url(settings, entry)
        try:
            async with _bot(settings, entry) as bot:
                await bot.set_webhook(
                    url,
                    secret_token=webhook_secret(settings, entry),
                    allowed_updates=Update.ALL_TYPES,
                    drop_pending_updates=drop_pending,
                )
                if entry.id == "promo":
                    from bots.promo_texts import COMMANDS

                    await bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
            results.append(WebhookResult(entry.id, url, True, "set"))
        except TelegramError as exc:
            results.append(WebhookResult(entry.id, url, False, str(exc)))
    return results


async def delete_webhooks(settings: Settings, bots: list[BotEntry]) -> list[WebhookResult]:
    """Telegram's answer per bot after removing its webhook."""
    results = []
    for entry in bots:
        try:
            async with _bot(settings, entry) as bot:
                await bot.delete_webhook()
            results.append(WebhookResult(entry.id, "", True, "deleted"))
        except TelegramError as exc:
            results.append(WebhookResult(entry.id, "", False, str(exc)))
    return results


async def poll(settings: Settings, bots: list[BotEntry], stop: asyncio.Event) -> None:
    """Nothing; runs `bots` with long polling until `stop` is set (their webhooks are removed)."""
    from flows.render_promo import settling_stale_attempts  # the corridor pulls in Prefect

    runtime = build_runtime(settings)
    started: list[Application] = []
    stack = AsyncExitStack()
    # The handlers reach the runtime through bot_data; flows they start find it installed.
    with install_runtime(runtime):
        try:
            await stack.enter_async_context(settling_stale_attempts(runtime))
            for entry in bots:
                application = build_application(runtime, entry, polling=True)
                await application.initialize()
                started.append(application)
                assert application.updater is not None
                # start_polling removes the webhook first: Telegram refuses getUpdates while one is set.
                await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
                await application.start()
            await stop.wait()
        finally:
            for application in reversed(started):
                if application.updater is not None and application.updater.running:
                    await application.updater.stop()
                if application.running:
                    await application.stop()
                await drain_background(application)
                await application.shutdown()
            await stack.aclose()
            runtime.close()


WEBHOOK_COLUMNS = [
    Column("bot", show=lambda r: r["bot_id"]),
    Column("url"),
    Column(
        "status",
        show=lambda r: Text("ok", "green") if r["ok"] else Text.assemble(("FAIL", "red"), f" {r['detail']}"),
        wrap=True,
    ),
]


def _report(results: list[WebhookResult], as_json: bool) -> None:
    print_list([asdict(r) for r in results], WEBHOOK_COLUMNS, title="Telegram webhooks", as_json=as_json)
    if not all(r.ok for r in results):
        raise typer.Exit(code=1)


BotOption = typer.Option(None, "--bot", "-b", help="Bot id (repeatable); default: every bot with a token.")


BOT_COLUMNS = [
    Column("bot", show=lambda b: b["id"]),
    Column("status", show=lambda b: Text("on", "green") if b["enabled"] else Text("off (no token)", "dim")),
    Column("webhook"),
    Column("what it does", show=lambda b: b["description"], wrap=True),
]


@app.command("list")
def list_bots(as_json: bool = json_option()) -> None:
    """List the bots, whether each is on, and its webhook URL."""
    settings = get_settings()
    records = [
        {"id": b.id, "enabled": b.enabled, "webhook": webhook_url(settings, b), "description": b.description}
        for b in all_bots(settings)
    ]
    print_list(records, BOT_COLUMNS, title="Telegram bots", as_json=as_json)


@app.command("set-webhook")
def set_webhook_command(
    bot: list[str] | None = BotOption,
    drop_pending: bool = typer.Option(False, help="Drop updates Telegram queued while no webhook answered."),
    as_json: bool = json_option(),
) -> None:
    """Register BASE_URL/telegram/<bot>/webhook and its secret with Telegram for each bot."""
    settings = get_settings()
    bots = _selected(settings, bot)
    if not bots:
        error_console.print("no bot has a token: set TELEGRAM_BOT_TOKEN (or FOREX_BOT_TOKEN) first")
        raise typer.Exit(code=1)
    if not settings.base_url.startswith("https://"):
        error_console.print(
            f"[yellow]note[/]: Telegram only posts to https URLs; BASE_URL is {settings.base_url}"
        )
    _report(asyncio.run(set_webhooks(settings, bots, drop_pending)), as_json)


@app.command("delete-webhook")
def delete_webhook_command(bot: list[str] | None = BotOption, as_json: bool = json_option()) -> None:
    """Remove each bot's webhook."""
    settings = get_settings()
    _report(asyncio.run(delete_webhooks(settings, _selected(settings, bot))), as_json)


@app.command("poll")
def poll_command(bot: list[str] | None = BotOption) -> None:
    """Run the bots with long polling (local development; removes their webhooks). Ctrl-C stops."""
    settings = get_settings()
    bots = _selected(settings, bot)
    if not bots:
        error_console.print("no bot has a token: set TELEGRAM_BOT_TOKEN (or FOREX_BOT_TOKEN) first")
        raise typer.Exit(code=1)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        console.print(f"polling {', '.join(b.id for b in bots)} — Ctrl-C stops")
        await poll(settings, bots, stop)

    asyncio.run(main())
