"""`promostack analytics export` and `status` on a fresh embedded install."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from promostack.db import make_engine
from tests.integration.analytics_world import NOW, add_events, event

pytestmark = pytest.mark.prefect


@pytest.fixture
def cli(tmp_path: Path, monkeypatch) -> Iterator[CliRunner]:
    """A runner on a fresh, migrated data dir."""
    from promostack.config import get_settings

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield runner
    get_settings.cache_clear()


def test_export_by_hand_then_status_shows_what_was_published(prefect_harness, cli, tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'promostack.db'}")
    add_events(engine, [event(NOW), event(NOW, success=False)])
    engine.dispose()
    assert "not exported yet" in cli.invoke(app, ["analytics", "status"]).output
    result = cli.invoke(app, ["analytics", "export"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "published manifest version 1" in result.output
    status = cli.invoke(app, ["analytics", "status"], env={"COLUMNS": "200"}).output
    assert "generation_events: 1 days, 2 rows" in status and "done" in status
