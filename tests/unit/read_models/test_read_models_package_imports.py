"""The read-model contract is pure Python: it imports the standard library, `events` and `runtime.settings` only.

Both the projector and the query service import it, so a client library or framework here would load into both
(and into anything else that reads the contract).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
PACKAGE = REPO_ROOT / "read_models"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
FORBIDDEN = {"django", "opensearchpy", "redis", "kafka", "channels", "projector", "query_service", "command_service"}


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, wherever the import statement stands."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            names.add(node.module or "")
    return names


def test_every_module_imports_only_the_standard_library_events_and_runtime_settings() -> None:
    for path in PACKAGE.glob("*.py"):
        for name in imported_modules(path):
            top = name.split(".")[0]
            allowed = top in sys.stdlib_module_names or top in {"events", "read_models"} or name == "runtime.settings"
            assert allowed, f"{path.name} imports {name}"


def test_importing_every_module_loads_no_client_library_framework_or_service() -> None:
    imports = "; ".join(f"import read_models.{name}" for name in MODULES)
    code = f"import json, sys; {imports}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    loaded = {name.split(".")[0] for name in json.loads(result.stdout)}
    assert loaded & FORBIDDEN == set()
    assert "read_models" in loaded
    assert len(MODULES) >= 7
