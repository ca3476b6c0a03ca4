"""The query API's committed OpenAPI document is what the code generates today; schema and docs are served."""

from __future__ import annotations

import difflib
from pathlib import Path

from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "query-api.yaml"
REGENERATE = "make schemas"


def _generate() -> tuple[dict, bytes]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema, OpenApiYamlRenderer().render(schema, renderer_context={})


def test_the_committed_query_schema_is_current() -> None:
    _, generated = _generate()
    committed = SCHEMA_FILE.read_bytes() if SCHEMA_FILE.exists() else b""

    if committed != generated:
        diff = difflib.unified_diff(
            committed.decode().splitlines(), generated.decode().splitlines(), "committed", "generated", lineterm=""
        )
        raise AssertionError(f"{SCHEMA_FILE.name} is out of date: `{REGENERATE}`\n" + "\n".join(list(diff)[:60]))


def test_the_query_schema_is_valid_and_lists_every_read() -> None:
    GENERATOR_STATS.reset()

    schema, _ = _generate()

    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert operations == {"post_search", "post_tag_facets", "post_comment_list", "author_list", "system_status"}
    assert all(path.startswith("/api/v1/") for path in schema["paths"])


def test_schema_and_docs_page_are_served() -> None:
    client = APIClient()

    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
