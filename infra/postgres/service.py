"""PostgreSQL from the Debian package, in its own data directory on a loopback port."""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

import psycopg

from infra.process import ServiceError
from infra.service import Service, apt_install
from runtime.settings import POSTGRES_PORT

USER = "cqrs"
PASSWORD = "cqrs"
DATABASE = "cqrs"


def _bin_dir() -> Path | None:
    """The newest installed server's binary folder (Debian keeps it off PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


class Postgres(Service):
    """A private PostgreSQL cluster; as root it runs as the `postgres` user, since initdb refuses root."""

    name = "postgres"
    ports = (POSTGRES_PORT,)
    start_timeout = 60.0
    stop_signal = signal.SIGINT  # PostgreSQL's "fast" shutdown: roll back open transactions, then exit cleanly

    @property
    def port(self) -> int:
        return self.ports[0].value

    @property
    def cluster_dir(self) -> Path:
        """Data and socket folder, owned by the server's user (see `_place_cluster`)."""
        return (self.dir / "cluster").resolve()

    @property
    def data_dir(self) -> Path:
        return self.cluster_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.cluster_dir / "run"

    def run_as(self) -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def prepare(self) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            apt_install("postgresql")
            bin_dir = _bin_dir()
            if bin_dir is None:
                raise ServiceError("the postgresql package installed no server under /usr/lib/postgresql")
        self._bin = bin_dir
        self._place_cluster()
        self.socket_dir.mkdir(exist_ok=True)
        self._chown(self.socket_dir)
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(exist_ok=True)
        pwfile = self.cluster_dir / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        for path in (self.data_dir, pwfile):
            self._chown(path)
        result = subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", USER, f"--pwfile={pwfile}", "-E", "UTF8",
             "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256"],
            user=self.run_as(), capture_output=True, text=True, check=False,
        )  # fmt: skip
        pwfile.unlink()
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise ServiceError(f"initdb failed:\n{result.stdout[-1500:]}{result.stderr[-1500:]}")

    def _place_cluster(self) -> None:
        """Create the cluster folder where the server's user can reach it.

        As root the server runs as `postgres`, which cannot enter a private folder (a home directory, pytest's
        temporary folders). Then the cluster lives in that user's home and `cluster` is a link to it.
        """
        link = self.dir / "cluster"
        if link.exists():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        link.mkdir()
        self._chown(link)
        user = self.run_as()
        if user is None or subprocess.run(["test", "-w", str(link)], user=user, check=False).returncode == 0:
            return
        link.rmdir()
        digest = hashlib.sha256(str(self.dir).encode()).hexdigest()[:12]
        elsewhere = Path(pwd.getpwnam(user).pw_dir) / f"cqrs-cluster-{digest}"
        elsewhere.mkdir(parents=True, exist_ok=True)
        self._chown(elsewhere)
        link.symlink_to(elsewhere)

    def _chown(self, path: Path) -> None:
        user = self.run_as()
        if user:
            entry = pwd.getpwnam(user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def command(self) -> list[str]:
        bin_dir = getattr(self, "_bin", None) or _bin_dir()
        return [
            str(bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.socket_dir}",
            "-c", "max_connections=200",
        ]  # fmt: skip

    def _conninfo(self, dbname: str) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{dbname}"

    def is_healthy(self) -> bool:
        with psycopg.connect(self._conninfo("postgres"), connect_timeout=2) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)

    def after_start(self) -> None:
        with psycopg.connect(self._conninfo("postgres"), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def endpoint(self) -> str:
        return self._conninfo(DATABASE)

    def client_env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.endpoint()}
