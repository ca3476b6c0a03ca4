"""The committed OpenAPI document is what the code generates today; the schema and Swagger UI are served."""

from __future__ import annotations

from pathlib import Path

from django.urls import reverse
from rest_framework.test import APIClient

from tests.api.helpers import Account
from tests.openapi_checks import assert_committed_current, valid_schema_operations

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi" / "command-api.yaml"


def test_the_committed_schema_is_current() -> None:
    assert_committed_current(SCHEMA_FILE)


def test_the_schema_is_valid_openapi_and_generates_without_warnings() -> None:
    _, operations = valid_schema_operations()

    assert operations == {
        "auth_token_obtain", "auth_logout", "auth_password_change",
        "user_register", "user_detail", "user_profile_change", "user_erase",
        "post_create", "post_detail", "post_edit", "post_delete", "post_tags_set",
        "post_publish", "post_unpublish", "post_archive",
        "comment_add", "comment_detail", "comment_edit", "comment_delete",
    }  # fmt: skip


def test_the_schema_endpoint_serves_it(anon: APIClient) -> None:
    response = anon.get(reverse("schema"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.startswith(b"openapi: 3.")


def test_swagger_ui_is_served(anon: APIClient) -> None:
    response = anon.get(reverse("swagger-ui"))

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert reverse("schema").encode() in response.content


SUCCESS_HEADERS = {"ETag", "X-Consistency-Token", "Location", "Idempotent-Replayed"}


def _documented_headers(schema: dict, operation_id: str, status: int) -> set[str]:
    [operation] = [op for path in schema["paths"].values() for op in path.values() if op["operationId"] == operation_id]
    return set(operation["responses"][str(status)].get("headers", {}))


def test_the_response_headers_documented_are_the_ones_sent(alice: Account) -> None:
    """On a success, the document names exactly the headers the real answer carries (each write's replay too)."""
    schema, _ = valid_schema_operations()
    client = alice.client
    body = {"title": "Documented", "content": "Headers.", "tags": []}
    created = client.post(reverse("api:post-create"), body, format="json", HTTP_IDEMPOTENCY_KEY="doc-1")
    replayed = client.post(reverse("api:post-create"), body, format="json", HTTP_IDEMPOTENCY_KEY="doc-1")
    post = reverse("api:post-detail", kwargs={"post_id": created.json()["id"]})
    publish = reverse("api:post-publish", kwargs={"post_id": created.json()["id"]})
    client.post(publish, HTTP_IDEMPOTENCY_KEY="doc-2")
    answers = {
        ("post_create", 201): replayed,
        ("post_publish", 200): client.post(publish, HTTP_IDEMPOTENCY_KEY="doc-2"),
        ("post_edit", 200): client.patch(post, {"title": "Edited"}, format="json"),
        ("post_detail", 200): client.get(post),
        ("user_profile_change", 200): client.patch(
            reverse("api:user-detail", kwargs={"user_id": alice.id}), {"bio": "b"}, format="json"
        ),
        ("post_delete", 204): client.delete(post),
    }

    for (operation_id, status), response in answers.items():
        assert response.status_code == status, (operation_id, response.content)
        sent = SUCCESS_HEADERS & set(response.headers)
        assert _documented_headers(schema, operation_id, status) == sent, operation_id


def test_every_write_documents_413_and_every_body_415() -> None:
    schema, _ = valid_schema_operations()

    for path in schema["paths"].values():
        for method, operation in path.items():
            codes = set(operation["responses"])
            assert ("413" in codes) == (method != "get"), operation["operationId"]
            assert ("415" in codes) == ("requestBody" in operation), operation["operationId"]
