"""Comments through the API: add (to published posts), read, edit (its author), delete (author, post author, staff)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from command_service.apps.comments.models import Comment
from tests.api.helpers import Account, assert_error, assert_one_event, outbox_count


def _add(post_id: int) -> str:
    return reverse("api:comment-add", kwargs={"post_id": post_id})


def _detail(comment_id: int) -> str:
    return reverse("api:comment-detail", kwargs={"comment_id": comment_id})


def _row(comment_id: int) -> tuple[Any, ...]:
    row = Comment.objects.get(pk=comment_id)
    return row.body, row.is_deleted, row.version, row.updated_at


@pytest.fixture
def published(alice: Account, make_post: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A published post of alice's."""
    return make_post(alice.client, title="Alice's post")


@pytest.fixture
def comment(bob: Account, published: dict[str, Any], make_comment: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """bob's comment on alice's published post."""
    return make_comment(bob.client, published["id"], body="First!")


# Add.


def test_add_creates_the_comment_with_headers_and_one_event(bob: Account, published: dict[str, Any]) -> None:
    before = outbox_count()

    response = bob.client.post(_add(published["id"]), {"body": "  Nice post  "}, format="json")

    assert response.status_code == 201
    body = response.json()
    comment_id = body["id"]
    assert body == {
        **body,
        "post": {"id": published["id"], "title": "Alice's post"},
        "author": {"id": bob.id, "username": "bob", "display_name": "Bob", "avatar_url": None},
        "body": "Nice post",
        "version": 1,
    }
    assert response["Location"].endswith(_detail(comment_id))
    assert response["ETag"] == '"1"'
    assert response["X-Consistency-Token"] == f"comment:{comment_id}:1"
    assert_one_event(before, "comment.added", "comment", comment_id, 1)


def test_add_at_the_length_limit_succeeds(bob: Account, published: dict[str, Any]) -> None:
    assert bob.client.post(_add(published["id"]), {"body": "b" * 5000}, format="json").status_code == 201


def test_add_anonymous_is_401(anon: APIClient, published: dict[str, Any]) -> None:
    before = outbox_count()

    assert_error(anon.post(_add(published["id"]), {"body": "hi"}, format="json"), 401, fields=())
    assert outbox_count() == before


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"body": ""}, {"body": ["must not be blank"]}),
        ({"body": "  \n "}, {"body": ["must not be blank"]}),
        ({"body": "b" * 5001}, {"body": ["must be at most 5000 characters (got 5001)"]}),
        ({}, {"body": ["This field is required."]}),
        ({"body": 5}, {"body": ["Not a valid string."]}),
        ({"body": "hi", "post_id": 3}, {"post_id": ["is not a known field"]}),
    ],
)
def test_add_refuses_a_broken_body(
    bob: Account, published: dict[str, Any], data: dict[str, Any], fields: dict[str, list[str]]
) -> None:
    before = outbox_count()

    response = bob.client.post(_add(published["id"]), data, format="json")

    assert assert_error(response, 400)["fields"] == fields
    assert outbox_count() == before
    assert not Comment.objects.exists()


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_add_to_a_post_that_is_not_published(
    alice: Account, bob: Account, make_post: Callable[..., dict[str, Any]], status: str
) -> None:
    """Its author sees the post, so is told why (409); anyone else must not learn it exists (404)."""
    post = make_post(alice.client, publish=False)
    if status == "archived":
        alice.client.post(reverse("api:post-archive", kwargs={"post_id": post["id"]}))
    before = outbox_count()

    author = assert_error(alice.client.post(_add(post["id"]), {"body": "hi"}, format="json"), 409)
    assert author["fields"] == {"post": [f"is {status}"]}
    assert_error(bob.client.post(_add(post["id"]), {"body": "hi"}, format="json"), 404, fields=())
    assert outbox_count() == before
    assert not Comment.objects.exists()


def test_add_to_a_deleted_or_unknown_post_is_404(alice: Account, published: dict[str, Any]) -> None:
    alice.client.delete(reverse("api:post-detail", kwargs={"post_id": published["id"]}))
    before = outbox_count()

    assert_error(alice.client.post(_add(published["id"]), {"body": "hi"}, format="json"), 404, fields=())
    assert_error(alice.client.post(_add(424242), {"body": "hi"}, format="json"), 404, fields=())
    assert outbox_count() == before


# Detail.


def test_detail_is_public_on_a_published_post(anon: APIClient, comment: dict[str, Any]) -> None:
    response = anon.get(_detail(comment["id"]))

    assert response.status_code == 200
    assert response.json() == comment
    assert response["ETag"] == '"1"'


def test_detail_follows_the_post_visibility(
    anon: APIClient, alice: Account, bob: Account, published: dict[str, Any], comment: dict[str, Any]
) -> None:
    alice.client.post(reverse("api:post-unpublish", kwargs={"post_id": published["id"]}))

    assert alice.client.get(_detail(comment["id"])).status_code == 200  # the post's author still sees it
    assert_error(anon.get(_detail(comment["id"])), 404, fields=())
    assert_error(bob.client.get(_detail(comment["id"])), 404, fields=())  # even its own author


def test_detail_of_a_deleted_or_unknown_comment_is_404(anon: APIClient, bob: Account, comment: dict[str, Any]) -> None:
    bob.client.delete(_detail(comment["id"]))

    assert_error(anon.get(_detail(comment["id"])), 404, fields=())
    assert_error(bob.client.get(_detail(comment["id"])), 404, fields=())
    assert_error(anon.get(_detail(424242)), 404, fields=())


# Edit.


