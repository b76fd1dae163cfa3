"""`promostack`: database, demo data, health, and (from the feature modules) rendering and bots."""

from __future__ import annotations

from dataclasses import asdict

import typer
from rich.console import Console
from rich.text import Text

from cli.output import Column, json_option, print_list
from promostack.config import get_settings

app = typer.Typer(help="PromoStack: branded promo images and the operations around them.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
from cli.bot import app as bot_app  # noqa: E402 - sub-commands registered next to `db`

app.add_typer(bot_app, name="bot")
from cli import coupons as coupons_cli, render as render_cli, templates as templates_cli  # noqa: E402

app.add_typer(templates_cli.app, name="templates")
app.add_typer(coupons_cli.app, name="coupons")
app.command("render")(render_cli.render)
app.command("bulk-render")(render_cli.bulk_render)
from cli.backtest import backtest as backtest_command  # noqa: E402

app.command("backtest")(backtest_command)
from cli.analytics import app as analytics_app  # noqa: E402

app.add_typer(analytics_app, name="analytics")
from cli.broadcast import app as broadcast_app  # noqa: E402

app.add_typer(broadcast_app, name="broadcast")
from cli.optimise import optimise as optimise_command  # noqa: E402

app.command("optimise")(optimise_command)
console = Console()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Alembic revision to reach.")) -> None:
    """Apply migrations to the configured database."""
    from promostack.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.sqlalchemy_url, revision)
    console.print(f"database at [bold]{_display_url(settings.sqlalchemy_url)}[/] is at {revision}")


@app.command("seed-demo")
def seed_demo() -> None:
    """Put the demo data into the store and database (idempotent: running it twice is fine)."""
    from cli.seed import seed_all

    for line in seed_all(get_settings()):
        console.print(line)


def _doctor_status(status: dict[str, object]) -> Text:
    if status["ok"] is None:
        return Text("off", "dim")
    if status["ok"]:
        return Text.assemble(("ok", "green"), f" {status['ms']:.0f} ms" if status["ms"] is not None else "")
    return Text("FAIL", "red")


DOCTOR_COLUMNS = [
    Column("service", show=lambda s: s["name"]),
    Column("mode"),
    Column("target"),
    Column("status", show=_doctor_status),
    Column("detail", wrap=True),
]


@app.command("doctor")
def doctor(as_json: bool = json_option()) -> None:
    """List every external service, how it is configured, and whether it answers (exit 1 if one fails)."""
    from promostack.health import check_services

    settings = get_settings()
    records = [asdict(status) for status in check_services(settings, settings.prefect_api_url)]
    print_list(records, DOCTOR_COLUMNS, title="PromoStack services", as_json=as_json)
    if any(r["ok"] is False for r in records):
        raise typer.Exit(code=1)


def _display_url(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


if __name__ == "__main__":
    app()
