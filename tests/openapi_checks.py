"""Checks shared by the command and query APIs' OpenAPI tests (each runs under its own Django settings)."""

from __future__ import annotations

import difflib
from pathlib import Path

from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.validation import validate_schema

REGENERATE = "make schemas"  # regenerates both committed OpenAPI documents


def generate() -> tuple[dict, bytes]:
    """The schema of the current settings' API and its YAML, exactly as `manage.py spectacular` makes them."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema, OpenApiYamlRenderer().render(schema, renderer_context={})


def valid_schema_operations() -> tuple[dict, set[str]]:
    """The generated schema, checked valid OpenAPI and free of generator warnings and errors, and its operation ids."""
    GENERATOR_STATS.reset()
    schema, _ = generate()
    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    return schema, {op["operationId"] for path in schema["paths"].values() for op in path.values()}


def assert_committed_current(schema_file: Path) -> None:
    """Fail with a diff excerpt when the committed YAML differs from what the code generates today."""
    _, generated = generate()
    committed = schema_file.read_bytes() if schema_file.exists() else b""
    if committed != generated:
        diff = difflib.unified_diff(
            committed.decode().splitlines(), generated.decode().splitlines(), "committed", "generated", lineterm=""
        )
        excerpt = "\n".join(list(diff)[:60])
        raise AssertionError(f"{schema_file.name} is out of date: regenerate it with `{REGENERATE}`\n{excerpt}")
