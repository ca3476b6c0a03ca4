"""`domain/` and `services/` stay pure Python: neither their source nor importing them brings in Django or DRF."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.import_checks import REPO_ROOT, loaded_modules, module_name, source_imports, top_packages

PURE_PACKAGES = ("command_service/domain", "command_service/services")
FORBIDDEN = ("django", "rest_framework")
PURE_FILES = sorted(path for package in PURE_PACKAGES for path in (REPO_ROOT / package).glob("*.py"))


def forbidden_imports(source: str) -> list[str]:
    """The modules named by `import` and `from ... import` anywhere in `source` whose top package is forbidden."""
    return sorted({name for name in source_imports(source) if name.partition(".")[0] in FORBIDDEN})


def frameworks_loaded_by(module: str) -> list[str]:
    """Which forbidden top packages are in `sys.modules` after importing `module` in a fresh interpreter."""
    return sorted(top_packages(loaded_modules(f"import {module}")) & set(FORBIDDEN))


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
        ("from django.db import models", ["django.db", "django.db.models"]),
        ("from rest_framework import serializers", ["rest_framework", "rest_framework.serializers"]),
        ("def f():\n    from django.conf import settings\n", ["django.conf", "django.conf.settings"]),
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
