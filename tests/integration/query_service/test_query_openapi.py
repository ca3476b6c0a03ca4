"""The query API's committed OpenAPI document is what the code generates today; schema and docs are served."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
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


def _json_schema(node: Any, components: dict[str, Any]) -> Any:
    """An OpenAPI 3.0 schema as plain JSON Schema: `$ref`s resolved, `nullable` as a "null" type."""
    if isinstance(node, list):
        return [_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _json_schema(components[node["$ref"].rsplit("/", 1)[1]], components)
    out = {key: _json_schema(value, components) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {**out, "type": [node["type"], "null"]} if "type" in node else {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.mark.parametrize(
    ("operation_id", "route", "params"),
    [
        ("post_search", "post-search", {"q": "pelicans"}),
        ("post_search", "post-search", {"tag": "birds"}),
        ("post_comment_list", "post-comment-list", {}),
        ("author_list", "author-list", {}),
    ],
)
def test_every_listed_document_is_what_its_typed_schema_says(
    story: Story, get: Callable[..., Any], operation_id: str, route: str, params: dict[str, str]
) -> None:
    """Real answers validated against the committed document: a field the schema lacks, or of another type, fails."""
    schema = yaml.safe_load(SCHEMA_FILE.read_text())
    components = schema["components"]["schemas"]
    page = _json_schema(_operation(schema, operation_id)["responses"]["200"]["content"]["application/json"]["schema"],
                        components)  # fmt: skip
    ada, bob = story.register("ada", "Ada L."), story.register("bob")
    post_id = story.post(ada, "Pelicans at dawn", "Long-billed birds.", ("birds", "coast"))
    story.comment(post_id, bob, "Lovely.")
    story.project()
    kwargs = {"post_id": post_id} if route == "post-comment-list" else None

    answer = get(route, params, kwargs=kwargs).json()

    assert answer["results"], answer
    jsonschema.validate(answer, page)
    assert set(answer["results"][0]) <= set(page["properties"]["results"]["items"]["properties"])


@pytest.mark.parametrize(
    ("route", "name"),
    [("post-search", "page_size"), ("post-search", "cursor"), ("post-search", "author"),
     ("post-tag-facets", "published_after"), ("author-list", "cursor")],
)  # fmt: skip
def test_an_empty_parameter_is_refused_as_the_document_says(get: Callable[..., Any], route: str, name: str) -> None:
    """DRF would read `?page_size=` as no page size; the document says a page size is a number, so it is refused."""
    refused = get(route, {name: ""})

    assert refused.status_code == 400, refused.content
    assert refused.json()["fields"] == {name: ["must not be empty (leave the parameter out)"]}


@pytest.mark.parametrize("route", ["post-search", "post-tag-facets", "author-list"])
def test_an_empty_search_text_is_no_text_and_nul_is_refused(story: Story, get: Callable[..., Any], route: str) -> None:
    story.post(story.register("ada"), "Searchable")
    story.project()
    from django.urls import reverse

    operation = yaml.safe_load(SCHEMA_FILE.read_text())["paths"][reverse(f"api:{route}")]["get"]
    [q] = [p["schema"] for p in operation["parameters"] if p["name"] == "q"]

    assert get(route, {"q": ""}).status_code == 200
    assert {"type": "string", "maxLength": 0} in q["oneOf"]  # the document allows it too
    refused = get(route, {"q": "a\x00b"})
    assert refused.status_code == 400
    assert not re.search(q["oneOf"][0]["pattern"], "a\x00b")  # as the document says
