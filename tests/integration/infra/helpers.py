"""`python -m infra run` as a child process, on a private SERVICES_DIR and private ports, and a way to prove that
nothing it started is left running: every process it starts inherits a marker variable that /proc shows."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
PORT_VARS = (
    "POSTGRES_PORT", "REDIS_PORT", "KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "OPENSEARCH_PORT",
    "OPENSEARCH_TRANSPORT_PORT", "COMMAND_PORT", "QUERY_PORT", "PROJECTOR_METRICS_PORT",
)  # fmt: skip
# Set by `infra exec` for the shared stack: a private run must not inherit them.
SHARED_VARS = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "OPENSEARCH_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
MARKER = "INFRA_RUN_TEST_MARKER"


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports that nothing listens on right now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def private_env(services_dir: Path) -> dict[str, str]:
    """Our environment with a private SERVICES_DIR, private ports, no shared endpoints, and a fresh marker."""
    env = {key: value for key, value in os.environ.items() if key not in SHARED_VARS}
    env.update(zip(PORT_VARS, map(str, free_ports(len(PORT_VARS))), strict=True))
    env.update(SERVICES_DIR=str(services_dir), LOG_LEVEL="WARNING", **{MARKER: uuid.uuid4().hex})
    return env


def survivors(env: dict[str, str]) -> list[str]:
    """The processes still running that were started under this environment's marker (pid and command line)."""
    needle = f"{MARKER}={env[MARKER]}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                found.append(f"{proc.name}: {(proc / 'cmdline').read_bytes().replace(b'\0', b' ').decode()}")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


def pid_files(env: dict[str, str]) -> list[Path]:
    """The pid files in the run's SERVICES_DIR."""
    return sorted(Path(env["SERVICES_DIR"]).glob("*/*.pid"))


def infra_cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m infra ARGS` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "infra", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


@dataclass
class InfraRun:
    """A `python -m infra run` child process and its combined output."""

    proc: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]

    def output(self) -> str:
        """Everything it printed so far."""
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 300) -> None:
        """Wait until `text` appears in the output; fail if the run ends first or it takes too long."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None:
                pytest.fail(f"`infra run` ended (exit {self.proc.returncode}) before {text!r}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} within {timeout:.0f} s:\n{self.output()}")
            time.sleep(0.05)

    def pid_of(self, name: str) -> int:
        """The pid honcho reported for a supervised process."""
        line = next(line for line in self.output().splitlines() if f"| {name} started (pid=" in line)
        return int(line.rsplit("pid=", 1)[1].rstrip(")"))

    def finish(self, sig: signal.Signals | None = None, timeout: float = 120) -> int:
        """Send `sig` (if any) and wait for the run to end; return its exit code."""
        if sig is not None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)


def clean_up(env: dict[str, str], *, remove_cluster: bool = True) -> None:
    """Whatever a failed test left behind: processes under its marker, a PostgreSQL cluster outside the folder."""
    for line in survivors(env):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)
    # As root, a cluster in a private temporary folder lives in the postgres user's home.
    cluster = Path(env["SERVICES_DIR"]) / "postgres" / "cluster"
    if remove_cluster and cluster.is_symlink():
        shutil.rmtree(cluster.resolve(), ignore_errors=True)
