"""`python -m infra run` up and running: the write side answers, and whatever ends the run (Ctrl-C, SIGTERM during
start-up, a supervised process that dies) stops everything it started, and only that.

The query service and the stream fan-out are left out of these runs (the end-to-end suite runs the whole system);
each run has its own SERVICES_DIR and ports (see helpers.py), beside the stack `make services` runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.process import ProcessRecord, read_record, wait_until
from tests.integration.infra.helpers import (
    MARKER,
    clean_up,
    free_ports,
    infra_cli,
    pid_files,
    private_env,
    survivors,
)

WRITE_SIDE = ("command", "relay", "projector")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _records(env: dict[str, str]) -> list[ProcessRecord]:
    return [record for path in pid_files(env) if (record := read_record(path))]


@pytest.fixture(scope="module")
def services_env(tmp_path_factory: pytest.TempPathFactory, jvm_cache: Path) -> Iterator[dict[str, str]]:
    """A private stack started by `python -m infra up` before any run, stopped after the module."""
    root = tmp_path_factory.mktemp("shared") / "services"
    shutil.copytree(jvm_cache, root)
    env = private_env(root)
    started = infra_cli(env, "up")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield env
    finally:
        infra_cli(env, "down")
        clean_up(env)


def test_run_serves_the_write_side_and_ctrl_c_stops_everything_it_started(start_run) -> None:
    run = start_run(*WRITE_SIDE)
    run.wait_for("| projector started (pid=")
    base = f"http://127.0.0.1:{run.env['COMMAND_PORT']}"
    assert wait_until(lambda: _answers(f"{base}/health/"), timeout=60, interval=0.2), run.output()
    assert _answers(f"{base}/api/docs/")
    output = run.output()
    assert f"{base}/api/v1/" in output
    assert f"http://127.0.0.1:{run.env['PROJECTOR_METRICS_PORT']}/metrics" in output
    assert "sqlite:///" in output  # the embedded command database, since DATABASE_URL is not set
    assert f"  {'profile':<18} development (" in output  # the run says which profile its services run
    pids = {name: run.pid_of(name) for name in WRITE_SIDE}
    assert all(_alive(pid) for pid in pids.values()), pids
    services = _records(run.env)
    assert len(services) == 4
    assert all(record.is_alive() for record in services)

    code = run.finish(signal.SIGINT)

    assert code == 130, run.output()
    assert not any(_alive(pid) for pid in pids.values())
    assert not any(record.is_alive() for record in services)
    assert not pid_files(run.env)
    assert not survivors(run.env)  # gunicorn's workers too
    assert "opensearch stopped" in run.output()


def test_sigterm_while_migrating_stops_the_run_and_leaves_services_that_ran_before(
    start_run, services_env: dict[str, str]
) -> None:
    services = _records(services_env)
    run = start_run(*WRITE_SIDE, env={**services_env, MARKER: uuid.uuid4().hex})
    run.wait_for("migrating the command database")

    code = run.finish(signal.SIGTERM)

    output = run.output()
    assert code == 130, output
    assert "creating the event topics" not in output  # it stopped in the migration
    assert not survivors(run.env)  # the migration's process is gone too
    assert "left running (they ran before this run): kafka, opensearch, postgres, redis" in output
    assert _records(services_env) == services
    assert all(record.is_alive() for record in services)


def test_a_failed_migration_is_reported_and_nothing_it_started_runs(start_run, services_env: dict[str, str]) -> None:
    services = _records(services_env)
    nowhere = f"postgresql://cqrs:cqrs@127.0.0.1:{free_ports(1)[0]}/cqrs"  # no server listens there
    run = start_run(*WRITE_SIDE, env={**services_env, MARKER: uuid.uuid4().hex, "DATABASE_URL": nowhere})

    code = run.finish()

    output = run.output()
    assert code == 1, output
    assert "error: migrating the command database failed (exit 1)" in output
    assert "Connection refused" in output  # the migration's own last lines say why
    assert "started (pid=" not in output
    assert not survivors(run.env)
    assert _records(services_env) == services


def test_a_process_that_dies_ends_the_run_and_stops_the_others(start_run, services_env: dict[str, str]) -> None:
    services = _records(services_env)
    run = start_run(*WRITE_SIDE, env={**services_env, MARKER: uuid.uuid4().hex})
    run.wait_for("| projector started (pid=")
    command_api = f"http://127.0.0.1:{run.env['COMMAND_PORT']}/health/"
    assert wait_until(lambda: _answers(command_api), timeout=60, interval=0.2), run.output()
    pids = {name: run.pid_of(name) for name in WRITE_SIDE}

    os.kill(pids["relay"], signal.SIGKILL)
    code = run.finish()

    output = run.output()
    assert code == 1, output
    assert "relay stopped (rc=-9)" in output
    assert "a supervised process stopped by itself" in output
    assert not any(_alive(pid) for pid in pids.values())
    assert not survivors(run.env)
    assert not _answers(command_api)
    assert _records(services_env) == services
    assert all(record.is_alive() for record in services)
