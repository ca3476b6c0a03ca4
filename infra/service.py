"""What every local backing service has in common: a state folder, ports, a process, a health check."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from abc import ABC, abstractmethod
from pathlib import Path

from infra.process import ProcessRecord, ServiceError, running_record, spawn, tail
from runtime.settings import PortSetting, state_root


class Service(ABC):
    """One backing service run as a local process: subclasses say how to prepare, start and check it."""

    name: str
    ports: tuple[PortSetting, ...]
    start_timeout: float = 60.0
    stop_signal: signal.Signals = signal.SIGTERM

    def __init__(self, root: Path | None = None) -> None:
        self.dir = (root or state_root()) / self.name
        self.pid_file = self.dir / f"{self.name}.pid"
        self.log_file = self.dir / "logs" / f"{self.name}.log"

    @abstractmethod
    def prepare(self) -> None:
        """Install, build and initialize what the first start needs; a no-op when already done."""

    @abstractmethod
    def command(self) -> list[str]:
        """The argv that runs the service in the foreground."""

    @abstractmethod
    def is_healthy(self) -> bool:
        """One quick real request to the service; False while it is not ready yet."""

    @abstractmethod
    def endpoint(self) -> str:
        """The address clients use, as printed by `make services`."""

    def client_env(self) -> dict[str, str]:
        """The project's environment variables that point clients at this service."""
        return {}

    def run_as(self) -> str | None:
        """The user to run the process as; None for the current user."""
        return None

    def process_env(self) -> dict[str, str] | None:
        """The process's environment; None to inherit ours."""
        return None

    def after_start(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Work to do once the service is healthy (create a database, say)."""

    def running(self) -> ProcessRecord | None:
        """The process this service's pid file names, if it runs."""
        return running_record(self.pid_file)

    def start(self) -> ProcessRecord:
        """Spawn the service's process and record its pid; the caller waits for health."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("a") as log:
            log.write(f"---- started by `make services` at {time.strftime('%Y-%m-%d %H:%M:%S')} ----\n")
        return spawn(
            self.command(),
            log_file=self.log_file,
            pid_file=self.pid_file,
            env=self.process_env(),
            cwd=self.dir,
            user=self.run_as(),
        )

    def wait_healthy(self, record: ProcessRecord) -> None:
        """Wait until the health check passes.

        Raises:
            ServiceError: the process died or was not healthy within `start_timeout`, with its log's last 20 lines.
        """
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if not record.is_alive():
                raise self._failure(f"{self.name} exited during start-up")
            try:
                if self.is_healthy():
                    return
            except Exception:
                pass
            time.sleep(0.5)
        raise self._failure(f"{self.name} was not healthy within {self.start_timeout:.0f} s")

    def _failure(self, what: str) -> ServiceError:
        return ServiceError(f"{what}. Last 20 lines of {self.log_file}:\n{tail(self.log_file, 20)}")


def require_executable(name: str, install_hint: str) -> str:
    """The full path of an executable on PATH.

    Raises:
        ServiceError: it is missing; the message names what to install.
    """
    path = shutil.which(name)
    if path is None:
        raise ServiceError(f"`{name}` was not found on PATH: install {install_hint}")
    return path


def apt_install(package: str) -> None:
    """Install a Debian package when running as root; otherwise say which package to install.

    Raises:
        ServiceError: not root, or apt-get failed.
    """
    if os.geteuid() != 0:
        raise ServiceError(f"the Debian package `{package}` is missing: run `sudo apt-get install -y {package}`")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", package]
    print(f"installing the Debian package {package} ...", flush=True)
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode == 0:
        return
    # A new machine may have no package lists yet: fetch them once and try again.
    subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
    result = subprocess.run(install, env=env, capture_output=True, check=False)
    if result.returncode != 0:
        raise ServiceError(f"`apt-get install {package}` failed:\n{result.stderr.decode(errors='replace')[-2000:]}")
