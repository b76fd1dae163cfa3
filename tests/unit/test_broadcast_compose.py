"""What an admin may compose: Telegram HTML checked before saving, buttons, audience, states."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from promostack.broadcasts import states
from promostack.broadcasts.compose import Draft
from promostack.broadcasts.html import CAPTION_LIMIT, InvalidHtml, check_html
from promostack.broadcasts.pacing import means_blocked, pace_for, pace_key


@pytest.mark.parametrize(
    "text",
    [
        "<b>Sale</b> &amp; <i>more</i>",
        '<a href="https://example.com">shop</a> now',
        '<span class="tg-spoiler">secret</span> <tg-spoiler>too</tg-spoiler>',
        "<pre><code>x = 1</code></pre>",
        "<blockquote>quoted</blockquote> 2 > 1",
    ],
)
def test_telegram_html_is_accepted(text: str) -> None:
    assert check_html(text) > 0


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<div>block</div>", "does not support the <div> tag"),
        ("<b>bold", "<b> is never closed"),
        ("<b><i>x</b></i>", "does not close"),
        ("1 < 2", "must be written &lt;"),
        ("Fish & chips", "must be written &amp;"),
        ("AT&T", "must be written &amp;"),
        ("&nbsp;", "not one of Telegram's entities"),
        ("<a>no link</a>", "needs an href"),
        ('<span class="red">x</span>', "tg-spoiler"),
        ("<br/>", "self-closing"),
        ("   ", "empty"),
    ],
)
def test_html_telegram_would_refuse_is_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(InvalidHtml, match=why):
        check_html(text)


def test_a_caption_is_capped_at_1024_visible_characters_but_tags_do_not_count() -> None:
    assert check_html("<b>" + "x" * CAPTION_LIMIT + "</b>", caption=True) == CAPTION_LIMIT
    with pytest.raises(InvalidHtml, match="at most 1024"):
        check_html("x" * (CAPTION_LIMIT + 1), caption=True)
    assert check_html("x" * (CAPTION_LIMIT + 1)) == CAPTION_LIMIT + 1  # a message may be longer


def test_a_draft_checks_its_text_buttons_and_photo_before_saving() -> None:
    with pytest.raises(InvalidHtml, match="never closed") as refused:
        Draft(bot="promo", text="<b>oops")
    assert refused.value.field == "text"
    with pytest.raises(ValidationError, match="https://"):
        Draft(bot="promo", text="hi", buttons=[{"text": "Shop", "url": "javascript:alert(1)"}])
    with pytest.raises(ValidationError, match="template and a coupon code"):
        Draft(bot="promo", text="hi", photo="promo", promo_template="classic")
    with pytest.raises(ValidationError, match="time zone"):
        Draft(bot="promo", text="hi", scheduled_at="2030-01-01T10:00:00")
    assert Draft(bot="promo", text="hi", photo="promo", promo_template="classic", promo_code="SAVE10").photo == "promo"


def test_admin_actions_move_a_broadcast_only_where_they_make_sense() -> None:
    assert states.next_status("start", states.DRAFT) == states.QUEUED
    assert states.next_status("pause", states.RUNNING) == states.PAUSED
    assert states.next_status("resume", states.PAUSED) == states.QUEUED
    assert states.next_status("retract", states.DONE) == states.RETRACTING
    with pytest.raises(states.BroadcastConflict, match="cannot pause a broadcast that is done"):
        states.next_status("pause", states.DONE)
    with pytest.raises(states.BroadcastConflict):
        states.next_status("resume", states.CANCELLED)


def test_only_a_block_or_a_deleted_account_counts_as_blocked() -> None:
    assert means_blocked(403, "Forbidden: bot was blocked by the user")
    assert means_blocked(403, "Forbidden: user is deactivated")
    assert not means_blocked(403, "Forbidden: bot can't initiate conversation with a user")
    assert not means_blocked(400, "Bad Request: chat not found")


def test_the_paid_lane_is_faster_and_the_pace_key_never_holds_the_token() -> None:
    assert pace_for(25, 500, 8, paid=False).limit.limit == 25
    assert pace_for(25, 500, 8, paid=True).limit.limit == 500
    assert "secret" not in pace_key("123:secret") and pace_key("123:secret") != pace_key("124:secret")
