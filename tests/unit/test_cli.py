"""The `promostack` CLI: migrations and the doctor's report."""

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app


def test_db_upgrade_then_doctor_reports_every_service(tmp_path: Path, monkeypatch) -> None:
    from promostack.config import get_settings

    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # what the doctor checks
    get_settings.cache_clear()
    runner = CliRunner()
    # Nothing listens on port 9: the doctor must say the Prefect API is down, even when the
    # session's Prefect test harness is running.
    try:
        with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
            upgraded = runner.invoke(app, ["db", "upgrade"])
            assert upgraded.exit_code == 0, upgraded.output
            report = runner.invoke(app, ["doctor"], env={"COLUMNS": "200"})
    finally:
        get_settings.cache_clear()
    for service in ("database", "object storage", "telegram promo bot", "coupon validation", "market data", "prefect api"):
        assert service in report.output
    assert "schema 0001" in report.output or "schema" in report.output
    assert report.exit_code == 1  # the Prefect API is down, and the doctor says so
    assert "FAIL" in report.output
