"""The `promostack` commands for templates, coupons and renders, on a fresh embedded install."""

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from cli.main import app


@pytest.fixture
def cli(tmp_path: Path, monkeypatch) -> Iterator[CliRunner]:
    """A runner on a fresh data dir, migrated and seeded with the demo data."""
    from promostack.config import get_settings

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    runner = CliRunner()
    for command in (["db", "upgrade"], ["seed-demo"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
    yield runner
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_seeding_twice_adds_nothing_the_second_time(cli) -> None:
    output = run(cli, "seed-demo")
    assert "template black-friday: already there" in output and "coupon WELCOME10: already there" in output
    assert "added" not in output


def test_templates_list_shows_the_demo_templates(cli) -> None:
    output = run(cli, "templates", "list")
    for slug in ("black-friday", "summer-sale", "welcome-offer"):
        assert slug in output


def test_render_writes_an_image_of_the_template_size(cli, tmp_path) -> None:
    out = tmp_path / "promo.jpg"
    output = run(cli, "render", "black-friday", "welcome10", "-o", str(out), "--text", "headline=Half off")
    assert Image.open(out).format == "JPEG" and Image.open(out).size == (1080, 1350)
    assert "1080x1350 image/jpeg" in output


def test_render_with_an_expired_code_fails_and_writes_nothing(cli, tmp_path) -> None:
    out = tmp_path / "promo.png"
    result = cli.invoke(app, ["render", "black-friday", "EXPIRED5", "-o", str(out)])
    assert result.exit_code == 1 and "EXPIRED5 expired on 2024-01-01" in result.output
    assert not out.exists()


def test_render_with_a_malformed_text_option_names_it(cli, tmp_path) -> None:
    result = cli.invoke(app, ["render", "black-friday", "WELCOME10", "-o", str(tmp_path / "x.png"), "--text", "oops"])
    assert result.exit_code == 1 and "--text 'oops'" in result.output


def test_bulk_render_writes_a_zip_and_a_rerun_renders_nothing(cli, tmp_path) -> None:
    csv_file = tmp_path / "codes.csv"
    csv_file.write_text("code,headline\nWELCOME10,One\nGOLD25,Two\nNOPE,Three\n")
    out = tmp_path / "out.zip"
    output = run(cli, "bulk-render", "black-friday", str(csv_file), "-o", str(out), "--workers", "2")
    assert "2 rendered, 0 already done, 1 refused" in output and "NOPE is not a known coupon code" in output
    names = sorted(zipfile.ZipFile(out).namelist())
    assert names == ["GOLD25.png", "WELCOME10.png", "problems.csv"]
    image = Image.open(io.BytesIO(zipfile.ZipFile(out).read("GOLD25.png")))
    assert image.size == (1080, 1350)
    assert "0 rendered, 2 already done" in run(cli, "bulk-render", "black-friday", str(csv_file), "-o", str(out))


def test_coupons_add_list_deactivate(cli) -> None:
    assert "added SPRING15" in run(cli, "coupons", "add", "spring15", "--discount", "15", "--expires", "2099-03-31")
    listing = run(cli, "coupons", "list")
    assert "SPRING15" in listing and "15%" in listing and "2099-03-31" in listing
    assert "SPRING15 deactivated" in run(cli, "coupons", "deactivate", "SPRING15")
    duplicate = cli.invoke(app, ["coupons", "add", "SPRING15"])
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output


def test_export_then_import_makes_a_new_version(cli, tmp_path) -> None:
    folder = tmp_path / "export"
    run(cli, "templates", "export", "summer-sale", str(folder))
    assert (folder / "meta.json").is_file() and (folder / "background.png").is_file()
    assert "summer-sale: saved as version 2" in run(cli, "templates", "import", str(folder))


def test_import_of_a_broken_meta_names_the_field_and_saves_nothing(cli, tmp_path) -> None:
    folder = tmp_path / "broken"
    run(cli, "templates", "export", "summer-sale", str(folder))
    meta = (folder / "meta.json").read_text().replace('"width": 1080', '"width": -1', 1)
    (folder / "meta.json").write_text(meta)
    result = cli.invoke(app, ["templates", "import", str(folder)])
    assert result.exit_code == 1 and "width" in result.output
    assert "summer-sale" in run(cli, "templates", "list")
