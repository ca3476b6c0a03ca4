"""The query service depends on the read-model contract (`read_models`), never on the projector's code.

Checked twice: the whole ASGI application (HTTP views, WebSocket consumer) and the fan-out command are loaded in a
fresh interpreter and no projector module may come with them; and no module of the query service names the
projector in any import statement, even one inside a function that start-up never runs.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
LOAD_THE_APPLICATION = """
import json, sys
import query_service.config.asgi
from django.urls import get_resolver
get_resolver().url_patterns  # the URLconf, and through it every view, loads on the first request: load it now
import query_service.management.commands.stream_fanout
print(json.dumps(sorted(sys.modules)))
"""


def test_the_asgi_application_and_the_fan_out_load_no_projector_module() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "query_service.config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", LOAD_THE_APPLICATION],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert {"query_service.api.views", "query_service.stream.consumers", "query_service.stream.fanout"} <= set(loaded)
    assert "read_models.notices" in loaded
    assert [name for name in loaded if name.split(".")[0] in ("projector", "command_service")] == []


def test_no_module_of_the_query_service_imports_the_projector() -> None:
    for path in (REPO_ROOT / "query_service").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not [n for n in names if n.split(".")[0] == "projector"], f"{path} imports the projector"
