"""Both Django services under `DJANGO_ENV=production`, each in a fresh interpreter as it would start.

`check --deploy` is clean; each unsafe setting stops the service at start-up with an error naming the variable;
a response carries the security headers. The processes of a test run side by side, so the module stays fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.deployment import DEV_SECRET_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("command_service", "query_service")
STRONG_KEY = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP"
HOSTS = {"DJANGO_ALLOWED_HOSTS": "api.example.com,testserver", "QUERY_ALLOWED_HOSTS": "query.example.com,testserver"}
HOSTS_VAR = {"command_service": "DJANGO_ALLOWED_HOSTS", "query_service": "QUERY_ALLOWED_HOSTS"}
# Run in the service's own settings: a GET over HTTPS (as the TLS proxy would forward it), its headers as JSON.
HEADERS_PROBE = """
import django, json
django.setup()
from django.test import Client
response = Client().get("/health/", secure=True)
print(json.dumps({"status": response.status_code, **{k.lower(): v for k, v in response.headers.items()}}))
"""

# Run in the query service's settings: the status of its docs and its schema (a 404 when they are not routed).
DOCS_PROBE = """
import django, json
django.setup()
from django.test import Client
client = Client()
print(json.dumps([client.get(path, secure=True).status_code for path in ("/api/docs/", "/api/schema/")]))
"""


def production_env(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    """A production environment that passes every rule, with `changes` (None removes a variable)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "QUERY_"))}
    env.update(DJANGO_ENV="production", DJANGO_SECRET_KEY=STRONG_KEY, SERVICES_DIR=str(tmp_path), **HOSTS)
    env.pop("DATABASE_URL", None)  # the checks open no connection; the SQLite default needs no server
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_all(commands: list[tuple[list[str], dict[str, str]]]) -> list[subprocess.CompletedProcess[str]]:
    """Run every (argv, env) at once in the repository root; their results in order."""
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    started = [(argv, subprocess.Popen(argv, cwd=REPO_ROOT, env=env, **pipes)) for argv, env in commands]
    results = []
    for argv, proc in started:
        out, err = proc.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    return results


def test_check_deploy_prints_no_warning_for_either_service(tmp_path: Path) -> None:
    results = run_all([([sys.executable, "-m", service, "check", "--deploy"], production_env(tmp_path))
                       for service in SERVICES])  # fmt: skip
    for result in results:
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "WARNINGS" not in output
        assert not [line for line in output.splitlines() if line.startswith("?:")], output
        assert "System check identified no issues" in output


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"DJANGO_DEBUG": "1"}, "DJANGO_DEBUG"),
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": DEV_SECRET_KEY}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "short-but-secret"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_ALLOWED_HOSTS": "", "QUERY_ALLOWED_HOSTS": ""}, "hosts"),
    ],
    ids=["debug-on", "no-key", "dev-key", "short-key", "no-hosts"],
)
def test_an_unsafe_setting_stops_each_service_naming_the_variable(
    tmp_path: Path, change: dict[str, str | None], named: str
) -> None:
    results = run_all([([sys.executable, "-m", service, "check"], production_env(tmp_path, **change))
                       for service in SERVICES])  # fmt: skip
    for service, result in zip(SERVICES, results, strict=True):
        variable = HOSTS_VAR[service] if named == "hosts" else named
        assert result.returncode != 0, result.stdout
        assert result.stderr.strip().splitlines()[-1].startswith(f"error: {variable}"), result.stderr
        assert "Traceback" not in result.stderr


def test_a_response_in_production_carries_the_security_headers(tmp_path: Path) -> None:
    results = run_all([
        ([sys.executable, "-c", HEADERS_PROBE], {**production_env(tmp_path), "DJANGO_SETTINGS_MODULE": settings})
        for settings in ("command_service.config.settings", "query_service.config.settings")
    ])  # fmt: skip
    for result in results:
        assert result.returncode == 0, result.stderr
        headers = json.loads(result.stdout.splitlines()[-1])
        assert headers["status"] == 200
        assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cross-origin-opener-policy"] == "same-origin"


def test_a_short_status_token_stops_the_query_service_naming_it(tmp_path: Path) -> None:
    [result] = run_all([([sys.executable, "-m", "query_service", "check"],
                         production_env(tmp_path, QUERY_STATUS_TOKEN="guessable"))])  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("error: QUERY_STATUS_TOKEN is too short"), result.stderr


def test_the_query_docs_are_off_in_production_unless_query_api_docs_turns_them_on(tmp_path: Path) -> None:
    query = {"DJANGO_SETTINGS_MODULE": "query_service.config.settings"}
    results = run_all([
        ([sys.executable, "-c", DOCS_PROBE], {**production_env(tmp_path, **changes), **query})
        for changes in ({}, {"QUERY_API_DOCS": "1"}, {"QUERY_API_DOCS": "0"})
    ])  # fmt: skip
    for result in results:
        assert result.returncode == 0, result.stderr
    by_default, turned_on, turned_off = (json.loads(result.stdout.splitlines()[-1]) for result in results)
    assert by_default == [404, 404]
    assert turned_on == [200, 200]
    assert turned_off == [404, 404]
