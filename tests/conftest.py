"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests are deterministic in `make test` (the same examples every run, so a red run is a real finding, not
# a draw) and never timed (a deadline would be a timed assertion on a shared machine). `HYPOTHESIS_PROFILE=explore`
# draws new examples, more of them, to look for what the fixed ones miss.
settings.register_profile("default", deadline=None, derandomize=True, print_blob=True)
settings.register_profile("explore", deadline=None, max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO_ROOT = Path(__file__).resolve().parent.parent
QUERY_SETTINGS = "query_service.config.settings"
QUERY_TESTS = REPO_ROOT / "tests" / "integration" / "query_service"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """One Django settings module per pytest process: the query service's tests run in their own process.

    `make test` runs both; with DJANGO_SETTINGS_MODULE=query_service.config.settings only the query service's
    tests are collected, otherwise only the others.
    """
    query_run = os.environ.get("DJANGO_SETTINGS_MODULE") == QUERY_SETTINGS
    inside = collection_path == QUERY_TESTS or QUERY_TESTS in collection_path.parents
    if inside:
        return None if query_run else True
    if query_run and collection_path not in QUERY_TESTS.parents:
        return True
    return None


@pytest.fixture
def free_port() -> Callable[[], int]:
    """Returns a function giving a loopback port that nothing listens on right now."""

    def pick() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    return pick


@pytest.fixture
def run_infra(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs `python -m infra ARGS` as a user would, with its state in a temporary SERVICES_DIR.

    Keyword arguments become environment variables (a value of None removes the variable).
    """

    def run(*args: str, timeout: float = 240, **env: str | None) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "SERVICES_DIR": str(tmp_path / "services")}
        for key, value in env.items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        return subprocess.run(
            [sys.executable, "-m", "infra", *args],
            cwd=REPO_ROOT,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
