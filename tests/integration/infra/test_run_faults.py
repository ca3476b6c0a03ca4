"""`python -m infra run` when it cannot start: one clear message, and nothing it started is left running.

Each run has its own SERVICES_DIR and ports (see conftest.py), beside the stack `make services` runs.
"""

from __future__ import annotations

import signal
import socket
from pathlib import Path

from tests.integration.infra.helpers import pid_files, private_env, survivors


def test_a_taken_app_port_is_named_with_its_variable_and_nothing_starts(run_infra, tmp_path: Path) -> None:
    env = private_env(tmp_path / "services")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(env["QUERY_PORT"])))
        squatter.listen()
        result = run_infra("run", timeout=60, **env)
    assert result.returncode == 1
    assert f"port {env['QUERY_PORT']} is already in use by another process" in result.stderr
    assert "set QUERY_PORT to another port" in result.stderr
    assert "nothing was started" in result.stderr
    assert "started" not in result.stdout
    assert not pid_files(env)
    assert not survivors(env)


def test_a_backing_service_that_fails_to_start_stops_the_others_and_no_process_runs(start_run, tmp_path: Path) -> None:
    env = private_env(tmp_path / "services")
    # Kafka storage that was never formatted: the broker refuses to start.
    data = Path(env["SERVICES_DIR"]) / "kafka" / "data"
    data.mkdir(parents=True)
    (data / "meta.properties").write_text("version=1\n")

    run = start_run(env=env)
    code = run.finish(timeout=300)

    output = run.output()
    assert code == 1, output
    assert "error: kafka exited during start-up" in output
    assert "Exiting Kafka due to fatal exception" in output  # the broker's own words, from its log's last lines
    assert "migrating" not in output
    assert not pid_files(env)  # postgres, redis and opensearch, started with it, were stopped
    assert not survivors(env)


def test_ctrl_c_while_the_services_start_leaves_nothing_running(start_run) -> None:
    run = start_run()
    run.wait_for("postgres   started (pid")  # Kafka and OpenSearch are starting too, not healthy yet
    spawned = {path.parent.name for path in pid_files(run.env)}
    assert {"kafka", "opensearch"} <= spawned

    code = run.finish(signal.SIGINT)

    assert code == 130, run.output()
    assert "interrupted" in run.output()
    assert not pid_files(run.env)
    assert not survivors(run.env)
