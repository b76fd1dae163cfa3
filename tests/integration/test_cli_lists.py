"""The `promostack` list commands at 40 columns with stdout not a terminal (piped, or CliRunner).

Identifiers (slugs, codes, webhook URLs) come out whole at any width, and `--json` prints a
JSON array of objects and nothing else.
"""

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from PIL import Image
from prefect.settings import PREFECT_API_URL, temporary_settings
from typer.testing import CliRunner, Result

from cli.main import app
from promostack.config import Settings, get_settings
from promostack.coupons import LocalRegistry
from promostack.db.migrate import upgrade
from promostack.runtime import build_runtime
from promostack.templates.schema import TemplateMeta
from promostack.templates.store import TemplateStore
from tests.conftest import make_settings

PROMOSTACK = str(Path(sys.executable).parent / "promostack")
LONG_SLUG = "spring-clearance-" + "x" * 40 + "-final"  # 63 characters, near the 64 a slug may have
LONG_CODE = "SPRING-CLEARANCE-" + "Y" * 40 + "-FINAL1"  # 64 characters, the most a code may have


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#336699").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A migrated embedded install with a template and a coupon whose identifiers are long."""
    settings = make_settings(tmp_path)
    upgrade(settings.sqlalchemy_url)
    runtime = build_runtime(settings)
    try:
        TemplateStore(runtime.store).save(
            TemplateMeta(
                slug=LONG_SLUG,
                name="Spring clearance with a name long enough to need wrapping",
                image_key=f"templates/{LONG_SLUG}/background.png",
                width=400,
                height=200,
                text_areas=[{"id": "code", "source": "coupon", "box": {"x": 10, "y": 10, "w": 300, "h": 80}}],
            ),
            png(400, 200),
        )
        LocalRegistry(runtime.sessions).add(LONG_CODE, discount=15, description="a [bold]note[/]")
    finally:
        runtime.close()
    return tmp_path


@pytest.fixture
def cli(data_dir: Path, monkeypatch) -> Iterator[Callable[..., Result]]:
    """`cli(ARGS, **env)`: the command run in-process at 40 columns (stdout is not a terminal)."""
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    get_settings.cache_clear()

    def invoke(*args: str, **env: str) -> Result:
        return CliRunner().invoke(app, list(args), env={"COLUMNS": "40", **env})

    yield invoke
    get_settings.cache_clear()


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def test_templates_list_piped_into_40_columns_keeps_a_long_slug_whole(data_dir) -> None:
    # The real command in a subprocess, its stdout a pipe, as in `promostack templates list | grep`.
    environ = {k: v for k, v in os.environ.items() if k.upper() not in {n.upper() for n in Settings.model_fields}}
    piped = subprocess.run(
        [PROMOSTACK, "templates", "list"],
        cwd=data_dir,  # so no .env of the checkout is read
        env={**environ, "DATA_DIR": str(data_dir), "COLUMNS": "40"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert piped.returncode == 0, piped.stderr
    assert LONG_SLUG in piped.stdout
    assert "…" not in piped.stdout


def test_templates_list_json_is_an_array_of_whole_templates(cli) -> None:
    rows = json.loads(ok(cli("templates", "list", "--json")))
    assert [r["slug"] for r in rows] == [LONG_SLUG]
    assert rows[0]["width"] == 400 and rows[0]["height"] == 200 and rows[0]["version"] == 1
    assert rows[0]["visibility"] == {"web": True, "telegram": True}
    assert rows[0]["updated_at"].endswith("+00:00")


def test_coupons_list_in_40_columns_keeps_a_64_character_code_whole(cli) -> None:
    output = ok(cli("coupons", "list"))
    assert LONG_CODE in output
    assert "[bold]note[/]" in output  # a description is shown as typed, not read as markup


def test_coupons_list_json_gives_each_code_with_its_usage(cli) -> None:
    rows = json.loads(ok(cli("coupons", "list", "--json")))
    assert rows == [
        {
            "code": LONG_CODE,
            "active": True,
            "description": "a [bold]note[/]",
            "discount": 15.0,
            "expires_at": None,
            "max_uses": None,
            "usage_count": 0,
        }
    ]


def test_bot_list_keeps_a_long_webhook_url_whole_and_lists_json(cli) -> None:
    base = "https://promo-stack-production-eu-west.example-company-domain.com"
    output = ok(cli("bot", "list", BASE_URL=base))
    assert f"{base}/telegram/promo/webhook" in output
    rows = json.loads(ok(cli("bot", "list", "--json", BASE_URL=base)))
    assert {r["id"]: r["webhook"] for r in rows}["forex"] == f"{base}/telegram/forex/webhook"
    assert all(r["enabled"] is False for r in rows)  # no tokens set


def test_doctor_json_lists_every_service_and_still_exits_1_when_one_fails(cli) -> None:
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # nothing listens on port 9
        result = cli("doctor", "--json")
    by_name = {r["name"]: r for r in json.loads(result.stdout)}
    assert {"database", "object storage", "prefect api"} <= set(by_name)
    assert by_name["database"]["ok"] is True and by_name["prefect api"]["ok"] is False
    assert result.exit_code == 1


def test_a_failing_list_leaves_stdout_empty_and_says_why_on_stderr(cli, s3_endpoint) -> None:
    result = cli(
        "templates",
        "list",
        "--json",
        SPACES_BUCKET="no-such-bucket",  # the store answers, but refuses every request
        SPACES_ENDPOINT_URL=s3_endpoint,
        SPACES_ACCESS_KEY="testing",
        SPACES_SECRET_KEY="testing",
        SPACES_REGION="us-east-1",
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "a service failed" in result.stderr and "no-such-bucket" in result.stderr


def test_every_list_command_takes_json() -> None:
    def commands(command: Any, path: str) -> list[tuple[str, Any]]:
        if hasattr(command, "commands"):  # a group
            return [pair for name, sub in command.commands.items() for pair in commands(sub, f"{path} {name}")]
        return [(path, command)]

    listing = [
        (path, command)
        for path, command in commands(typer.main.get_command(app), "promostack")
        if path.endswith(" list") or path.endswith(" doctor")
    ]
    assert len(listing) >= 4
    missing = [path for path, command in listing if not any("--json" in p.opts for p in command.params)]
    assert missing == []
