"""`make lint`'s pip-audit step: the probe decides to audit only when the vulnerability service really answers.

The probe is tried against a real HTTP server on loopback answering as PyPI would, as it does here (404), with a
wrong body, never, or not at all listening.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.audit import first_pin, fixable, probe, skipped, unfixable


@pytest.fixture
def pypi() -> Iterator[Callable[[int, object], str]]:
    """Starts a loopback server answering every GET with (status, JSON body); returns its base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(status: int, body: object) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/pypi"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_per_version_entry_with_a_vulnerabilities_list_means_the_audit_runs(pypi) -> None:
    base = pypi(200, {"info": {"name": "django"}, "vulnerabilities": []})
    assert probe("django", "6.1.3", base_url=base, timeout=5) is None


def test_a_404_as_this_machine_gets_means_skip_and_says_why(pypi) -> None:
    base = pypi(404, {"message": "Not Found"})
    reason = probe("django", "6.1.3", base_url=base, timeout=5)
    assert reason == f"{base}/django/6.1.3/json answered HTTP 404"


def test_an_answer_without_vulnerabilities_is_not_taken_for_the_service(pypi) -> None:
    base = pypi(200, {"info": {"name": "django"}})  # a mirror's trimmed entry
    assert "without a vulnerabilities list" in probe("django", "6.1.3", base_url=base, timeout=5)


def test_a_server_that_never_answers_is_given_up_on_after_the_timeout() -> None:
    with socket.socket() as listener:  # accepts connections (the backlog) and never sends a byte
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        base = f"http://127.0.0.1:{listener.getsockname()[1]}/pypi"
        reason = probe("django", "6.1.3", base_url=base, timeout=0.3)
    assert reason is not None
    assert reason.startswith(f"{base}/django/6.1.3/json ")


def test_nothing_listening_means_skip() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reason = probe("django", "6.1.3", base_url=f"http://127.0.0.1:{port}/pypi", timeout=5)
    assert reason is not None
    assert "failed" in reason


def test_the_probed_package_is_the_first_pinned_line_of_the_export() -> None:
    exported = (
        "asgiref==3.13.0 \\\n    --hash=sha256:00\n    # via\n    #   django\n"
        "django==6.1.3 ; python_version >= '3.12'\n"
    )
    assert first_pin(exported) == ("asgiref", "3.13.0")
    with pytest.raises(ValueError, match="pin no package"):
        first_pin("# nothing here\n")


def test_only_findings_with_a_fixed_version_fail_the_audit() -> None:
    report = {
        "dependencies": [
            {"name": "django", "version": "6.1.3", "vulns": [
                {"id": "PYSEC-1", "fix_versions": ["6.1.4"]},
                {"id": "GHSA-2", "fix_versions": []},
            ]},
            {"name": "redis", "version": "6.0.0", "vulns": []},
        ],
        "fixes": [],
    }  # fmt: skip
    assert fixable(report) == ["django 6.1.3: PYSEC-1 (fixed in 6.1.4)"]
    assert unfixable(report) == ["django 6.1.3: GHSA-2 (no fixed version yet)"]
    assert fixable({"dependencies": [{"name": "redis", "version": "6.0.0", "vulns": []}]}) == []


def test_a_skip_passes_the_lint_unless_the_audit_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert skipped("https://pypi.org/pypi/x/1/json answered HTTP 404", required=False) == 0
    assert "!!! pip-audit SKIPPED" in capsys.readouterr().err

    assert skipped("https://pypi.org/pypi/x/1/json answered HTTP 404", required=True) == 1
    said = capsys.readouterr().err
    assert "!!! pip-audit FAILED (AUDIT_REQUIRED=1)" in said
    assert "answered HTTP 404" in said
    assert "no dependency was audited" in said
