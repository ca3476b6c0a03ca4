"""Fixtures for running `python -m infra run` in a private environment (see helpers.py)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infra.jvm import compile_java, maven_classpath
from infra.kafka import service as kafka_service
from infra.opensearch import service as opensearch_service
from tests.integration.infra.helpers import REPO_ROOT, InfraRun, clean_up, private_env


@pytest.fixture(scope="session")
def jvm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Kafka's and OpenSearch's resolved classpaths and compiled launcher, copied into each private SERVICES_DIR.

    Resolving them with Maven takes half a minute per folder even when every jar is in ~/.m2.
    """
    root = tmp_path_factory.mktemp("jvm-cache")
    maven_classpath(kafka_service.HERE / "pom.xml", root / "kafka" / "classpath.txt")
    classpath = maven_classpath(opensearch_service.HERE / "pom.xml", root / "opensearch" / "classpath.txt")
    compile_java(opensearch_service.LAUNCHER, classpath, root / "opensearch" / "classes")
    return root


@pytest.fixture
def start_run(tmp_path: Path, jvm_cache: Path) -> Iterator[Callable[..., InfraRun]]:
    """Starts `python -m infra run ARGS` in a private environment, or in `env` (whose services it then shares)."""
    runs: list[InfraRun] = []
    own_dir = tmp_path / "services"

    def start(*args: str, env: dict[str, str] | None = None) -> InfraRun:
        run_env = env or private_env(own_dir)
        if not (Path(run_env["SERVICES_DIR"]) / "kafka" / "classpath.txt").exists():
            shutil.copytree(jvm_cache, run_env["SERVICES_DIR"], dirs_exist_ok=True)
        log = tmp_path / f"run-{len(runs)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "infra", "run", *args], cwd=REPO_ROOT, env=run_env, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        runs.append(InfraRun(proc, log, run_env))
        return runs[-1]

    yield start
    for run in runs:
        if run.proc.poll() is None:
            run.proc.send_signal(signal.SIGINT)
            try:
                run.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                run.proc.kill()
        clean_up(run.env, remove_cluster=run.env["SERVICES_DIR"] == str(own_dir))
