"""`domain/` and `services/` stay pure Python: neither their source nor importing them brings in Django or DRF."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
PURE_PACKAGES = ("command_service/domain", "command_service/services")
FORBIDDEN = ("django", "rest_framework")
PURE_FILES = sorted(path for package in PURE_PACKAGES for path in (REPO_ROOT / package).glob("*.py"))


def forbidden_imports(source: str) -> list[str]:
    """The modules named by `import` and `from ... import` anywhere in `source` whose top package is forbidden."""
    named: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            named.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            named.append(node.module)
    return [name for name in named if name.partition(".")[0] in FORBIDDEN]


def frameworks_loaded_by(module: str) -> list[str]:
    """Which forbidden top packages are in `sys.modules` after importing `module` in a fresh interpreter."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    probe = (
        f"import importlib, sys; importlib.import_module({module!r}); "
        f"print(*sorted(set(sys.modules) & {set(FORBIDDEN)!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_pure_packages_have_modules() -> None:
    assert {path.parent.name for path in PURE_FILES} == {"domain", "services"}
    assert len(PURE_FILES) >= 10


@pytest.mark.parametrize("path", PURE_FILES, ids=module_name)
def test_source_imports_no_framework(path: Path) -> None:
    assert forbidden_imports(path.read_text()) == []


@pytest.mark.parametrize("path", PURE_FILES, ids=module_name)
def test_importing_loads_no_framework(path: Path) -> None:
    assert frameworks_loaded_by(module_name(path)) == []


# The checkers themselves can fail.


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import django", ["django"]),
        ("import os, django.db as db", ["django.db"]),
        ("from django.db import models", ["django.db"]),
        ("from rest_framework import serializers", ["rest_framework"]),
        ("def f():\n    from django.conf import settings\n", ["django.conf"]),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import rest_framework.views\n",
            ["rest_framework.views"],
        ),
        ("import djangoish\nfrom . import django\nfrom events import django_like", []),
    ],
)
def test_forbidden_imports_finds_framework_imports(source: str, found: list[str]) -> None:
    assert forbidden_imports(source) == found


def test_frameworks_loaded_by_sees_django() -> None:
    assert frameworks_loaded_by("django.utils.functional") == ["django"]
