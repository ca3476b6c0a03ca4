"""Checks shared by the command and query APIs' OpenAPI tests (each runs under its own Django settings)."""

from __future__ import annotations

import difflib
from pathlib import Path

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer


def generate() -> tuple[dict, bytes]:
    """The schema of the current settings' API and its YAML, exactly as `manage.py spectacular` makes them."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema, OpenApiYamlRenderer().render(schema, renderer_context={})


def assert_committed_current(schema_file: Path, regenerate: str) -> None:
    """Fail with a diff excerpt when the committed YAML differs from what the code generates today."""
    _, generated = generate()
    committed = schema_file.read_bytes() if schema_file.exists() else b""
    if committed != generated:
        diff = difflib.unified_diff(
            committed.decode().splitlines(), generated.decode().splitlines(), "committed", "generated", lineterm=""
        )
        excerpt = "\n".join(list(diff)[:60])
        raise AssertionError(f"{schema_file.name} is out of date: regenerate it with `{regenerate}`\n{excerpt}")
