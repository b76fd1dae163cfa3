"""How the web process logs: readable lines, or one JSON object a line (`LOG_FORMAT=json`).

Handed to uvicorn as its `log_config` (`python -m deployments.web`), so uvicorn's own loggers,
the access log and ours (`webapp.*`, `bots.*`, `promostack.*`) share one handler on stderr.
JSON lines come from python-json-logger and carry `time`, `level`, `logger`, `message` and any
`extra=` fields, which is what log shippers index.
"""

from __future__ import annotations

from typing import Any

from promostack.config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s - %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d"


def log_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` document for `settings.log_format` and `settings.log_level`."""
    if settings.log_format == "json":
        formatter: dict[str, Any] = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    else:
        formatter = {"format": TEXT_FORMAT}
    level = settings.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        # uvicorn's loggers hand their records to the root handler instead of their own.
        "loggers": {
            name: {"handlers": [], "propagate": True, "level": level}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
