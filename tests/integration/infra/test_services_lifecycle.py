"""`python -m infra` on real processes: idempotent start, exact stop, and a failed start that leaves nothing behind.

These runs use their own SERVICES_DIR and free ports, beside the stack `make services` runs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infra.process import read_record


@pytest.fixture
def ports(free_port: Callable[[], int], tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {"POSTGRES_PORT": str(free_port()), "REDIS_PORT": str(free_port())}
    # As root, a cluster under a private temporary folder lives in the postgres user's home: remove it too.
    cluster = tmp_path / "services" / "postgres" / "cluster"
    if cluster.is_symlink():
        shutil.rmtree(cluster.resolve(), ignore_errors=True)


def _pid_files(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "services"
    return {"postgres": root / "postgres" / "postgres.pid", "redis": root / "redis" / "redis.pid"}


def test_up_twice_then_down_leaves_nothing_running(run_infra, ports: dict[str, str], tmp_path: Path) -> None:
    first = run_infra("up", "postgres", "redis", **ports)
    assert first.returncode == 0, first.stderr
    assert f"127.0.0.1:{ports['POSTGRES_PORT']}" in first.stdout
    assert f"redis://127.0.0.1:{ports['REDIS_PORT']}/0" in first.stdout
    records = {name: read_record(path) for name, path in _pid_files(tmp_path).items()}
    try:
        assert all(record and record.is_alive() for record in records.values())

        second = run_infra("up", "postgres", "redis", **ports)
        assert second.returncode == 0, second.stderr
        assert second.stdout.count("already running") == 2
        assert {name: read_record(path) for name, path in _pid_files(tmp_path).items()} == records

        status = run_infra("status", **ports)
        assert "postgres   running" in status.stdout
        assert "redis      running" in status.stdout
    finally:
        down = run_infra("down", "postgres", "redis", **ports)
    assert down.returncode == 0, down.stderr
    assert "stopped (pid" in down.stdout
    assert not any(record.is_alive() for record in records.values())
    assert not any(path.exists() for path in _pid_files(tmp_path).values())


def test_a_service_that_dies_at_start_is_reported_with_its_log_and_nothing_stays_up(
    run_infra, ports: dict[str, str], tmp_path: Path
) -> None:
    first = run_infra("up", "postgres", **ports)
    assert first.returncode == 0, first.stderr
    assert run_infra("down", "postgres", **ports).returncode == 0
    # A data directory from a PostgreSQL version this server cannot read: the server refuses to start.
    (tmp_path / "services" / "postgres" / "cluster" / "data" / "PG_VERSION").write_text("9\n")

    result = run_infra("up", "postgres", "redis", **ports)

    assert result.returncode == 1
    assert "postgres exited during start-up" in result.stderr
    assert "Last 20 lines of" in result.stderr
    assert "database files are incompatible with server" in result.stderr
    assert not any(path.exists() for path in _pid_files(tmp_path).values())  # redis, started with it, was stopped
    status = run_infra("status", **ports)
    assert "postgres   stopped" in status.stdout
    assert "redis      stopped" in status.stdout
