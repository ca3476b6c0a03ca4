"""Graceful stop for the long-running processes (relay, projector): SIGTERM or Ctrl-C ends the loop after its pass."""

from __future__ import annotations

import signal


class StopRequested:
    """Becomes true at the first SIGTERM or SIGINT; loops check it between passes."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def _stop(self, signum: int, frame: object) -> None:
        self.requested = True

    def __bool__(self) -> bool:
        return self.requested
