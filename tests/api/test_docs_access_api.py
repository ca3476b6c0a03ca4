"""Who gets the command API's docs: `DJANGO_API_DOCS=staff` (production's default) serves the schema and the
Swagger UI to staff only, `off` routes neither; development's `public` is what the other API tests use.

The routes under test are the URLconf's own `docs_routes`, mounted beside the API in this module's URLconf.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import include, path

from command_service.apps.users.models import User
from command_service.config.urls import docs_routes
from tests.api.helpers import Account, assert_error

urlpatterns = [path("api/v1/", include("command_service.api.urls", namespace="api")), *docs_routes("staff")]
JSON = {"HTTP_ACCEPT": "application/json"}  # the schema view renders errors as YAML otherwise
pytestmark = pytest.mark.urls(__name__)


def test_anonymous_callers_get_neither_the_schema_nor_the_swagger_ui(anon) -> None:
    schema = anon.get("/api/schema/", **JSON)
    page = anon.get("/api/docs/")

    assert_error(schema, 401)
    assert page.status_code == 401
    assert b"swagger" not in page.content.lower()


def test_a_user_who_is_not_staff_is_refused(bob: Account) -> None:
    assert_error(bob.client.get("/api/schema/", **JSON), 403)


def test_staff_get_the_schema_by_token_and_the_swagger_ui_in_their_admin_session(staff: Account) -> None:
    schema = staff.client.get("/api/schema/")
    browser = Client()
    browser.force_login(User.objects.get(pk=staff.id))
    page = browser.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/posts/" in schema.content
    assert page.status_code == 200
    assert b"swagger" in page.content.lower()


def test_off_routes_no_docs_at_all() -> None:
    assert docs_routes("off") == []
    assert [str(route.pattern) for route in docs_routes("public")] == ["api/schema/", "api/docs/"]
