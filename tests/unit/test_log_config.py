"""LOG_FORMAT=json turns every log line of the web process into one JSON object."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from pathlib import Path

from tests.conftest import make_settings
from webapp.log_config import log_config


def _emit(config: dict[str, object], stream: io.StringIO) -> str:
    config["handlers"]["stderr"]["stream"] = stream  # type: ignore[index]
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    logging.config.dictConfig(config)
    try:
        logging.getLogger("bots.update_store").warning("ran %d update(s)", 3)
        logging.getLogger("uvicorn.access").info("GET /healthz 200")
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
    return stream.getvalue()


def test_json_logs_are_one_object_a_line_with_level_and_logger(tmp_path: Path) -> None:
    lines = _emit(log_config(make_settings(tmp_path, log_format="json")), io.StringIO()).splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["level"], r["logger"], r["message"]) for r in records] == [
        ("WARNING", "bots.update_store", "ran 3 update(s)"),
        ("INFO", "uvicorn.access", "GET /healthz 200"),
    ]
    assert all("time" in r for r in records)


def test_text_logs_stay_readable_lines(tmp_path: Path) -> None:
    text = _emit(log_config(make_settings(tmp_path)), io.StringIO())
    assert "WARNING bots.update_store - ran 3 update(s)" in text
    assert not text.lstrip().startswith("{")
