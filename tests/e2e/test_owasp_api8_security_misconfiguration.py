"""OWASP API8:2023, security misconfiguration, probed over HTTP on both services.

In the production profile (`DJANGO_ENV=production`, each service started once for the module on a free loopback
port, as a TLS-terminating proxy would reach it): the security headers and secure cookies are there, plain HTTP is
redirected, error pages leak no traceback or settings, the admin and the docs are not served to anonymous callers,
and the status API is a summary unless the operator's token is sent. In development (the session's `infra run`
system) the defaults answer as the README says: docs public, the full status, no HTTPS rules.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.support import free_port, process, wait_for_http
from tests.e2e.conftest import REPO_ROOT, System

SECRET_KEY = "owasp-api8-" + uuid.uuid4().hex + uuid.uuid4().hex
STATUS_TOKEN = "operator-" + uuid.uuid4().hex
HTTPS = {"X-Forwarded-Proto": "https"}  # what the TLS-terminating proxy in front adds
LEAKS = ("Traceback", "DEBUG", "SECRET_KEY", "Using the URLconf", "settings.py", "django.", "Exception Value")
SECURITY_HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains; preload",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


@dataclass(frozen=True)
class Reply:
    """One HTTP response, its body as text."""

    status: int
    headers: http.client.HTTPMessage
    text: str

    def json(self) -> object:
        return json.loads(self.text)


def fetch(port: int, path: str, *, method: str = "GET", body: str | None = None, **headers: str) -> Reply:
    """One request to a loopback service; header names given with `_` for `-`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={name.replace("_", "-"): v for name, v in headers.items()})
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read().decode(errors="replace"))
    finally:
        conn.close()


def production_env(**extra: str) -> dict[str, str]:
    """This environment, less any profile setting of the caller's, in the production profile."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "QUERY_"))}
    env.update(
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env


@pytest.fixture(scope="module")
def command_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The command service under gunicorn in production, on a migrated SQLite file of its own."""
    folder = tmp_path_factory.mktemp("api8-command")
    env = production_env(DJANGO_ALLOWED_HOSTS="127.0.0.1", DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}")
    migrated = subprocess.run([sys.executable, "-m", "command_service", "migrate", "--noinput"], cwd=REPO_ROOT,
                              env=env, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "command_service.config.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--worker-class", "gthread", "--workers", "1", "--threads", "4", "--no-control-socket"]  # fmt: skip
    yield from _serve(argv, env, port, folder / "command.log")


