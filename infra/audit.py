"""`python -m infra.audit`: pip-audit over the locked dependencies (`make lint`), when its service can answer.

pip-audit asks PyPI's per-version JSON API for each package's known vulnerabilities. Where that API does not answer
(a network without it, or a mirror that lacks it), pip-audit would call every package "not found" and prove
nothing; so one locked package's entry is probed first, for a few seconds at most, and when it does not answer the
audit is skipped with one loud line instead of failing the lint. When it answers, the audit runs with `--strict`
and fails on a vulnerability that has a fixed version (one without a fix is printed, since no upgrade can help).

`AUDIT_REQUIRED=1` turns the skip into a failure: set it in a CI whose network reaches PyPI, so that an audit that
could not run is never taken for one that passed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from typing import Any

from runtime.settings import REPO_ROOT, env_flag

PYPI_JSON = "https://pypi.org/pypi"
PROBE_TIMEOUT = 3.0  # seconds for the whole probe, name resolution included
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def locked_requirements() -> str:
    """Every locked package, pinned with hashes: `uv export --frozen --format requirements-txt`."""
    uv = os.environ.get("UV", "uv")  # `uv run` names itself in UV
    argv = [uv, "export", "--frozen", "--format", "requirements-txt", "--no-header", "--quiet"]
    return subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout


def first_pin(requirements: str) -> tuple[str, str]:
    """The (name, version) of the first `name==version` line of a requirements file.

    Raises:
        ValueError: the file pins nothing.
    """
    found = _PIN.search(requirements)
    if not found:
        raise ValueError("the exported requirements pin no package")
    return found.group(1), found.group(2)


def probe(name: str, version: str, *, base_url: str = PYPI_JSON, timeout: float = PROBE_TIMEOUT) -> str | None:
    """Why the vulnerability service cannot answer for `name==version`, or None when it can.

    The service answers when `{base_url}/{name}/{version}/json` is a JSON object with a `vulnerabilities` list.
    The request runs in a daemon thread so that even a hung name resolution gives up after `timeout`.
    """
    url = f"{base_url}/{name}/{version}/json"
    outcome: list[str | None] = []

    def fetch() -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # nosec B310
                body = json.loads(response.read())
        except urllib.error.HTTPError as error:
            outcome.append(f"{url} answered HTTP {error.code}")
        except (OSError, ValueError) as error:
            outcome.append(f"{url} failed: {error}")
        else:
            ok = isinstance(body, dict) and isinstance(body.get("vulnerabilities"), list)
            outcome.append(None if ok else f"{url} answered without a vulnerabilities list")

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else f"{url} did not answer within {timeout:g} s"


def fixable(report: dict[str, Any]) -> list[str]:
    """The findings of a pip-audit JSON report that have a fixed version, one line each."""
    return [
        f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {', '.join(vuln['fix_versions'])})"
        for dep in report.get("dependencies", [])
        for vuln in dep.get("vulns", [])
        if vuln.get("fix_versions")
    ]


def unfixable(report: dict[str, Any]) -> list[str]:
    """The findings of a pip-audit JSON report that no released version fixes yet, one line each."""
    return [
        f"{dep['name']} {dep['version']}: {vuln['id']} (no fixed version yet)"
        for dep in report.get("dependencies", [])
        for vuln in dep.get("vulns", [])
        if not vuln.get("fix_versions")
    ]


def audit(requirements: str) -> int:
    """Run pip-audit --strict on pinned, hashed requirements; 1 on a fixable finding or a failed audit."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="locked-") as file:
        file.write(requirements)
        file.flush()
        # Every line is pinned and hashed, so pip-audit needs neither pip nor a resolver (--disable-pip).
        argv = [sys.executable, "-m", "pip_audit", "--strict", "--require-hashes", "--disable-pip",
                "--progress-spinner", "off", "--format", "json", "-r", file.name]  # fmt: skip
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        print(f"pip-audit failed (exit {result.returncode}):\n{result.stderr.strip()}", file=sys.stderr)
        return 1
    for line in unfixable(report):
        print(f"pip-audit: {line}", file=sys.stderr)
    findings = fixable(report)
    for line in findings:
        print(f"pip-audit: {line}", file=sys.stderr)
    audited = len(report.get("dependencies", []))
    print(f"pip-audit: {audited} locked packages audited, {len(findings)} known vulnerabilities with a fix")
    return 1 if findings else 0


def skipped(reason: str, *, required: bool) -> int:
    """Say loudly that no dependency was audited and why; the lint's exit code: 1 when the audit is required."""
    verdict = "FAILED (AUDIT_REQUIRED=1)" if required else "SKIPPED"
    print(f"!!! pip-audit {verdict}: its vulnerability service cannot answer here ({reason}); "
          "no dependency was audited", file=sys.stderr)  # fmt: skip
    return 1 if required else 0


def main() -> int:
    """Probe the service, then audit or say loudly why not."""
    required = env_flag("AUDIT_REQUIRED", False)
    requirements = locked_requirements()
    name, version = first_pin(requirements)
    reason = probe(name, version)
    if reason is not None:
        return skipped(reason, required=required)
    return audit(requirements)


if __name__ == "__main__":
    sys.exit(main())
