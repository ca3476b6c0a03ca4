"""OWASP API1:2023, broken object-level authorization, probed over HTTP on the running system.

Every write endpoint that names an object is called by a stranger (another signed-in user) and by an anonymous
caller, on someone else's published and unpublished content. Each is refused with the status the API documents
(403 when the caller may see the object, 404 when it may not even learn that it exists, 401 without credentials),
and none of them lands: the owner's next write gets exactly the next version, and the read side serves the owner's
text at that version.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Answer, System, eventually

# (method, path template, body): every write on an object that is not the caller's own. `{post}`, `{comment}` and
# `{user}` are filled with the owner's ids.
POST_WRITES = (
    ("PATCH", "posts/{post}/", {"title": "Stolen", "content": "Stolen"}),
    ("PUT", "posts/{post}/tags/", {"tags": ["stolen"]}),
    ("POST", "posts/{post}/publish/", {}),
    ("POST", "posts/{post}/unpublish/", {}),
    ("POST", "posts/{post}/archive/", {}),
    ("DELETE", "posts/{post}/", None),
)
COMMENT_WRITES = (
    ("PATCH", "comments/{comment}/", {"body": "Stolen"}),
    ("DELETE", "comments/{comment}/", None),
)
PROFILE_WRITES = (("PATCH", "users/{user}/", {"display_name": "Stolen"}),)


@pytest.fixture(scope="module")
def owner_and_stranger(system: System) -> dict[str, Any]:
    """An owner with a published post, a draft and a comment; a stranger with a token of their own."""
    owner_id, owner = system.user("bola_owner", "Bola Owner")
    _, stranger = system.user("bola_stranger", "Bola Stranger")
    published = system.command("POST", "posts/", {"title": "Owner's post", "content": "Mine.", "tags": ["bola"]}, owner)
    assert system.command("POST", f"posts/{published.body['id']}/publish/", {}, owner).status == 200
    draft = system.command("POST", "posts/", {"title": "Owner's draft", "content": "Not yet.", "tags": []}, owner)
    comment = system.command("POST", f"posts/{published.body['id']}/comments/", {"body": "Owner's comment"}, owner)
    assert {published.status, draft.status, comment.status} == {201}
    return {
        "owner": owner, "stranger": stranger, "user": owner_id, "post": published.body["id"],
        "draft": draft.body["id"], "comment": comment.body["id"],
    }  # fmt: skip


def _send(system: System, write: tuple[str, str, Any], ids: dict[str, Any], token: str | None) -> Answer:
    method, template, body = write
    return system.command(method, template.format(**ids), body, token)


def _refused(answer: Answer, status: int) -> None:
    assert answer.status == status, answer.body
    assert set(answer.body) == {"message", "fields"}, answer.body


@pytest.mark.parametrize("write", POST_WRITES + COMMENT_WRITES + PROFILE_WRITES, ids=lambda w: f"{w[0]} {w[1]}")
def test_a_stranger_cannot_change_what_they_can_see(
    system: System, owner_and_stranger: dict[str, Any], write: tuple[str, str, Any]
) -> None:
    _refused(_send(system, write, owner_and_stranger, owner_and_stranger["stranger"]), 403)


@pytest.mark.parametrize("write", POST_WRITES, ids=lambda w: f"{w[0]} {w[1]}")
def test_a_stranger_cannot_learn_that_a_draft_exists(
    system: System, owner_and_stranger: dict[str, Any], write: tuple[str, str, Any]
) -> None:
    ids = {**owner_and_stranger, "post": owner_and_stranger["draft"]}
    _refused(_send(system, write, ids, owner_and_stranger["stranger"]), 404)
    comment = system.command("POST", f"posts/{ids['post']}/comments/", {"body": "hi"}, owner_and_stranger["stranger"])
    _refused(comment, 404)


@pytest.mark.parametrize("write", POST_WRITES + COMMENT_WRITES + PROFILE_WRITES, ids=lambda w: f"{w[0]} {w[1]}")
def test_an_anonymous_caller_is_asked_to_sign_in(
    system: System, owner_and_stranger: dict[str, Any], write: tuple[str, str, Any]
) -> None:
    _refused(_send(system, write, owner_and_stranger, None), 401)


def test_no_refused_write_landed_anywhere(system: System, owner_and_stranger: dict[str, Any]) -> None:
    """Runs after the probes above (file order): the owner's objects are still at the versions the owner made."""
    ids, owner = owner_and_stranger, owner_and_stranger["owner"]
    post = system.command("GET", f"posts/{ids['post']}/", None, owner)
    assert (post.body["version"], post.body["status"], post.body["tags"]) == (2, "published", ["bola"])
    assert system.command("GET", f"posts/{ids['draft']}/", None, owner).body["version"] == 1
    assert system.command("GET", f"comments/{ids['comment']}/", None, owner).body["version"] == 1
    assert system.command("GET", f"users/{ids['user']}/", None, owner).body["display_name"] == "Bola Owner"

    # The owner's own edit is the next version, and the read side serves exactly it: nothing slipped in between.
    change = {"title": "Owner's edit", "content": "Still mine."}
    edited = system.command("PATCH", f"posts/{ids['post']}/", change, owner)
    assert (edited.status, edited.body["version"]) == (200, 3), edited.body
    token = edited.headers["x-consistency-token"]

    def served() -> dict[str, Any] | None:
        found = system.query("posts/", {"tag": "bola"}, consistency=token).body["results"]
        return found[0] if found and found[0]["title"] == "Owner's edit" and found[0]["comment_count"] else None

    listed = eventually(served)  # the comment count is recounted a moment after the post itself is searchable
    assert (listed["id"], listed["author"]["display_name"]) == (str(ids["post"]), "Bola Owner")
