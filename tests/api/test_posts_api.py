"""Creating posts (every input rule, every way a body can be wrong) and reading one (who sees what)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from command_service.apps.comments.models import Comment
from command_service.apps.posts.models import Post
from tests.api.helpers import Account, assert_error, assert_one_event, outbox_count

CREATE = {"title": "Hello", "content": "World", "tags": ["python"]}


def _detail(post_id: int) -> str:
    return reverse("api:post-detail", kwargs={"post_id": post_id})


# Create.


def test_create_makes_a_draft_with_headers_and_one_event(alice: Account) -> None:
    before = outbox_count()

    response = alice.client.post(
        reverse("api:post-create"),
        {"title": "  Hello  ", "content": "  World  ", "tags": ["Python", " django ", "python", "a-b"]},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    post_id = body["id"]
    assert body == {
        **body,
        "author": {"id": alice.id, "username": "alice", "display_name": "Alice", "avatar_url": None},
        "title": "Hello",
        "content": "  World  ",
        "tags": ["a-b", "django", "python"],
        "status": "draft",
        "comment_count": 0,
        "version": 1,
        "published_at": None,
    }
    assert response["Location"].endswith(_detail(post_id))
    assert response["ETag"] == '"1"'
    assert response["X-Consistency-Token"] == f"post:{post_id}:1"
    assert_one_event(before, "post.created", "post", post_id, 1)


def test_create_without_tags_has_none(alice: Account) -> None:
    response = alice.client.post(reverse("api:post-create"), {"title": "t", "content": "c"}, format="json")

    assert response.status_code == 201
    assert response.json()["tags"] == []


def test_create_at_every_limit_succeeds(alice: Account) -> None:
    tags = [f"t{i}" for i in range(9)] + ["a" * 32]
    response = alice.client.post(
        reverse("api:post-create"), {"title": "t" * 200, "content": "c" * 100_000, "tags": tags}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert len(response.json()["tags"]) == 10


def test_create_anonymous_is_401(anon: APIClient) -> None:
    assert_error(anon.post(reverse("api:post-create"), CREATE, format="json"), 401, fields=())
    assert outbox_count() == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "must not be blank"),
        ({"title": "   "}, "title", "must not be blank"),
        ({"title": "t" * 201}, "title", "must be at most 200 characters (got 201)"),
        ({"content": ""}, "content", "must not be blank"),
        ({"content": "c" * 100_001}, "content", "must be at most 100000 characters (got 100001)"),
        ({"tags": [f"t{i}" for i in range(11)]}, "tags", "at most 10 tags (got 11)"),
        ({"tags": ["a" * 33]}, "tags", f"{'a' * 33!r} must be 1 to 32 lower-case letters, digits or hyphens, "),
        ({"tags": ["-lead"]}, "tags", "'-lead' must be 1 to 32"),
        ({"tags": ["two words"]}, "tags", "'two words' must be 1 to 32"),
        ({"tags": ["café"]}, "tags", "'café' must be 1 to 32"),
        ({"tags": [""]}, "tags", "'' must be 1 to 32"),
        ({"tags": ["under_score"]}, "tags", "'under_score' must be 1 to 32"),
        ({"title": 5}, "title", "Not a valid string."),
        ({"title": None}, "title", "This field may not be null."),
        ({"title": ["a"]}, "title", "Not a valid string."),
        ({"content": {"a": 1}}, "content", "Not a valid string."),
        ({"content": True}, "content", "Not a valid string."),
        ({"tags": "x"}, "tags", 'Expected a list of items but got type "str".'),
        ({"tags": {"x": 1}}, "tags", 'Expected a list of items but got type "dict".'),
        ({"tags": [5]}, "tags", "item 0: Not a valid string."),
        ({"tags": ["ok", ["x"]]}, "tags", "item 1: Not a valid string."),
        ({"tags": None}, "tags", "This field may not be null."),
        ({"title": "nul\x00"}, "title", "Null characters are not allowed."),
    ],
)
def test_create_refuses_a_broken_field(alice: Account, change: dict[str, Any], field: str, message: str) -> None:
    response = alice.client.post(reverse("api:post-create"), {**CREATE, **change}, format="json")

    body = assert_error(response, 400, fields=(field,))
    assert len(body["fields"][field]) == 1
    assert body["fields"][field][0].startswith(message), body
    assert not Post.objects.exists()
    assert outbox_count() == 1  # alice's registration only


def test_create_refuses_a_lone_surrogate(alice: Account) -> None:
    raw = '{"title": "\\ud800", "content": "c"}'  # valid JSON, but not text that UTF-8 (or Postgres) can store

    response = alice.client.post(reverse("api:post-create"), raw, content_type="application/json")

    body = assert_error(response, 400, fields=("title",))
    assert body["fields"]["title"] == ["Surrogate characters are not allowed: U+D800."]


def test_create_strips_and_lowercases_tags(alice: Account) -> None:
    response = alice.client.post(reverse("api:post-create"), {**CREATE, "tags": [" OK\n", "ok"]}, format="json")

    assert response.json()["tags"] == ["ok"]


def test_create_reports_every_broken_field_at_once(alice: Account) -> None:
    response = alice.client.post(
        reverse("api:post-create"), {"title": "", "content": "", "tags": ["BAD TAG", "-x"]}, format="json"
    )

    body = assert_error(response, 400, fields=("title", "content", "tags"))
    assert len(body["fields"]["tags"]) == 2


@pytest.mark.parametrize("data", [{}, {"title": "t"}, {"content": "c"}])
def test_create_requires_title_and_content(alice: Account, data: dict[str, str]) -> None:
    body = assert_error(alice.client.post(reverse("api:post-create"), data, format="json"), 400)

    assert {"title", "content"} - set(data) == set(body["fields"])
    assert all(body["fields"][name] == ["This field is required."] for name in body["fields"])


def test_create_names_an_unknown_field(alice: Account) -> None:
    response = alice.client.post(reverse("api:post-create"), {**CREATE, "status": "published"}, format="json")

    body = assert_error(response, 400, fields=("status",))
    assert body["fields"]["status"] == ["is not a known field"]


def test_create_names_unknown_fields_beside_broken_ones(alice: Account) -> None:
    response = alice.client.post(reverse("api:post-create"), {"title": 5, "content": "c", "tilte": "x"}, format="json")

    assert_error(response, 400, fields=("title", "tilte"))


@pytest.mark.parametrize("raw", ['{"title": "t", ', "{'title': 't'}", "[1, 2", '{"title": NaN}', "\xff"])
def test_create_refuses_malformed_json(alice: Account, raw: str) -> None:
    response = alice.client.post(reverse("api:post-create"), raw, content_type="application/json")

    assert assert_error(response, 400, fields=())["message"].startswith("JSON parse error")


def test_create_refuses_json_nested_deeper_than_python_decodes(alice: Account) -> None:
    raw = '{"title": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = alice.client.post(reverse("api:post-create"), raw, content_type="application/json")

    assert assert_error(response, 400, fields=())["message"].startswith("JSON parse error")


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("text/plain", json.dumps(CREATE)),
        ("application/x-www-form-urlencoded", "title=t&content=c"),
        ("application/xml", "<post/>"),
    ],
)
def test_create_refuses_a_body_that_is_not_json(alice: Account, content_type: str, raw: str) -> None:
    response = alice.client.post(reverse("api:post-create"), raw, content_type=content_type)

    assert_error(response, 415, fields=())
    assert not Post.objects.exists()


def test_create_refuses_a_multipart_body(alice: Account) -> None:
    response = alice.client.post(reverse("api:post-create"), {"title": "t", "content": "c"}, format="multipart")

    assert_error(response, 415, fields=())


def test_create_refuses_a_body_over_one_mebibyte(alice: Account) -> None:
    raw = json.dumps({**CREATE, "content": "c" * (1024 * 1024)})

    response = alice.client.post(reverse("api:post-create"), raw, content_type="application/json")

    body = assert_error(response, 413, fields=())
    assert str(1024 * 1024) in body["message"]
    assert not Post.objects.exists()


def test_create_refuses_a_content_length_that_is_not_a_number(alice: Account) -> None:
    response = alice.client.post(
        reverse("api:post-create"), json.dumps(CREATE), content_type="application/json", CONTENT_LENGTH="many"
    )

    assert_error(response, 400, fields=())


# Detail: who sees what.


def test_published_post_is_visible_to_anyone(
    anon: APIClient, alice: Account, bob: Account, make_post: Callable
) -> None:
    post = make_post(alice.client)

    for client in (anon, bob.client, alice.client):
        response = client.get(_detail(post["id"]))
        assert response.status_code == 200
        assert response.json() == post
        assert response["ETag"] == '"2"'
    assert post["status"] == "published"
    assert datetime.fromisoformat(post["published_at"]) == Post.objects.get(pk=post["id"]).published_at


def test_draft_is_visible_to_its_author_only(
    anon: APIClient, alice: Account, bob: Account, staff: Account, make_post: Callable
) -> None:
    post = make_post(alice.client, publish=False)

    assert alice.client.get(_detail(post["id"])).json() == post
    for client in (anon, bob.client, staff.client):
        assert_error(client.get(_detail(post["id"])), 404, fields=())


def test_archived_post_is_visible_to_its_author_only(
    anon: APIClient, alice: Account, bob: Account, staff: Account, make_post: Callable
) -> None:
    post = make_post(alice.client)
    alice.client.post(reverse("api:post-archive", kwargs={"post_id": post["id"]}))

    assert alice.client.get(_detail(post["id"])).json()["status"] == "archived"
    for client in (anon, bob.client, staff.client):
        assert_error(client.get(_detail(post["id"])), 404, fields=())


def test_deleted_post_is_404_for_everyone(
    anon: APIClient, alice: Account, bob: Account, staff: Account, make_post: Callable
) -> None:
    post = make_post(alice.client)
    assert alice.client.delete(_detail(post["id"])).status_code == 204

    for client in (anon, alice.client, bob.client, staff.client):
        assert_error(client.get(_detail(post["id"])), 404, fields=())


def test_unknown_post_is_404(anon: APIClient) -> None:
    assert_error(anon.get(_detail(424242)), 404, fields=())
    assert_error(anon.get(_detail(10**30)), 404, fields=())


def test_comment_count_excludes_deleted_comments(
    anon: APIClient, alice: Account, bob: Account, make_post: Callable, make_comment: Callable
) -> None:
    post = make_post(alice.client)
    other = make_post(alice.client)
    comments = [make_comment(bob.client, post["id"], body=f"c{i}") for i in range(3)]
    make_comment(bob.client, other["id"])
    bob.client.delete(reverse("api:comment-detail", kwargs={"comment_id": comments[0]["id"]}))

    assert anon.get(_detail(post["id"])).json()["comment_count"] == 2
    assert anon.get(_detail(other["id"])).json()["comment_count"] == 1
    assert Comment.objects.filter(post_id=post["id"]).count() == 3
