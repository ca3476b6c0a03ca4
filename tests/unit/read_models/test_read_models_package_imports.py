"""The read-model contract is pure Python: it imports the standard library, `events` and `runtime.settings` only.

Both the projector and the query service import it, so a client library or framework here would load into both
(and into anything else that reads the contract).
"""

from __future__ import annotations

import sys

from tests.import_checks import REPO_ROOT, file_imports, loaded_modules, top_packages

PACKAGE = REPO_ROOT / "read_models"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
FORBIDDEN = {"django", "opensearchpy", "redis", "kafka", "channels", "projector", "query_service", "command_service"}


def test_every_module_imports_only_the_standard_library_events_and_runtime_settings() -> None:
    for path in PACKAGE.glob("*.py"):
        for name in file_imports(path):
            top = name.split(".")[0]
            allowed = top in sys.stdlib_module_names or top in {"events", "read_models"} or name == "runtime.settings"
            allowed = allowed or name.startswith("runtime.settings.")  # `from runtime.settings import x`
            assert allowed, f"{path.name} imports {name}"


def test_importing_every_module_loads_no_client_library_framework_or_service() -> None:
    loaded = top_packages(loaded_modules("; ".join(f"import read_models.{name}" for name in MODULES)))
    assert loaded & FORBIDDEN == set()
    assert "read_models" in loaded
    assert len(MODULES) >= 7