@pytest.fixture(scope="module")
def query_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The query service under uvicorn in production, in a namespace of its own (nothing is created there)."""
    folder = tmp_path_factory.mktemp("api8-query")
    run = uuid.uuid4().hex[:8]
    env = production_env(
        QUERY_ALLOWED_HOSTS="127.0.0.1",
        QUERY_STATUS_TOKEN=STATUS_TOKEN,
        PROJECTOR_INDEX_PREFIX=f"api8-{run}-",
        PROJECTOR_GROUP=f"api8-{run}",
        QUERY_CHANNEL_PREFIX=f"api8-{run}",
    )
    port = free_port()
    argv = [sys.executable, "-m", "query_service.serve", "query_service.config.asgi:application", "--host",
            "127.0.0.1", "--port", str(port)]  # fmt: skip
    yield from _serve(argv, env, port, folder / "query.log")


def _serve(argv: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[int]:
    with process(argv, env, log) as proc:
        try:
            wait_for_http(port, "/health/", timeout=60)  # /health/ is exempt from the HTTPS redirect
        except RuntimeError:
            raise AssertionError(f"exit {proc.poll()}:\n{log.read_text()[-3000:]}") from None
        yield port


def _no_leak(reply: Reply) -> None:
    for marker in LEAKS:
        assert marker not in reply.text, (marker, reply.text[:2000])


@pytest.mark.parametrize("service", ["command", "query"])
def test_production_responses_carry_the_security_headers(service: str, request: pytest.FixtureRequest) -> None:
    port = request.getfixturevalue(f"{service}_port")
    reply = fetch(port, "/api/v1/posts/", **HTTPS)
    for name, value in SECURITY_HEADERS.items():
        assert reply.headers[name] == value, (name, dict(reply.headers))


@pytest.mark.parametrize("service", ["command", "query"])
def test_plain_http_is_redirected_to_https_except_the_liveness_probe(
    service: str, request: pytest.FixtureRequest
) -> None:
    port = request.getfixturevalue(f"{service}_port")
    plain = fetch(port, "/api/v1/posts/?page_size=1")
    assert plain.status == 301
    assert plain.headers["Location"] == f"https://127.0.0.1:{port}/api/v1/posts/?page_size=1"
    assert fetch(port, "/health/").status == 200


@pytest.mark.parametrize("service", ["command", "query"])
def test_error_pages_leak_no_traceback_nor_settings(service: str, request: pytest.FixtureRequest) -> None:
    port = request.getfixturevalue(f"{service}_port")
    unknown = fetch(port, "/no/such/page/", **HTTPS)
    wrong_host = fetch(port, "/api/v1/posts/", Host="attacker.example", **HTTPS)
    assert unknown.status == 404
    assert wrong_host.status == 400
    _no_leak(unknown)
    _no_leak(wrong_host)


def test_bad_input_is_a_4xx_with_the_error_body_and_nothing_more(command_port: int, query_port: int) -> None:
    json_body = {"method": "POST", "Content_Type": "application/json"}
    broken_json = fetch(command_port, "/api/v1/users/", body='{"username": ', **json_body, **HTTPS)
    bad_parameter = fetch(query_port, "/api/v1/posts/?page_size=lots", **HTTPS)
    for reply in (broken_json, bad_parameter):
        assert reply.status == 400, reply.text
        assert set(reply.json()) == {"message", "fields"}
        _no_leak(reply)


def test_the_admin_and_the_command_docs_are_not_served_to_anonymous_callers(command_port: int) -> None:
    admin = fetch(command_port, "/admin/", **HTTPS)
    schema = fetch(command_port, "/api/schema/", Accept="application/json", **HTTPS)
    docs = fetch(command_port, "/api/docs/", **HTTPS)
    assert admin.status == 302
    assert admin.headers["Location"].startswith("/admin/login/")
    assert (schema.status, docs.status) == (401, 401)
    assert set(schema.json()) == {"message", "fields"}
    assert "openapi" not in schema.text
    assert "swagger" not in docs.text.lower()


def test_the_admin_sign_in_page_sets_secure_http_only_cookies(command_port: int) -> None:
    login = fetch(command_port, "/admin/login/", **HTTPS)
    assert login.status == 200
    cookies = login.headers.get_all("Set-Cookie") or []
    csrf = next(cookie for cookie in cookies if cookie.startswith("csrftoken="))
    assert "Secure" in csrf
    assert "HttpOnly" in csrf
    assert "SameSite=Lax" in csrf


def test_the_query_docs_are_off_in_production(query_port: int) -> None:
    assert fetch(query_port, "/api/docs/", **HTTPS).status == 404
    assert fetch(query_port, "/api/schema/", **HTTPS).status == 404


def test_the_status_is_a_summary_for_anonymous_callers_and_whole_for_the_operator(query_port: int) -> None:
    anonymous = fetch(query_port, "/api/v1/status/", **HTTPS)
    operator = fetch(query_port, "/api/v1/status/", Authorization=f"Bearer {STATUS_TOKEN}", **HTTPS)
    wrong = fetch(query_port, "/api/v1/status/", Authorization="Bearer guessed", **HTTPS)

    summary = anonymous.json()
    assert anonymous.status == 200
    assert set(summary) == {"detail", "services", "read_models", "dead_letters"}
    assert summary["detail"] == "summary"
    services = summary["services"]
    assert all(set(service) == {"ok"} for name, service in services.items() if name != "command_database")
    assert set(services["command_database"]) == {"ok", "engine"}  # a product name ("PostgreSQL"), never a host
    assert services["command_database"]["engine"] in {"PostgreSQL", "SQLite", None}
    assert "api8-" not in anonymous.text  # no alias, topic, group or process name
    assert operator.status == 200
    assert operator.json()["detail"] == "full"
    assert "processes" in operator.json()
    assert wrong.status == 403
    assert set(wrong.json()) == {"message", "fields"}


def test_development_serves_docs_and_the_full_status_to_anyone(system: System) -> None:
    for port in (system.command_port, system.query_port):
        docs = fetch(port, "/api/docs/")  # over plain HTTP: no redirect, no HSTS on a development machine
        assert docs.status == 200
        assert "swagger" in docs.text.lower()
        assert "strict-transport-security" not in docs.headers
        assert docs.headers["x-frame-options"] == "DENY"
        assert fetch(port, "/api/schema/").status == 200
    status = fetch(system.query_port, "/api/v1/status/").json()
    assert status["detail"] == "full"
    assert "processes" in status
