"""`promostack coupons …`: the local coupon registry (add, list, deactivate).

These always act on the database registry, also when FunderPro validates codes
(`COUPON_VALIDATOR=funderpro`); FunderPro's codes are managed in FunderPro.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, time, timezone

import typer
from rich.console import Console

from cli.output import Column, json_option, print_list, yes_no
from cli.templates import cli_errors
from promostack.config import get_settings
from promostack.coupons import LocalRegistry
from promostack.runtime import build_runtime

app = typer.Typer(help="The local coupon registry.", no_args_is_help=True)
console = Console()


@contextmanager
def registry() -> Iterator[LocalRegistry]:
    """The registry on the configured database."""
    runtime = build_runtime(get_settings())
    try:
        yield LocalRegistry(runtime.sessions)
    finally:
        runtime.close()


def end_of_day_utc(day: datetime) -> datetime:
    """The last moment of `day` in UTC: a code "expiring 2026-12-31" works all that day."""
    return datetime.combine(day.date(), time.max, tzinfo=timezone.utc)


@app.command("add")
def add(
    code: str = typer.Argument(..., help="The code, like WELCOME10 (stored upper-case)."),
    discount: float | None = typer.Option(None, help="Discount in percent."),
    expires: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Last valid day (UTC)."),
    max_uses: int | None = typer.Option(None, help="How many uses before it is used up."),
    description: str | None = typer.Option(None, help="A note for admins."),
) -> None:
    """Add a code to the registry."""
    with cli_errors(), registry() as coupons:
        info = coupons.add(
            code,
            discount=discount,
            description=description,
            expires_at=end_of_day_utc(expires) if expires else None,
            max_uses=max_uses,
        )
    console.print(f"added {info.code}")


COUPON_COLUMNS = [
    Column("code"),
    Column("active", show=lambda c: yes_no(c["active"])),
    Column(
        "discount", show=lambda c: f"{c['discount']:g}%" if c["discount"] is not None else "", justify="right"
    ),
    Column("expires", show=lambda c: f"{c['expires_at']:%Y-%m-%d}" if c["expires_at"] else ""),
    Column(
        "uses",
        show=lambda c: f"{c['usage_count']}/{c['max_uses']}" if c["max_uses"] else str(c["usage_count"]),
        justify="right",
    ),
    Column("description", wrap=True),
]


@app.command("list")
def list_coupons(as_json: bool = json_option()) -> None:
    """Show every code with its state and usage."""
    with cli_errors(), registry() as coupons:
        records = [asdict(c) for c in coupons.list()]
    print_list(records, COUPON_COLUMNS, title=f"{len(records)} coupon(s)", as_json=as_json)


@app.command("deactivate")
def deactivate(code: str = typer.Argument(..., help="The code to switch off.")) -> None:
    """Switch a code off (it stays listed; promos with it are refused)."""
    with cli_errors(), registry() as coupons:
        info = coupons.deactivate(code)
    console.print(f"{info.code} deactivated")
