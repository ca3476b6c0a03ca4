"""Structured logs: one JSON object a line, with the event and correlation ids where a record carries them."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime

EXTRA_KEYS = ("event_id", "correlation_id", "aggregate", "topic", "count")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: getattr(record, key) for key in EXTRA_KEYS if hasattr(record, key)})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def logging_config(quiet: tuple[str, ...]) -> dict:
    """Django's LOGGING: JSON lines on stderr at LOG_LEVEL (default INFO), the `quiet` loggers at WARNING.

    Args:
        quiet: client libraries that log every connection and request at INFO.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "runtime.logs.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        "loggers": {name: {"level": "WARNING"} for name in quiet},
    }
