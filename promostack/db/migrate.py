"""Apply Alembic migrations programmatically (used by the CLI, `make run` and tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from promostack.config import ROOT


def alembic_config(url: str) -> Config:
    """An Alembic config for this repository's migrations against `url`."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (default: the newest)."""
    command.upgrade(alembic_config(url), revision)