def test_edit_by_its_author(bob: Account, comment: dict[str, Any]) -> None:
    before = outbox_count()

    response = bob.client.patch(_detail(comment["id"]), {"body": " Edited "}, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 200
    assert (response.json()["body"], response.json()["version"]) == ("Edited", 2)
    assert response["ETag"] == '"2"'
    assert response["X-Consistency-Token"] == f"comment:{comment['id']}:2"
    assert_one_event(before, "comment.edited", "comment", comment["id"], 2)


@pytest.mark.parametrize("who", ["alice", "staff", "carol"])
def test_edit_by_anyone_else_is_403(
    request: pytest.FixtureRequest, make_user: Callable[..., Account], comment: dict[str, Any], who: str
) -> None:
    """Not the post's author, not staff, not a bystander."""
    client = make_user("carol").client if who == "carol" else request.getfixturevalue(who).client
    before, events = _row(comment["id"]), outbox_count()

    assert_error(client.patch(_detail(comment["id"]), {"body": "mine now"}, format="json"), 403, fields=())
    assert (_row(comment["id"]), outbox_count()) == (before, events)


def test_edit_anonymous_is_401(anon: APIClient, comment: dict[str, Any]) -> None:
    before, events = _row(comment["id"]), outbox_count()

    assert_error(anon.patch(_detail(comment["id"]), {"body": "x"}, format="json"), 401, fields=())
    assert (_row(comment["id"]), outbox_count()) == (before, events)


@pytest.mark.parametrize(
    "data", [{"body": ""}, {"body": "b" * 5001}, {}, {"body": None}, {"body": "x", "author": 1}, ["x"]]
)
def test_edit_refuses_a_broken_body(bob: Account, comment: dict[str, Any], data: Any) -> None:
    before, events = _row(comment["id"]), outbox_count()

    assert_error(bob.client.patch(_detail(comment["id"]), data, format="json"), 400)
    assert (_row(comment["id"]), outbox_count()) == (before, events)


def test_edit_with_a_stale_or_malformed_if_match_changes_nothing(bob: Account, comment: dict[str, Any]) -> None:
    bob.client.patch(_detail(comment["id"]), {"body": "second"}, format="json")
    before, events = _row(comment["id"]), outbox_count()

    stale = bob.client.patch(_detail(comment["id"]), {"body": "third"}, format="json", HTTP_IF_MATCH='"1"')
    malformed = bob.client.patch(_detail(comment["id"]), {"body": "third"}, format="json", HTTP_IF_MATCH="1")

    assert_error(stale, 412, fields=())
    assert_error(malformed, 400, fields=("If-Match",))
    assert (_row(comment["id"]), outbox_count()) == (before, events)


def test_edit_of_a_deleted_or_unknown_comment_is_404(bob: Account, comment: dict[str, Any]) -> None:
    bob.client.delete(_detail(comment["id"]))
    events = outbox_count()

    assert_error(bob.client.patch(_detail(comment["id"]), {"body": "x"}, format="json"), 404, fields=())
    assert_error(bob.client.patch(_detail(424242), {"body": "x"}, format="json"), 404, fields=())
    assert outbox_count() == events


def test_edit_on_a_post_its_author_can_no_longer_see_is_404(
    alice: Account, bob: Account, published: dict[str, Any], comment: dict[str, Any]
) -> None:
    alice.client.post(reverse("api:post-archive", kwargs={"post_id": published["id"]}))

    assert_error(bob.client.patch(_detail(comment["id"]), {"body": "x"}, format="json"), 404, fields=())


# Delete.


@pytest.mark.parametrize("who", ["bob", "alice", "staff"])
def test_delete_by_its_author_the_posts_author_or_staff(
    request: pytest.FixtureRequest, anon: APIClient, published: dict[str, Any], comment: dict[str, Any], who: str
) -> None:
    client = request.getfixturevalue(who).client
    before = outbox_count()

    response = client.delete(_detail(comment["id"]), HTTP_IF_MATCH='"1"')

    assert response.status_code == 204
    assert response.content == b""
    assert response["ETag"] == '"2"'
    assert response["X-Consistency-Token"] == f"comment:{comment['id']}:2"
    assert_one_event(before, "comment.deleted", "comment", comment["id"], 2)
    assert Comment.objects.get(pk=comment["id"]).is_deleted
    assert anon.get(reverse("api:post-detail", kwargs={"post_id": published["id"]})).json()["comment_count"] == 0


def test_delete_by_anyone_else_is_403(make_user: Callable[..., Account], comment: dict[str, Any]) -> None:
    carol = make_user("carol")
    before, events = _row(comment["id"]), outbox_count()

    assert_error(carol.client.delete(_detail(comment["id"])), 403, fields=())
    assert (_row(comment["id"]), outbox_count()) == (before, events)


def test_delete_anonymous_is_401(anon: APIClient, comment: dict[str, Any]) -> None:
    before, events = _row(comment["id"]), outbox_count()

    assert_error(anon.delete(_detail(comment["id"])), 401, fields=())
    assert (_row(comment["id"]), outbox_count()) == (before, events)


def test_delete_twice_or_unknown_is_404(bob: Account, comment: dict[str, Any]) -> None:
    assert bob.client.delete(_detail(comment["id"])).status_code == 204
    events = outbox_count()

    assert_error(bob.client.delete(_detail(comment["id"])), 404, fields=())
    assert_error(bob.client.delete(_detail(424242)), 404, fields=())
    assert outbox_count() == events


def test_delete_with_a_stale_if_match_changes_nothing(bob: Account, comment: dict[str, Any]) -> None:
    bob.client.patch(_detail(comment["id"]), {"body": "second"}, format="json")
    before, events = _row(comment["id"]), outbox_count()

    assert_error(bob.client.delete(_detail(comment["id"]), HTTP_IF_MATCH='"1"'), 412, fields=())
    assert (_row(comment["id"]), outbox_count()) == (before, events)
