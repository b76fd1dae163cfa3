"""A short celebration line for a winning signal: from a chat model when one is configured,
otherwise from built-in templates. It is decoration: any failure of the model (time-out, error,
odd answer) falls back to a template, and nothing waits on it for more than a few seconds.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import httpx

from promostack.config import Settings

log = logging.getLogger(__name__)

TEMPLATES = [
    "Target reached: +{pips:.0f} pips banked on {symbol}. Patience paid.",
    "{symbol} delivered: +{pips:.0f} pips ({r:+.1f}R). Plan the trade, trade the plan.",
    "Another one in the books: +{pips:.0f} pips on {symbol}. 🥇",
    "Take profit filled on {symbol}: +{pips:.0f} pips. Discipline beats prediction.",
    "Clean move, clean exit: +{pips:.0f} pips on {symbol} ({r:+.1f}R).",
    "Gold glitters today: +{pips:.0f} pips. 🎯",
]
MAX_CHARS = 280


@dataclass(frozen=True)
class Win:
    """What the celebration is about."""

    signal_id: int
    symbol: str
    side: str
    pips: float
    r_multiple: float


def template_celebration(win: Win) -> str:
    """A built-in celebration, varied by signal (the same signal always gets the same one)."""
    template = random.Random(win.signal_id).choice(TEMPLATES)
    return template.format(pips=win.pips, symbol=win.symbol, r=win.r_multiple)


class CelebrationWriter:
    """Writes celebrations with any OpenAI-compatible chat API, or templates without one."""

    def __init__(
        self,
        api_base: str | None,
        api_key: str | None,
        model: str,
        timeout_s: float = 4.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_base = api_base.rstrip("/") if api_base else None
        self.api_key = api_key
        self.model = model
        self.timeout_s = timeout_s
        self._transport = transport

    @classmethod
    def from_settings(cls, settings: Settings) -> CelebrationWriter:
        """A writer for the chat API the settings name (templates only when none)."""
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return cls(settings.llm_api_base, key, settings.llm_model)

    async def celebrate(self, win: Win) -> str:
        """One or two upbeat sentences about `win`."""
        if not self.api_base:
            return template_celebration(win)
        try:
            return await self._ask_model(win)
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("celebration model failed (%s: %s); using a template", type(exc).__name__, exc)
            return template_celebration(win)

    async def _ask_model(self, win: Win) -> str:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        prompt = (
            f"A {win.side} signal on {win.symbol} just hit its take profit: {win.pips:+.0f} pips, "
            f"{win.r_multiple:+.1f}R. Write one short, upbeat line (max 200 characters) for a trading "
            "channel. No promises of future profits, no hashtags."
        )
        body = {
            "model": self.model,
            "messages": [
                {
                    "role": "system",
                    "content": "You write brief, professional celebration lines for a gold trading channel.",
                },
                {"role": "user", "content": prompt},
            ],
            "max_tokens": 80,
            "temperature": 0.9,
        }
        async with httpx.AsyncClient(timeout=self.timeout_s, transport=self._transport) as client:
            response = await client.post(f"{self.api_base}/chat/completions", json=body, headers=headers)
            response.raise_for_status()
            text = str(response.json()["choices"][0]["message"]["content"]).strip()
        if not text:
            raise ValueError("empty celebration")
        return text[:MAX_CHARS]
