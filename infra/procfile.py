"""The system's own processes, Procfile-style, and honcho's Manager that supervises them as one unit."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from honcho.manager import Manager

from infra.process import ServiceError
from runtime.settings import REPO_ROOT, PortSetting

# The system's own processes (the projector reads its port itself; 0 turns it off).
COMMAND_PORT = PortSetting("COMMAND_PORT", 8000)
QUERY_PORT = PortSetting("QUERY_PORT", 8001)
PROJECTOR_METRICS_PORT = PortSetting("PROJECTOR_METRICS_PORT", 9108)


@dataclass(frozen=True)
class AppProcess:
    """One line of the Procfile: a name, its command, the port it listens on, and the URLs it serves."""

    name: str
    argv: tuple[str, ...]
    port: PortSetting | None = None
    urls: tuple[tuple[str, str], ...] = ()


def app_processes() -> list[AppProcess]:
    """Every process of the system, in start order, with the ports in force now."""
    python = sys.executable
    command = f"127.0.0.1:{COMMAND_PORT.value}"
    query = f"127.0.0.1:{QUERY_PORT.value}"
    gunicorn = (
        python, "-m", "gunicorn", "command_service.config.wsgi:application", "--bind", command,
        "--worker-class", "gthread", "--workers", "3", "--threads", "4",
        "--graceful-timeout", "4", "--no-control-socket",  # done before honcho's 5 s grace ends in SIGKILL
    )  # fmt: skip
    uvicorn = (python, "-m", "query_service.serve", "query_service.config.asgi:application", "--host", "127.0.0.1",
               "--ws-max-size", "65536")  # fmt: skip  # frames over the stream's limit are refused before buffering
    metrics = PROJECTOR_METRICS_PORT.value
    return [
        AppProcess(
            "command",
            gunicorn,
            COMMAND_PORT,
            (("command API", f"http://{command}/api/v1/"), ("command API docs", f"http://{command}/api/docs/")),
        ),
        AppProcess("relay", (python, "-m", "command_service", "outbox_relay")),
        AppProcess(
            "projector",
            (python, "-m", "projector", "run"),
            PROJECTOR_METRICS_PORT if metrics else None,
            (("projector metrics", f"http://127.0.0.1:{metrics}/metrics"),) if metrics else (),
        ),
        AppProcess(
            "query",
            (*uvicorn, "--port", str(QUERY_PORT.value)),
            QUERY_PORT,
            (
                ("query API", f"http://{query}/api/v1/"),
                ("query API docs", f"http://{query}/api/docs/"),
                ("status page", f"http://{query}/status/"),
                ("live stream", f"ws://{query}/stream"),
            ),
        ),
        AppProcess("fanout", (python, "-m", "query_service", "stream_fanout")),
    ]


def select(names: Sequence[str]) -> list[AppProcess]:
    """The named processes (all by default), in start order.

    Raises:
        ServiceError: a name is not a process of the system.
    """
    processes = app_processes()
    known = [process.name for process in processes]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ServiceError(f"unknown process(es) {', '.join(unknown)}; known: {', '.join(known)}")
    return [process for process in processes if not names or process.name in names]


class Supervisor(Manager):
    """honcho's Manager, safe against a stop request that arrives before every process has reported its pid.

    honcho 2.0 signals each process by the pid its start message carried; a Ctrl-C in the first moments would
    look up a pid it has not heard of yet and leave that process running. Here such a request waits until every
    process has started, then stops them all.
    """

    def __init__(self) -> None:
        super().__init__()
        self._stop_when_started = False

    def add(self, process: AppProcess, env: Mapping[str, str]) -> None:
        """Add a process; `exec` makes the shell honcho runs it in become the process itself."""
        self.add_process(process.name, f"exec {shlex.join(process.argv)}", env=dict(env), cwd=str(REPO_ROOT))

    def terminate(self) -> None:
        """Send SIGTERM to every process, or remember to as soon as all have started."""
        if not self._all_started():
            self._stop_when_started = True
            return
        super().terminate()

    def _all_started(self) -> bool:
        started = super()._all_started()
        if started and self._stop_when_started:
            self._stop_when_started = False
            super().terminate()
        return started
