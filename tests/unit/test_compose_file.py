"""compose.yaml is valid for Docker Compose and publishes the same loopback ports as `make services`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from runtime.settings import (
    KAFKA_PORT,
    OPENSEARCH_PORT,
    POSTGRES_PORT,
    REDIS_MAXMEMORY_POLICY,
    REDIS_PORT,
    redis_maxmemory,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
# compose.yaml has no fallback secret: every `config` below is given one, as an operator's .env would.
SECRET_ENV = {**os.environ, "DJANGO_SECRET_KEY": "compose-test-" + "k" * 40}


def _compose() -> list[str]:
    """`docker compose` when the v2 plugin answers, else Debian's docker-compose (validates without an engine)."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("neither `docker compose` nor `docker-compose` is installed: run `make bootstrap`", pytrace=False)


def _config(path: Path, env: dict[str, str] = SECRET_ENV) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_compose(), "-f", str(path), "config"], capture_output=True, text=True, check=False, env=env, cwd=path.parent
    )


def test_compose_config_accepts_the_file_and_publishes_the_local_ports() -> None:
    result = _config(REPO_ROOT / "compose.yaml")
    assert result.returncode == 0, result.stderr
    for service in ("postgres:", "redis:", "kafka:", "opensearch:"):
        assert f"  {service}" in result.stdout
    for port, container_port in (
        (POSTGRES_PORT, 5432),
        (REDIS_PORT, 6379),
        (KAFKA_PORT, 9092),
        (OPENSEARCH_PORT, 9200),
    ):
        assert f"127.0.0.1:{port.value}:{container_port}" in result.stdout  # compose reads the same variables


def test_compose_app_profile_runs_every_process_of_the_system_against_the_network_names() -> None:
    result = subprocess.run(
        [*_compose(), "-f", str(REPO_ROOT / "compose.yaml"), "--profile", "app", "config"],
        capture_output=True, text=True, check=False, env=SECRET_ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for service in ("migrate:", "command:", "relay:", "projector:", "query:", "fanout:"):
        assert f"  {service}" in result.stdout
    assert "KAFKA_BOOTSTRAP_SERVERS: kafka:29092" in result.stdout
    assert "127.0.0.1:8000:8000" in result.stdout
    assert "127.0.0.1:8001:8001" in result.stdout
    assert "DJANGO_ENV: production" in result.stdout
    assert f"DJANGO_SECRET_KEY: {SECRET_ENV['DJANGO_SECRET_KEY']}" in result.stdout


def test_compose_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SECRET_KEY"}
    copy = tmp_path / "compose.yaml"  # a folder without an operator's .env
    copy.write_text((REPO_ROOT / "compose.yaml").read_text())
    result = _config(copy, env)
    assert result.returncode != 0
    assert "set DJANGO_SECRET_KEY" in result.stderr
    assert "change-me" not in (REPO_ROOT / "compose.yaml").read_text()


def test_compose_config_rejects_an_unknown_key(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text((REPO_ROOT / "compose.yaml").read_text().replace("    image: redis:7", "    imagee: redis:7"))
    result = _config(broken)
    assert result.returncode != 0
    assert "imagee" in result.stderr


def _redis_command(env: dict[str, str]) -> list[str]:
    """The redis service's command as compose resolves it (one item a line under `command:`)."""
    result = _config(REPO_ROOT / "compose.yaml", env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("  redis:")
    items = []
    for line in lines[lines.index("    command:", start) + 1 :]:
        if not line.startswith("    - "):
            break
        items.append(line.removeprefix("    - ").strip("'\""))
    return items


def test_compose_redis_is_bounded_like_the_local_one_and_reads_redis_maxmemory() -> None:
    command = _redis_command(SECRET_ENV)
    assert command[0] == "redis-server"
    assert command[command.index("--maxmemory") + 1] == redis_maxmemory()  # the same default as `make services`
    assert command[command.index("--maxmemory-policy") + 1] == REDIS_MAXMEMORY_POLICY
    smaller = _redis_command({**SECRET_ENV, "REDIS_MAXMEMORY": "256mb"})
    assert smaller[smaller.index("--maxmemory") + 1] == "256mb"
