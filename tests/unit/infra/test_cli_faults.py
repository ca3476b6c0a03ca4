"""`python -m infra` refuses bad situations with one clear message and starts nothing."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest


def test_a_taken_port_is_named_with_its_variable_and_nothing_starts(run_infra, free_port, tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        result = run_infra("up", "postgres", "redis", POSTGRES_PORT=str(free_port()), REDIS_PORT=str(taken))
    assert result.returncode == 1
    assert f"port {taken} is already in use" in result.stderr
    assert "REDIS_PORT" in result.stderr
    assert "nothing was started" in result.stderr
    assert not list((tmp_path / "services").glob("*/*.pid"))


def test_a_port_that_is_not_a_number_is_refused(run_infra) -> None:
    result = run_infra("up", "redis", REDIS_PORT="six")
    assert result.returncode == 1
    assert "REDIS_PORT='six' is not a port number" in result.stderr


@pytest.fixture
def jvm_ports(free_port: Callable[[], int]) -> dict[str, str]:
    names = ("KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "OPENSEARCH_PORT", "OPENSEARCH_TRANSPORT_PORT")
    return {name: str(free_port()) for name in names}


def test_missing_java_names_what_to_install(run_infra, jvm_ports: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run_infra("up", "kafka", PATH=str(empty), JAVA_HOME=None, **jvm_ports)
    assert result.returncode == 1
    assert "`java` was not found" in result.stderr
    assert "openjdk-17" in result.stderr


def test_missing_maven_names_what_to_install(run_infra, jvm_ports: dict[str, str], tmp_path: Path) -> None:
    java_only = tmp_path / "java-only-bin"
    java_only.mkdir()
    java = shutil.which("java")
    assert java, "this test needs the machine's Java"
    (java_only / "java").symlink_to(Path(java).resolve())
    result = run_infra("up", "opensearch", PATH=str(java_only), JAVA_HOME=None, **jvm_ports)
    assert result.returncode == 1
    assert "`mvn` was not found" in result.stderr
    assert "maven" in result.stderr


def test_an_unknown_service_is_refused(run_infra) -> None:
    result = run_infra("up", "mongodb")
    assert result.returncode == 1
    assert "unknown service(s) mongodb" in result.stderr


def test_help_lists_the_commands(run_infra) -> None:
    result = run_infra("--help")
    assert result.returncode == 0
    for command in ("up", "down", "status", "env", "exec"):
        assert f"    {command}" in result.stdout
