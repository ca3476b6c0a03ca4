"""Start, find and stop the local service processes by pid file.

A pid file holds the pid and the kernel's start time of that process, so that `down` signals exactly the process
it started, never an unrelated one that happens to reuse the pid later.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class ServiceError(Exception):
    """A service could not be prepared, started, checked or stopped; the message says why and what to do."""


@dataclass(frozen=True)
class ProcessRecord:
    """What a pid file says: which process, identified beyond its (reusable) pid."""

    pid: int
    start_ticks: int

    def is_alive(self) -> bool:
        """True while this very process (same pid and start time) runs and is not a zombie."""
        stat = _proc_stat(self.pid)
        return stat is not None and stat[0] != "Z" and stat[1] == self.start_ticks


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """Return (state, start time in clock ticks) of a process, or None when there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its closing parenthesis.
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def read_record(pid_file: Path) -> ProcessRecord | None:
    """Read a pid file written by `spawn`; None when it is missing or unreadable."""
    try:
        pid, ticks = pid_file.read_text().split()
        return ProcessRecord(int(pid), int(ticks))
    except (FileNotFoundError, ValueError):
        return None


def running_record(pid_file: Path) -> ProcessRecord | None:
    """The process a pid file names if it still runs; a stale pid file is removed."""
    record = read_record(pid_file)
    if record is None:
        return None
    if record.is_alive():
        return record
    pid_file.unlink(missing_ok=True)
    return None


def spawn(
    argv: Sequence[str],
    *,
    log_file: Path,
    pid_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> ProcessRecord:
    """Start a long-running process in its own session, output appended to `log_file`, and record it.

    Raises:
        ServiceError: the executable cannot be started at all.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                user=user,
                start_new_session=True,
            )
        except OSError as exc:
            raise ServiceError(f"cannot run {argv[0]}: {exc}") from exc
    stat = _proc_stat(proc.pid)
    record = ProcessRecord(proc.pid, stat[1] if stat else 0)
    pid_file.write_text(f"{record.pid} {record.start_ticks}\n")
    return record


def stop(record: ProcessRecord, *, sig: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> bool:
    """Signal a recorded process and wait for it to end, killing it after `timeout`.

    Returns:
        True if it ended on the polite signal, False if it had to be killed.
    """
    if not record.is_alive():
        return True
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.pid, sig)
    if wait_until(lambda: not record.is_alive(), timeout=timeout, interval=0.1):
        return True
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.pid, signal.SIGKILL)
    wait_until(lambda: not record.is_alive(), timeout=10, interval=0.1)
    return False


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.5) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds have passed; return its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a text file, or a note that it is empty or missing."""
    try:
        with path.open(errors="replace") as handle:
            last = deque(handle, maxlen=lines)
    except FileNotFoundError:
        return f"(no log at {path})"
    return "".join(last).rstrip() or f"(log {path} is empty)"
