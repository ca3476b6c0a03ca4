"""Routes no view takes answer the one error body too (JSON 404/405), in both DEBUG modes; the admin keeps HTML."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from command_service.apps.users.models import User
from tests.api.helpers import PASSWORD, Account, assert_error


@pytest.fixture(params=[False, True], ids=["production-like", "debug"])
def debug(request: pytest.FixtureRequest, settings: Any) -> bool:
    settings.DEBUG = request.param  # with DEBUG on, Django would answer its technical HTML 404 page
    return request.param


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/posts/null,null/"),
        ("patch", "/api/v1/posts/1.5/"),
        ("post", "/api/v1/nowhere/"),
        ("get", "/api/v2/posts/"),
        ("delete", "/favicon.ico"),
    ],
)
def test_an_unknown_route_is_a_json_404(debug: bool, method: str, path: str) -> None:
    response = getattr(Client(), method)(path)

    assert response["Content-Type"] == "application/json"
    assert assert_error(response, 404, fields=())["message"] == "Not found."


def test_a_method_a_route_does_not_take_is_a_json_405_with_allow(debug: bool) -> None:
    response = Client().put("/api/v1/users/", {}, content_type="application/json")

    assert_error(response, 405, fields=())
    assert "POST" in response["Allow"]


def test_the_admin_keeps_its_html_pages(debug: bool, staff: Account) -> None:
    User.objects.filter(pk=staff.id).update(is_superuser=True)
    client = Client()
    assert client.login(username=staff.username, password=PASSWORD)

    response = client.get("/admin/users/user/999999/change/", follow=True)

    assert response.status_code == 200  # the admin's own "does not exist" message on its index page
    assert response["Content-Type"].startswith("text/html")
    assert client.get("/admin/no-such-app/")["Content-Type"].startswith("text/html")
