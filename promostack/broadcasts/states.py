"""The states of a broadcast and of each of its recipients, and the moves an admin may make.

A recipient row: `pending → sending → sent | blocked | failed | unknown`. `sending` is written
before the request leaves, so a crash leaves the row `sending`, and the next run turns it into
`unknown` — never back into `pending`: the message may have arrived, so it is never re-sent
automatically. An admin may re-queue `unknown` (and `failed`) rows on purpose.

A broadcast: `draft | scheduled → queued → running → done`, with `paused` (resume → queued),
`cancelled`, and `retracting → retracted` once its sent messages are deleted.
"""

from __future__ import annotations

from promostack.errors import InvalidInput

PENDING, SENDING, SENT, BLOCKED, FAILED, UNKNOWN = "pending", "sending", "sent", "blocked", "failed", "unknown"
ROW_STATES = (PENDING, SENDING, SENT, BLOCKED, FAILED, UNKNOWN)
REQUEUEABLE = frozenset({UNKNOWN, FAILED})

DRAFT, SCHEDULED, QUEUED, RUNNING, PAUSED = "draft", "scheduled", "queued", "running", "paused"
CANCELLED, DONE, RETRACTING, RETRACTED = "cancelled", "done", "retracting", "retracted"
# A run sends while the broadcast is in one of these, retracts in RETRACTING, else does nothing.
SENDABLE = frozenset({SCHEDULED, QUEUED, RUNNING})

# action -> (statuses it applies to, status it leads to)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "start": (frozenset({DRAFT, SCHEDULED}), QUEUED),
    "schedule": (frozenset({DRAFT}), SCHEDULED),
    "pause": (frozenset({SCHEDULED, QUEUED, RUNNING}), PAUSED),
    "resume": (frozenset({PAUSED, DONE}), QUEUED),
    "cancel": (frozenset({DRAFT, SCHEDULED, QUEUED, RUNNING, PAUSED}), CANCELLED),
    "retract": (frozenset({RUNNING, PAUSED, CANCELLED, DONE, RETRACTING}), RETRACTING),
}


class BroadcastConflict(InvalidInput):
    """The broadcast is not in a state that allows what was asked (409)."""

    status = 409


def next_status(action: str, current: str) -> str:
    """The status `action` leads to from `current`; `BroadcastConflict` when it does not apply."""
    if action not in ACTIONS:
        raise InvalidInput(f"unknown action {action!r}; the actions are {', '.join(ACTIONS)}", field="action")
    allowed, target = ACTIONS[action]
    if current not in allowed:
        raise BroadcastConflict(f"cannot {action} a broadcast that is {current}")
    return target
