"""Waking the relay promptly after a commit: PostgreSQL's LISTEN/NOTIFY where there is one, plain sleep elsewhere.

A notification is only a hint that something was committed; the relay polls anyway, so a lost notification (or a
database without them, like SQLite) costs at most one poll interval. NOTIFYs sent in one transaction are delivered
only when it commits, so a woken relay finds the committed rows; `wait` takes every notification queued by then at
once, so a burst of commits costs one pass, not one pass each.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

import psycopg
from psycopg.conninfo import make_conninfo

from command_service.apps.outbox.models import WAKE_UP_CHANNEL

log = logging.getLogger(__name__)


class WakeUp(Protocol):
    """Blocks until there may be work, or `timeout` seconds; says whether a notification (not the timeout) ended it."""

    def wait(self, timeout: float) -> bool: ...

    def close(self) -> None: ...


class SleepWakeUp:
    """No notifications: just wait out the poll interval."""

    def wait(self, timeout: float) -> bool:
        time.sleep(timeout)
        return False

    def close(self) -> None:
        pass


class PostgresWakeUp:
    """LISTENs on its own connection; `wait` returns at the first NOTIFY from a committed outbox write."""

    def __init__(self, settings_dict: dict[str, Any]) -> None:
        self.conninfo = make_conninfo(
            dbname=settings_dict["NAME"],
            user=settings_dict.get("USER") or None,
            password=settings_dict.get("PASSWORD") or None,
            host=settings_dict.get("HOST") or None,
            port=str(settings_dict.get("PORT") or "") or None,
        )
        self._conn: psycopg.Connection | None = None

    def wait(self, timeout: float) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.conninfo, autocommit=True)
                self._conn.execute(f"LISTEN {WAKE_UP_CHANNEL}")
            woken = any(True for _ in self._conn.notifies(timeout=timeout, stop_after=1))
            if woken:  # the others already queued (commits during the last pass) are served by the same next pass
                for _ in self._conn.notifies(timeout=0):
                    pass
            return woken
        except psycopg.Error as exc:
            log.warning("wake-up connection failed, polling instead: %s", exc)
            self.close()
            time.sleep(timeout)
            return False

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def wake_up_for(connection: Any) -> WakeUp:
    """The best wake-up for a Django database connection."""
    return PostgresWakeUp(connection.settings_dict) if connection.vendor == "postgresql" else SleepWakeUp()
