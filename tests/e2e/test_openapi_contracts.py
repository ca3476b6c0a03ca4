"""Both committed OpenAPI documents hold against the running services: schemathesis, every check and every phase
(examples, coverage, fuzzing, and the stateful one following the documents' links), over HTTP, with 0 failures.

schemathesis runs as its CLI (`st run`), the engine a developer runs by hand, with the settings and hooks in
tests/e2e/schemathesis.toml: bounded (examples per operation, stateful steps), derandomized and seeded, so that a
run is repeatable; its report is the assertion message.

The command API is a service of its own here, on a scratch PostgreSQL database, without rate limits and with a fast
password hasher (tests/e2e/contract_settings.py): schemathesis signs in and writes far beyond any limit. The query
API is the session's whole system, with a post, a comment and their author made searchable first.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.support import free_port, manage, process, scratch_database, wait_for_http
from command_service.config.limits import THROTTLE_RATES
from tests.e2e.conftest import REPO_ROOT, System, eventually

DOCS = REPO_ROOT / "docs" / "openapi"
CONFIG = Path(__file__).with_name("schemathesis.toml")
ST = Path(sys.executable).with_name("st")
ST_TIMEOUT = 240  # seconds: a run takes about 45 s for the command API and 15 s for the query API


def _env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    return {**env, "PYTHONPATH": str(REPO_ROOT), "LOG_LEVEL": "WARNING", **overrides}


def schemathesis(document: str, port: int, *extra: str) -> subprocess.CompletedProcess[str]:
    """`st run` of a committed document against 127.0.0.1:`port`, every check."""
    argv = [str(ST), "--config-file", str(CONFIG), "run", str(DOCS / document), "--url", f"http://127.0.0.1:{port}",
            "--checks", "all", *extra]  # fmt: skip
    return subprocess.run(
        argv, cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, timeout=ST_TIMEOUT, check=False
    )


def _report(run: subprocess.CompletedProcess[str]) -> str:
    return f"schemathesis exited {run.returncode}:\n{run.stdout[-12000:]}\n{run.stderr[-3000:]}"


@pytest.fixture(scope="module")
def command_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The command API alone (gunicorn, as `infra run` starts it), migrated, on a scratch database; yields its port."""
    run_id = uuid.uuid4().hex[:8]
    log = tmp_path_factory.mktemp("contracts") / "command.log"
    with scratch_database(f"contracts_{run_id}") as database_url:
        port = free_port()
        env = _env(
            DATABASE_URL=database_url,
            DJANGO_SETTINGS_MODULE="tests.e2e.contract_settings",
            PROJECTOR_INDEX_PREFIX=f"contracts-{run_id}-",
            **{variable: "off" for variable, _ in THROTTLE_RATES.values()},
        )
        manage(env, "migrate", "-v", "0")
        argv = [sys.executable, "-m", "gunicorn", "command_service.config.wsgi:application", "--bind",
                f"127.0.0.1:{port}", "--worker-class", "gthread", "--workers", "3", "--threads", "4",
                "--no-control-socket"]  # fmt: skip
        with process(argv, env, log):
            wait_for_http(port, "/health/", timeout=60)
            yield port


@pytest.fixture(scope="module")
def query_api(system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A second query service on the session system's read models, waiting for a consistency token only briefly:
    schemathesis sends tokens of versions never written, each of which waits the whole wait; yields its port."""
    port = free_port()
    env = {**system.env, "QUERY_CONSISTENCY_WAIT_SECONDS": "0.05"}
    argv = [sys.executable, "-m", "query_service.serve", "query_service.config.asgi:application", "--host", "127.0.0.1",
            "--port", str(port)]  # fmt: skip
    with process(argv, env, tmp_path_factory.mktemp("contracts") / "query.log"):
        wait_for_http(port, "/health/", timeout=60)
        yield port


def _post(port: int, path: str, body: dict[str, str]) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    answer = response.status, json.loads(response.read())
    conn.close()
    return answer


def _token(port: int, username: str) -> str:
    """A user registered and signed in through the command API on `port`; their token."""
    body = {"username": username, "password": "correct-horse-battery", "display_name": "Schema Thesis"}
    status, registered = _post(port, "/api/v1/users/", body)
    assert status == 201, registered
    status, login = _post(port, "/api/v1/auth/token/", {"username": username, "password": body["password"]})
    assert status == 200, login
    return login["token"]


def test_the_command_api_holds_to_its_document(command_api: int) -> None:
    token = _token(command_api, "contract_user")

    started = time.monotonic()
    # Signing out would revoke the token every other request is sent with.
    run = schemathesis("command-api.yaml", command_api, "-H", f"Authorization: Token {token}",
                       "--exclude-operation-id", "auth_logout")  # fmt: skip

    assert run.returncode == 0, _report(run)
    assert " passed" in run.stdout, _report(run)  # something was tested
    print(f"command API: schemathesis took {time.monotonic() - started:.1f} s\n{run.stdout.split('SUMMARY')[-1]}")


def test_the_query_api_holds_to_its_document(system: System, query_api: int) -> None:
    _, token = system.user("contract_reader", "Contract Reader")
    post = system.command("POST", "posts/", {"title": "Contracts", "content": "Held.", "tags": ["contracts"]}, token)
    published = system.command("POST", f"posts/{post.body['id']}/publish/", {}, token)
    comment = system.command("POST", f"posts/{post.body['id']}/comments/", {"body": "Checked."}, token)
    assert comment.status == 201, comment.body
    eventually(lambda: system.query("posts/", {"tag": "contracts"}, consistency=published.headers
                                    ["x-consistency-token"]).body["results"], timeout=30)  # fmt: skip

    started = time.monotonic()
    run = schemathesis("query-api.yaml", query_api)

    assert run.returncode == 0, _report(run)
    assert " passed" in run.stdout, _report(run)  # something was tested
    print(f"query API: schemathesis took {time.monotonic() - started:.1f} s\n{run.stdout.split('SUMMARY')[-1]}")
