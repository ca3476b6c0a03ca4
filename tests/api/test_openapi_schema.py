"""The committed OpenAPI document is what the code generates today; the schema and Swagger UI are served."""

from __future__ import annotations

from pathlib import Path

from django.urls import reverse
from rest_framework.test import APIClient

from tests.openapi_checks import assert_committed_current, valid_schema_operations

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi" / "command-api.yaml"


def test_the_committed_schema_is_current() -> None:
    assert_committed_current(SCHEMA_FILE)


def test_the_schema_is_valid_openapi_and_generates_without_warnings() -> None:
    _, operations = valid_schema_operations()

    assert operations == {
        "auth_token_obtain", "auth_logout", "auth_password_change",
        "user_register", "user_detail", "user_profile_change",
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
