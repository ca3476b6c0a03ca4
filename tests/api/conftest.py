"""Fixtures of the API tests: clients, and users, posts and comments made through the API itself.

Every test here runs against SQLite in memory (pytest-django's test database); URLs come from reverse().
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from command_service.apps.users.models import User
from tests.api.helpers import PASSWORD, Account


@pytest.fixture(autouse=True)
def _database(db: None, settings: Any) -> None:
    """Every API test uses the test database; passwords are hashed fast (the real hasher costs ~0.3 s each)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_throttles(settings: Any) -> None:
    """No rate limit counts (nor needs Redis) unless a test turns one on (tests/api/test_throttling_api.py)."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}


@pytest.fixture
def api() -> Callable[[], APIClient]:
    """A factory of fresh, anonymous API clients."""
    return APIClient


@pytest.fixture
def anon(api: Callable[[], APIClient]) -> APIClient:
    """An anonymous client."""
    return api()


@pytest.fixture
def make_user(api: Callable[[], APIClient]) -> Callable[..., Account]:
    """`make_user(username, staff=False)`: registers through the API and returns the account with a token client.

    Staff is granted in the database, as an administrator would in the admin: the API has no way to do it.
    """

    def make(username: str, staff: bool = False, *, password: str = PASSWORD) -> Account:
        client = api()
        registered = client.post(
            reverse("api:user-register"),
            {"username": username, "password": password, "display_name": username.title()},
            format="json",
        )
        assert registered.status_code == 201, registered.json()
        user_id = registered.json()["id"]
        if staff:
            User.objects.filter(pk=user_id).update(is_staff=True)
        token = client.post(reverse("api:auth-token"), {"username": username, "password": password}, format="json")
        assert token.status_code == 200, token.json()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
        return Account(client, user_id, username)

    return make


@pytest.fixture
def alice(make_user: Callable[..., Account]) -> Account:
    """An author."""
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., Account]) -> Account:
    """Another user, neither the author nor staff."""
    return make_user("bob")


@pytest.fixture
def staff(make_user: Callable[..., Account]) -> Account:
    """A staff member (a moderator)."""
    return make_user("mod", staff=True)


@pytest.fixture
def make_post() -> Callable[..., dict[str, Any]]:
    """`make_post(client, publish=True, **fields)`: creates (and publishes) a post through the API; its body."""

    def make(client: APIClient, publish: bool = True, **fields: Any) -> dict[str, Any]:
        data = {"title": "A title", "content": "Some content", "tags": ["python"], **fields}
        created = client.post(reverse("api:post-create"), data, format="json")
        assert created.status_code == 201, created.json()
        post = created.json()
        if publish:
            published = client.post(reverse("api:post-publish", kwargs={"post_id": post["id"]}))
            assert published.status_code == 200, published.json()
            post = published.json()
        return post

    return make


@pytest.fixture
def make_comment() -> Callable[..., dict[str, Any]]:
    """`make_comment(client, post_id, body=...)`: comments through the API; the comment's body."""

    def make(client: APIClient, post_id: int, body: str = "Nice post") -> dict[str, Any]:
        added = client.post(reverse("api:comment-add", kwargs={"post_id": post_id}), {"body": body}, format="json")
        assert added.status_code == 201, added.json()
        return added.json()

    return make
