"""The contract is pure Python: no Django (nor a Kafka client) on import, and it does not break opensearch-py."""

from __future__ import annotations

import subprocess
import sys

from tests.import_checks import REPO_ROOT, file_imports, loaded_modules, top_packages

MODULES = sorted(p.stem for p in (REPO_ROOT / "events").glob("*.py") if p.stem != "__init__")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False)


def test_no_module_of_the_package_imports_django_anywhere_in_its_code() -> None:
    for path in (REPO_ROOT / "events").glob("*.py"):
        assert "django" not in top_packages(file_imports(path)), f"{path.name} imports Django"


def test_importing_every_module_loads_neither_django_nor_kafka() -> None:
    loaded = top_packages(loaded_modules("; ".join(f"import events.{name}" for name in MODULES)))
    assert loaded & {"django", "kafka"} == set()
    assert "events" in loaded
    assert len(MODULES) >= 10


def test_opensearch_py_still_imports_with_this_package_first_on_the_path() -> None:
    code = (
        "import opensearchpy, events; from opensearchpy.metrics import MetricsEvents; print(events.decode.__module__)"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "events.envelope"
