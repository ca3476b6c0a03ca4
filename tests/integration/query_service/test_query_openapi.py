"""The query API's committed OpenAPI document is what the code generates today; schema and docs are served."""

from __future__ import annotations

from pathlib import Path

from rest_framework.test import APIClient

from tests.openapi_checks import assert_committed_current, valid_schema_operations

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "query-api.yaml"


def test_the_committed_query_schema_is_current() -> None:
    assert_committed_current(SCHEMA_FILE)


def test_the_query_schema_is_valid_and_lists_every_read() -> None:
    schema, operations = valid_schema_operations()

    assert operations == {"post_search", "post_tag_facets", "post_comment_list", "author_list", "system_status"}
    assert all(path.startswith("/api/v1/") for path in schema["paths"])


def test_schema_and_docs_page_are_served() -> None:
    client = APIClient()

    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
