"""The `broadcast` flow: a message to a bot's audience, paced, resumable, never sent twice.

The step list (`run_broadcast`, also a plain coroutine for the benchmark and the CLI):

1. take the broadcast's lease (waiting, at most a lease, for a run that died to let go of it);
2. rows a dead run left `sending` become `unknown` (they may have arrived: never re-sent);
3. take the recipient snapshot, once (a resume finds the same rows);
4. send every pending row at the bot's shared pace — or, when an admin asked for a retraction,
   delete the sent messages — checking for pause and cancel at every checkpoint;
5. let go of the lease, marking the broadcast done (or retracted) unless an admin stopped it;
6. report the counts (a progress artifact while it runs, a report artifact at the end).

Re-running the flow on the same broadcast resumes it: that is how a crash, a killed worker or a
resume button finishes a broadcast. Composing (`compose_broadcast`) and the test send
(`send_test`) are plain coroutines the web app awaits.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact
from pydantic import BaseModel
from telegram.error import TelegramError

from flows.render_promo import make_promo
from promostack.broadcasts import control, recipients, states
from promostack.broadcasts.compose import Draft
from promostack.broadcasts.control import LEASE_S
from promostack.broadcasts.pacing import Pace, pace_for
from promostack.broadcasts.recipients import Checkpoint, Counts
from promostack.errors import DependencyError, InvalidInput
from promostack.promo import PromoRequest
from promostack.runtime import Runtime, current_runtime
from tasks.telegram_send import Content, Pacer, TelegramSender, bot_token, read_error, retract_all, send_all

PHOTO_PREFIX = "broadcasts/"
PROGRESS_EVERY_S = 2.0


class BroadcastReport(BaseModel):
    """Where a broadcast stands after a run."""

    broadcast_id: int
    status: str
    total: int
    sent: int
    blocked: int
    failed: int
    unknown: int
    pending: int
    retracted: int
    orphans_marked_unknown: int
    flood_waits: int
    seconds: float
    rate_per_s: float


class LeaseHeld(DependencyError):
    """Another run holds the broadcast and keeps it alive: this run does nothing."""


async def compose_broadcast(
    runtime: Runtime, draft: Draft, *, created_by: str | None, upload: bytes | None = None, upload_type: str = "image/jpeg"
) -> int:
    """The id of the broadcast saved from `draft`; its photo stored first (an upload, or the promo
    rendered from the draft's template and code, recorded as a generation event)."""
    bot_token(runtime, draft.bot)  # a bot without a token cannot broadcast: say so now
    key: str | None = None
    if draft.photo == "upload":
        if not upload:
            raise InvalidInput("choose a photo to upload, or pick no photo", field="photo")
        key = f"{PHOTO_PREFIX}{uuid.uuid4().hex}.{'png' if upload_type == 'image/png' else 'jpg'}"
        await asyncio.to_thread(runtime.store.put, key, upload, upload_type)
    elif draft.photo == "promo":
        request = PromoRequest(
            template_slug=draft.promo_template or "", coupon_code=draft.promo_code or "", channel="telegram",
            bot_id=draft.bot, user_ref=created_by, store_output=True,
        )
        key = (await make_promo(runtime, request)).output_key
    return await asyncio.to_thread(control.create, runtime.sessions, draft, created_by=created_by, photo_key=key)


async def _content(runtime: Runtime, view: control.BroadcastView) -> Content:
    photo = None
    if view.photo_key and not view.photo_file_id:
        photo = await asyncio.to_thread(runtime.store.get, view.photo_key)
    return Content(view.text, view.buttons, view.paid, photo, view.photo_file_id)


def _pace(runtime: Runtime, paid: bool) -> Pace:
    s = runtime.settings
    return pace_for(s.broadcast_rate_per_s, s.broadcast_paid_rate_per_s, s.broadcast_in_flight, paid=paid)


async def send_test(runtime: Runtime, broadcast_id: int, chat_ids: list[int] | None = None) -> list[int]:
    """The message ids of the broadcast sent to the admins' own chats (`ADMIN_TELEGRAM_IDS`);
    the photo's file id is kept, so the real run does not upload it again."""
    chats = chat_ids if chat_ids is not None else runtime.settings.admin_chat_ids
    if not chats:
        raise InvalidInput("set ADMIN_TELEGRAM_IDS to your Telegram user id to receive test sends", field="admin")
    view = await asyncio.to_thread(control.get, runtime.sessions, broadcast_id)
    content = await _content(runtime, view)
    token = bot_token(runtime, view.bot)
    pacer = Pacer(runtime.limiter, token, _pace(runtime, view.paid))
    ids: list[int] = []
    async with TelegramSender(token, runtime.settings.telegram_api_base) as sender:
        for chat in chats:
            await pacer.ready()
            try:
                message = await sender.deliver(chat, content)
            except TelegramError as exc:
                raise InvalidInput(f"Telegram refused the test to {chat}: {read_error(exc).reason}", field="admin") from exc
            ids.append(message.message_id)
            if content.needs_upload and message.photo:
                content.photo_file_id = message.photo[-1].file_id
                await asyncio.to_thread(control.set_photo, runtime.sessions, broadcast_id, file_id=content.photo_file_id)
    return ids


async def _take_lease(runtime: Runtime, broadcast_id: int, runner: str, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while not await asyncio.to_thread(control.take_lease, runtime.sessions, broadcast_id, runner):
        if time.monotonic() >= deadline:
            raise LeaseHeld(f"broadcast {broadcast_id} is being sent by another run")
        await asyncio.sleep(1.0)


async def run_broadcast(
    runtime: Runtime,
    broadcast_id: int,
    *,
    runner: str | None = None,
    lease_wait_s: float = LEASE_S + 5,
    progress: Callable[[Counts], Awaitable[None]] | None = None,
) -> BroadcastReport:
    """The report of one run of broadcast `broadcast_id`: sent (or retracted) as far as its status
    allows; see the module docstring for the steps."""
    started = time.perf_counter()
    runner = runner or uuid.uuid4().hex[:16]
    await _take_lease(runtime, broadcast_id, runner, lease_wait_s)
    finished: str | None = None
    flood_waits = 0
    try:
        orphans = await asyncio.to_thread(recipients.orphans_to_unknown, runtime.sessions, broadcast_id)
        view = await asyncio.to_thread(control.get, runtime.sessions, broadcast_id)
        if view.status in states.SENDABLE or view.status == states.RETRACTING:
            token = bot_token(runtime, view.bot)
            pacer = Pacer(runtime.limiter, token, _pace(runtime, view.paid))
            sender = TelegramSender(
                token, runtime.settings.telegram_api_base, pool=pacer.pace.in_flight + 4,
                read_timeout_s=runtime.settings.broadcast_read_timeout_s,
            )
            async with sender:
                if view.status == states.RETRACTING:
                    await retract_all(runtime, broadcast_id, sender, pacer)
                    finished = states.RETRACTED
                else:
                    await asyncio.to_thread(recipients.take_snapshot, runtime.sessions, broadcast_id)
                    await asyncio.to_thread(control.mark_running, runtime.sessions, broadcast_id, runner)
                    last = 0.0

                    async def checkpointed(point: Checkpoint) -> None:
                        nonlocal last
                        if progress is not None and time.monotonic() - last >= PROGRESS_EVERY_S:
                            last = time.monotonic()
                            await progress(await asyncio.to_thread(recipients.counts, runtime.sessions, broadcast_id))

                    content = await _content(runtime, view)
                    stopped = await send_all(runtime, broadcast_id, view.bot, runner, sender, pacer, content, checkpointed)
                    finished = states.DONE if stopped in states.SENDABLE else None
            flood_waits = pacer.floods
    finally:
        await asyncio.to_thread(control.release_lease, runtime.sessions, broadcast_id, runner, finished_status=finished)
    counts = await asyncio.to_thread(recipients.counts, runtime.sessions, broadcast_id)
    if progress is not None:
        await progress(counts)
    view = await asyncio.to_thread(control.get, runtime.sessions, broadcast_id)
    seconds = time.perf_counter() - started
    return BroadcastReport(
        broadcast_id=broadcast_id, status=view.status, total=counts.total, sent=counts.sent, blocked=counts.blocked,
        failed=counts.failed, unknown=counts.unknown, pending=counts.pending, retracted=counts.retracted,
        orphans_marked_unknown=orphans, flood_waits=flood_waits, seconds=round(seconds, 2),
        rate_per_s=round(counts.sent / seconds, 2) if seconds > 0 else 0.0,
    )


def _report_markdown(report: BroadcastReport, unknown: list[tuple[int, str | None]], failed: list[tuple[int, str | None]]) -> str:
    lines = [
        f"**Broadcast {report.broadcast_id}: {report.status}**",
        "",
        "| sent | blocked | failed | unknown | pending | retracted | rate/s | seconds |",
        "|---|---|---|---|---|---|---|---|",
        f"| {report.sent} | {report.blocked} | {report.failed} | {report.unknown} | {report.pending} | "
        f"{report.retracted} | {report.rate_per_s} | {report.seconds} |",
    ]
    for title, rows in (("Unknown (may have arrived; re-queue from the dashboard)", unknown), ("Failed", failed)):
        if rows:
            lines += ["", f"**{title}**", ""] + [f"- chat {chat}: {reason or ''}" for chat, reason in rows[:50]]
    return "\n".join(lines)


@flow(name="broadcast", persist_result=False)
async def broadcast(broadcast_id: int) -> BroadcastReport:
    """The report of sending (or retracting) broadcast `broadcast_id`, resumed where it stood."""
    runtime = current_runtime()
    artifact = await create_progress_artifact(0.0, description=f"Broadcast {broadcast_id}: recipients done")

    async def progress(counts: Counts) -> None:
        if counts.total:
            await update_progress_artifact(artifact, 100.0 * counts.done / counts.total)

    report = await run_broadcast(runtime, broadcast_id, progress=progress)
    unknown = await asyncio.to_thread(recipients.rows_in, runtime.sessions, broadcast_id, states.UNKNOWN)
    failed = await asyncio.to_thread(recipients.rows_in, runtime.sessions, broadcast_id, states.FAILED)
    await create_markdown_artifact(
        markdown=_report_markdown(report, unknown, failed), key=f"broadcast-{broadcast_id}-report",
        description=f"Broadcast {broadcast_id} report",
    )
    return report
