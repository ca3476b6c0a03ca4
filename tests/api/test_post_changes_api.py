"""Every change of a post (edit, tags, publish, unpublish, archive, delete) by everyone who might try it.

Each change is tried by its author, another user, staff and an anonymous caller, from each status, with a current,
a stale and a malformed If-Match; a refused change leaves the post and the outbox as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from command_service.apps.outbox.subject_keys import subject_key_ring
from command_service.apps.posts.models import Post
from events.envelope import decode
from tests.api.helpers import Account, assert_error, assert_one_event, last_event, outbox_count


@dataclass(frozen=True)
class Change:
    """One way to change a post through the API."""

    method: str
    route: str
    data: dict[str, Any] | None
    event_type: str
    starts_from: str  # a status it succeeds from
    result: dict[str, Any]  # what the post's body shows after it


CHANGES = {
    "edit": Change(
        "patch", "api:post-detail", {"title": "New title", "content": "New content"}, "post.edited", "published",
        {"title": "New title", "content": "New content", "status": "published"},
    ),
    "tags": Change(
        "put", "api:post-tags", {"tags": ["New", "tags", "new"]}, "post.tags_changed", "published",
        {"tags": ["new", "tags"], "status": "published"},
    ),
    "publish": Change("post", "api:post-publish", None, "post.published", "draft", {"status": "published"}),
    "unpublish": Change("post", "api:post-unpublish", None, "post.unpublished", "published", {"status": "draft"}),
    "archive": Change("post", "api:post-archive", None, "post.archived", "published", {"status": "archived"}),
    "delete": Change("delete", "api:post-detail", None, "post.deleted", "published", {}),
}  # fmt: skip
MODERATION = ("unpublish", "archive", "delete")  # staff may do these to anyone's post
AUTHOR_ONLY = ("edit", "tags", "publish")


def change(client: APIClient, name: str, post_id: int, **headers: str) -> Any:
    """Send the change `name` to the post."""
    spec = CHANGES[name]
    url = reverse(spec.route, kwargs={"post_id": post_id})
    return getattr(client, spec.method)(url, spec.data, format="json", **headers)


@pytest.fixture
def post_in(alice: Account, make_post: Callable[..., dict[str, Any]]) -> Callable[[str], int]:
    """`post_in(status)`: the id of a post of alice's brought to that status through the API."""

    def make(status: str) -> int:
        post_id = make_post(alice.client, publish=status != "draft")["id"]
        if status == "archived":
            assert change(alice.client, "archive", post_id).status_code == 200
        elif status == "deleted":
            assert change(alice.client, "delete", post_id).status_code == 204
        return post_id

    return make


def snapshot(post_id: int) -> tuple[Any, ...]:
    """Everything a change could touch."""
    row = Post.objects.get(pk=post_id)
    return row.title, row.content, row.status, row.version, row.updated_at, sorted(t.name for t in row.tags.all())


def assert_refused(response: Any, status: int, post_id: int, before: tuple[Any, ...], events: int) -> dict[str, Any]:
    """An error response, and the post and the outbox are as they were."""
    body = assert_error(response, status)
    assert snapshot(post_id) == before
    assert outbox_count() == events
    return body


@pytest.mark.parametrize("name", CHANGES)
@pytest.mark.parametrize("if_match", [False, True])
def test_author_makes_the_change(alice: Account, post_in: Callable[[str], int], name: str, if_match: bool) -> None:
    spec = CHANGES[name]
    post_id = post_in(spec.starts_from)
    version = Post.objects.get(pk=post_id).version
    before = outbox_count()

    headers = {"HTTP_IF_MATCH": f'"{version}"'} if if_match else {}
    response = change(alice.client, name, post_id, **headers)

    assert response.status_code == (204 if name == "delete" else 200), response.content
    assert response["ETag"] == f'"{version + 1}"'
    assert response["X-Consistency-Token"] == f"post:{post_id}:{version + 1}"
    assert_one_event(before, spec.event_type, "post", post_id, version + 1)
    if name == "delete":
        assert response.content == b""
        assert Post.objects.get(pk=post_id).status == "deleted"
    else:
        body = response.json()
        assert body == {**body, **spec.result, "id": post_id, "version": version + 1}
        assert response["Location"].endswith(reverse("api:post-detail", kwargs={"post_id": post_id}))
        assert alice.client.get(reverse("api:post-detail", kwargs={"post_id": post_id})).json() == body


@pytest.mark.parametrize("name", CHANGES)
def test_another_user_is_403_on_a_published_post(bob: Account, post_in: Callable[[str], int], name: str) -> None:
    post_id = post_in("published")
    before, events = snapshot(post_id), outbox_count()

    assert_refused(change(bob.client, name, post_id), 403, post_id, before, events)


