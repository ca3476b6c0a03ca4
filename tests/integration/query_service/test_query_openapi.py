"""The query API's committed OpenAPI document is what the code generates today; schema and docs are served."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rest_framework.test import APIClient

from events.consistency import ConsistencyToken
from query_service.api.reads import FRESHNESS_HEADERS
from tests.integration.query_service.conftest import Story
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


def _operation(schema: dict, operation_id: str) -> dict:
    [operation] = [op for path in schema["paths"].values() for op in path.values() if op["operationId"] == operation_id]
    return operation


def test_the_answer_headers_documented_are_the_ones_sent(story: Story, get: Callable[..., Any]) -> None:
    """A list read with a consistency token sends exactly the headers its 200 documents."""
    schema, _ = valid_schema_operations()
    [operation] = [
        op for path in schema["paths"].values() for op in path.values() if op["operationId"] == "post_search"
    ]
    documented = set(operation["responses"]["200"]["headers"])

    ada = story.register("ada")
    story.post(ada, "Documented headers")
    written = story.last_written()
    story.project()

    response = get("post-search", token=ConsistencyToken(written.aggregate_type, str(written.aggregate_id),
                                                          written.version).encode())  # fmt: skip

    assert response.status_code == 200, response.content
    assert documented <= set(response.headers), documented - set(response.headers)
    assert {"X-Consistency-Status", *FRESHNESS_HEADERS.values()} == documented
    assert response["X-Consistency-Status"] == "consistent"


def test_the_documented_error_answers_are_the_error_body(get: Callable[..., Any]) -> None:
    schema, _ = valid_schema_operations()
    [operation] = [
        op for path in schema["paths"].values() for op in path.values() if op["operationId"] == "post_search"
    ]
    assert {"400", "503"} <= set(operation["responses"])

    refused = get("post-search", {"page_size": "many"})

    assert refused.status_code == 400
    assert set(refused.json()) == set(schema["components"]["schemas"]["Error"]["properties"]) == {"message", "fields"}
