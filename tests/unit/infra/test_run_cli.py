"""`python -m infra run` and `python -m infra.demo` refuse what they cannot do, in one line, starting nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_an_unknown_process_is_refused_with_the_known_ones(run_infra, tmp_path: Path) -> None:
    result = run_infra("run", "command", "worker")
    assert result.returncode == 1
    assert "unknown process(es) worker; known: command, relay, projector, query, fanout" in result.stderr
    assert not (tmp_path / "services").exists()


def test_an_app_port_that_is_not_a_number_is_refused(run_infra) -> None:
    result = run_infra("run", COMMAND_PORT="eight-thousand")
    assert result.returncode == 1
    assert "COMMAND_PORT='eight-thousand' is not a port number" in result.stderr


def test_help_lists_run(run_infra) -> None:
    result = run_infra("--help")
    assert "    run [PROCESS ...]" in result.stdout


def test_the_demo_says_where_nothing_answers(free_port) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run(
        [sys.executable, "-m", "infra.demo", "--url", url], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: nothing answers at {url}")
    assert "make run" in result.stderr
    assert result.stdout == ""
