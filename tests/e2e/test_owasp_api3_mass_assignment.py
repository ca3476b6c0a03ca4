"""OWASP API3:2023, broken object property level authorization (mass assignment), probed over HTTP on the running
system.

No write endpoint lets a client set a property the server owns: ids, versions, the author, a post's status on
create, times, staff and active flags, or a password through the profile. What the API does today, asserted
exactly: every endpoint with a body declares its fields and refuses any other with a field-level 400 (`is not a
known field`), so nothing of the request is applied; the status changes (publish, unpublish, archive) take no body
and ignore one, so a body cannot steer them. Afterwards every object is at the version its owner's own writes made.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import System

PASSWORD = "mass-Assign-pass-5176"
SERVER_OWNED_POST = {
    "id": 999, "version": 42, "author_id": 1, "author": {"id": 1}, "status": "published",
    "created_at": "2000-01-01T00:00:00Z", "published_at": "2000-01-01T00:00:00Z", "comment_count": 5,
}  # fmt: skip


@pytest.fixture(scope="module")
def owner(system: System) -> dict[str, Any]:
    """A user with a draft post and a published one carrying a comment."""
    user_id, token = system.user("mass_owner", "Mass Owner")
    draft = system.command("POST", "posts/", {"title": "Draft", "content": "Words.", "tags": []}, token)
    post = system.command("POST", "posts/", {"title": "Public", "content": "Words.", "tags": []}, token)
    assert system.command("POST", f"posts/{post.body['id']}/publish/", {}, token).status == 200
    comment = system.command("POST", f"posts/{post.body['id']}/comments/", {"body": "First."}, token)
    assert {draft.status, post.status, comment.status} == {201}
    return {"user": user_id, "token": token, "draft": draft.body["id"], "post": post.body["id"],
            "comment": comment.body["id"]}  # fmt: skip


def _unknown_fields(answer: Any, names: set[str]) -> None:
    """A 400 naming exactly `names`, each as an unknown field."""
    assert answer.status == 400, answer.body
    assert set(answer.body) == {"message", "fields"}, answer.body
    assert answer.body["fields"] == {name: ["is not a known field"] for name in names}, answer.body


def test_registration_refuses_flags_ids_and_versions(system: System) -> None:
    extra = {"id": 1, "version": 9, "is_staff": True, "is_superuser": True, "is_active": False, "date_joined": "2000"}
    body = {"username": "mass_signup", "password": PASSWORD, "display_name": "Mass Signup"}

    _unknown_fields(system.command("POST", "users/", {**body, **extra}), set(extra))

    registered = system.command("POST", "users/", body)  # the name is still free: the refused request made nothing
    assert registered.status == 201, registered.body
    assert registered.body["version"] == 1
    assert registered.body["date_joined"] > "2000"


def test_post_and_comment_writes_refuse_server_owned_properties(system: System, owner: dict[str, Any]) -> None:
    token = owner["token"]
    create = {"title": "T", "content": "C", "tags": [], **SERVER_OWNED_POST}
    _unknown_fields(system.command("POST", "posts/", create, token), set(SERVER_OWNED_POST))
    edit = {"title": "T", "content": "C", **SERVER_OWNED_POST}
    _unknown_fields(system.command("PATCH", f"posts/{owner['draft']}/", edit, token), set(SERVER_OWNED_POST))
    tags = {"tags": ["x"], "version": 42, "status": "published"}
    _unknown_fields(system.command("PUT", f"posts/{owner['draft']}/tags/", tags, token), {"version", "status"})
    comment = {"body": "B", "author_id": 1, "post_id": owner["draft"], "is_deleted": True, "version": 7, "id": 5}
    _unknown_fields(
        system.command("POST", f"posts/{owner['post']}/comments/", comment, token),
        {"author_id", "post_id", "is_deleted", "version", "id"},
    )
    _unknown_fields(
        system.command("PATCH", f"comments/{owner['comment']}/", {"body": "B", "is_deleted": True}, token),
        {"is_deleted"},
    )


def test_the_profile_refuses_password_username_flags_and_version(system: System, owner: dict[str, Any]) -> None:
    extra = {"password": "another-pass-1234", "username": "root", "is_staff": True, "is_active": False, "version": 9}

    _unknown_fields(
        system.command("PATCH", f"users/{owner['user']}/", {"bio": "Hi", **extra}, owner["token"]), set(extra)
    )

    login = system.command("POST", "auth/token/", {"username": "mass_owner", "password": "correct-horse-battery"})
    assert login.status == 200, login.body  # the password is still the registered one


def test_a_status_change_ignores_any_body(system: System, owner: dict[str, Any]) -> None:
    published = system.command(
        "POST", f"posts/{owner['draft']}/publish/",
        {"status": "archived", "version": 42, "author_id": 1, "published_at": "2000-01-01T00:00:00Z"}, owner["token"],
    )  # fmt: skip

    assert published.status == 200, published.body
    assert (published.body["status"], published.body["version"]) == ("published", 2)
    assert published.body["author"]["id"] == int(owner["user"])
    assert published.body["published_at"] > "2000-01-01T00:00:00Z"


def test_nothing_refused_landed(system: System, owner: dict[str, Any]) -> None:
    """Runs after the probes above (file order): every object is at the version its owner's writes made."""
    token = owner["token"]
    post = system.command("GET", f"posts/{owner['post']}/", None, token).body
    assert (post["version"], post["status"], post["title"], post["comment_count"]) == (2, "published", "Public", 1)
    draft = system.command("GET", f"posts/{owner['draft']}/", None, token).body
    assert (draft["version"], draft["tags"], draft["title"]) == (2, [], "Draft")  # version 2: the publish above
    assert system.command("GET", f"comments/{owner['comment']}/", None, token).body["version"] == 1
    profile = system.command("GET", f"users/{owner['user']}/", None, token).body
    assert (profile["version"], profile["username"], profile["bio"]) == (1, "mass_owner", "")