@pytest.mark.parametrize("name", CHANGES)
@pytest.mark.parametrize("status", ["draft", "archived"])
def test_another_user_is_404_on_a_post_they_cannot_see(
    bob: Account, post_in: Callable[[str], int], name: str, status: str
) -> None:
    post_id = post_in(status)
    before, events = snapshot(post_id), outbox_count()

    assert_refused(change(bob.client, name, post_id), 404, post_id, before, events)


@pytest.mark.parametrize("name", CHANGES)
def test_anonymous_is_401(anon: APIClient, post_in: Callable[[str], int], name: str) -> None:
    post_id = post_in("published")
    before, events = snapshot(post_id), outbox_count()

    assert_refused(change(anon, name, post_id), 401, post_id, before, events)


@pytest.mark.parametrize("name", MODERATION)
def test_staff_moderate_someone_elses_published_post(
    staff: Account, alice: Account, post_in: Callable[[str], int], name: str
) -> None:
    post_id = post_in("published")
    before = outbox_count()

    response = change(staff.client, name, post_id)

    assert response.status_code == (204 if name == "delete" else 200), response.content
    assert response["ETag"] == '"3"'
    assert_one_event(before, CHANGES[name].event_type, "post", post_id, 3)
    if name != "delete":  # the moderator sees the result, though the read rule now hides the post from them
        assert response.json()["status"] == CHANGES[name].result["status"]
        assert_error(staff.client.get(reverse("api:post-detail", kwargs={"post_id": post_id})), 404)
        assert alice.client.get(reverse("api:post-detail", kwargs={"post_id": post_id})).json() == response.json()


@pytest.mark.parametrize("name", ["archive", "delete"])
def test_staff_moderate_someone_elses_draft(staff: Account, post_in: Callable[[str], int], name: str) -> None:
    post_id = post_in("draft")

    response = change(staff.client, name, post_id)

    assert response.status_code == (204 if name == "delete" else 200), response.content
    assert Post.objects.get(pk=post_id).status == ("deleted" if name == "delete" else "archived")


@pytest.mark.parametrize("name", AUTHOR_ONLY)
def test_staff_may_not_change_someone_elses_published_post(
    staff: Account, post_in: Callable[[str], int], name: str
) -> None:
    post_id = post_in("published")
    before, events = snapshot(post_id), outbox_count()

    assert_refused(change(staff.client, name, post_id), 403, post_id, before, events)


@pytest.mark.parametrize("name", AUTHOR_ONLY)
def test_staff_may_not_change_or_publish_someone_elses_draft(
    staff: Account, post_in: Callable[[str], int], name: str
) -> None:
    post_id = post_in("draft")
    before, events = snapshot(post_id), outbox_count()

    assert_refused(change(staff.client, name, post_id), 404, post_id, before, events)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("publish", "published"),
        ("publish", "archived"),
        ("unpublish", "draft"),
        ("unpublish", "archived"),
        ("archive", "archived"),
        ("edit", "archived"),
        ("tags", "archived"),
    ],
)
def test_author_invalid_transition_is_409(
    alice: Account, post_in: Callable[[str], int], name: str, status: str
) -> None:
    post_id = post_in(status)
    before, events = snapshot(post_id), outbox_count()

    body = assert_refused(change(alice.client, name, post_id), 409, post_id, before, events)

    assert body["fields"] == {"status": [f"is {status}"]}


def test_staff_unpublish_of_a_draft_is_409(staff: Account, post_in: Callable[[str], int]) -> None:
    post_id = post_in("draft")
    before, events = snapshot(post_id), outbox_count()

    assert_refused(change(staff.client, "unpublish", post_id), 409, post_id, before, events)


@pytest.mark.parametrize("name", CHANGES)
@pytest.mark.parametrize("who", ["alice", "staff"])
def test_a_deleted_post_is_404_for_every_change(
    request: pytest.FixtureRequest, post_in: Callable[[str], int], name: str, who: str
) -> None:
    client = request.getfixturevalue(who).client
    post_id = post_in("deleted")
    before, events = snapshot(post_id), outbox_count()

    assert_refused(change(client, name, post_id), 404, post_id, before, events)


@pytest.mark.parametrize("name", CHANGES)
def test_an_unknown_post_is_404(alice: Account, name: str) -> None:
    before = outbox_count()

    assert_error(change(alice.client, name, 424242), 404, fields=())
    assert outbox_count() == before


