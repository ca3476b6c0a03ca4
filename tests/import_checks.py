"""How the layering tests see imports: read from the source with `ast`, or loaded in a fresh interpreter.

One reader for every rule about who may import what (the import graph, pure packages, the read side's contract).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def module_name(path: Path) -> str:
    """`a/b/c.py` -> `a.b.c`; a package's `__init__.py` is the package itself."""
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_imports(source: str, package: str = "") -> Iterator[str]:
    """The absolute module names an import statement of `source` names, wherever it stands (in a function, under
    TYPE_CHECKING); relative imports resolve against `package`.

    For `from a import b` both `a` and `a.b` are given, since `b` may be a module.
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                anchor = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def file_imports(path: Path) -> set[str]:
    """`source_imports` of one file of the repository."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return set(source_imports(path.read_text(), package))


def loaded_modules(code: str, env: dict[str, str] | None = None) -> list[str]:
    """Every module in `sys.modules` after running `code` in a fresh interpreter at the repository root.

    Args:
        code: Python statements to run first.
        env: variables to set on top of this process's environment; DJANGO_SETTINGS_MODULE is dropped unless given.
    """
    full_env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    full_env.update(env or {})
    probe = f"{code}\nimport json as _json, sys as _sys\nprint(_json.dumps(sorted(_sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def top_packages(modules: list[str] | set[str]) -> set[str]:
    """The top-level packages of module names."""
    return {name.partition(".")[0] for name in modules}