@pytest.mark.parametrize("name", CHANGES)
def test_a_stale_if_match_is_412_and_changes_nothing(alice: Account, post_in: Callable[[str], int], name: str) -> None:
    post_id = post_in(CHANGES[name].starts_from)
    url = reverse("api:post-detail", kwargs={"post_id": post_id})
    seen = alice.client.get(url)["ETag"]
    assert alice.client.patch(url, {"title": "Changed meanwhile", "content": "c"}, format="json").status_code == 200
    before, events = snapshot(post_id), outbox_count()

    body = assert_refused(change(alice.client, name, post_id, HTTP_IF_MATCH=seen), 412, post_id, before, events)

    assert body["message"] == f"version {seen.strip(chr(34))} is stale: the current version is {before[3]}"


@pytest.mark.parametrize("name", CHANGES)
def test_a_malformed_if_match_is_400_and_changes_nothing(
    alice: Account, post_in: Callable[[str], int], name: str
) -> None:
    post_id = post_in(CHANGES[name].starts_from)
    before, events = snapshot(post_id), outbox_count()

    body = assert_refused(change(alice.client, name, post_id, HTTP_IF_MATCH="v2"), 400, post_id, before, events)

    assert set(body["fields"]) == {"If-Match"}


# The inputs of edit and tags.


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"title": "t" * 201, "content": "c"}, ("title",)),
        ({"title": "", "content": ""}, ("title", "content")),
        ({"title": "t", "content": "c" * 100_001}, ("content",)),
        ({}, ("non_field_errors",)),  # PATCH is partial, but sends one field at least
        ({"title": "t", "content": "c", "tags": ["x"]}, ("tags",)),
        ({"title": 1, "content": "c"}, ("title",)),
        ([], ("non_field_errors",)),
    ],
)
def test_edit_refuses_broken_input(
    alice: Account, post_in: Callable[[str], int], data: Any, fields: tuple[str, ...]
) -> None:
    post_id = post_in("published")
    before, events = snapshot(post_id), outbox_count()

    response = alice.client.patch(reverse("api:post-detail", kwargs={"post_id": post_id}), data, format="json")

    assert set(assert_refused(response, 400, post_id, before, events)["fields"]) == set(fields)


@pytest.mark.parametrize(
    ("data", "kept"),
    [({"title": "Only the title"}, "content"), ({"content": "Only the content"}, "title")],
)
def test_edit_is_partial_a_field_not_sent_keeps_its_value(
    alice: Account, post_in: Callable[[str], int], data: dict[str, str], kept: str
) -> None:
    post_id = post_in("published")
    before, events = Post.objects.get(pk=post_id), outbox_count()

    response = alice.client.patch(reverse("api:post-detail", kwargs={"post_id": post_id}), data, format="json")

    assert response.status_code == 200, response.content
    after = Post.objects.get(pk=post_id)
    assert {**data, kept: getattr(before, kept)} == {"title": after.title, "content": after.content}
    assert (response.json()["version"], outbox_count()) == (before.version + 1, events + 1)
    payload = decode(
        bytes(last_event().payload), subject_key_ring()
    ).payload  # the event carries the whole result, as before
    assert (payload.title, payload.content) == (after.title, after.content)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tags": [f"t{i}" for i in range(11)]}, "at most 10 tags (got 11)"),
        ({"tags": ["Not OK"]}, "'not ok' must be 1 to 32 lower-case letters, digits or hyphens, not starting with one"),
        ({"tags": "python"}, 'Expected a list of items but got type "str".'),
        ({"tags": [1]}, "item 0: Not a valid string."),
        ({}, "This field is required."),
    ],
)
def test_tags_refuses_broken_input(
    alice: Account, post_in: Callable[[str], int], data: dict[str, Any], message: str
) -> None:
    post_id = post_in("published")
    before, events = snapshot(post_id), outbox_count()

    response = alice.client.put(reverse("api:post-tags", kwargs={"post_id": post_id}), data, format="json")

    assert assert_refused(response, 400, post_id, before, events)["fields"] == {"tags": [message]}


def test_tags_may_be_emptied_and_tags_are_shared(alice: Account, post_in: Callable[[str], int]) -> None:
    first, second = post_in("published"), post_in("draft")

    emptied = alice.client.put(reverse("api:post-tags", kwargs={"post_id": first}), {"tags": []}, format="json")
    shared = alice.client.put(reverse("api:post-tags", kwargs={"post_id": second}), {"tags": ["python"]}, format="json")

    assert emptied.json()["tags"] == []
    assert shared.json()["tags"] == ["python"]


def test_unpublished_post_can_be_published_again(alice: Account, post_in: Callable[[str], int]) -> None:
    post_id = post_in("published")
    change(alice.client, "unpublish", post_id)

    response = change(alice.client, "publish", post_id)

    assert (response.status_code, response.json()["status"], response.json()["version"]) == (200, "published", 4)
