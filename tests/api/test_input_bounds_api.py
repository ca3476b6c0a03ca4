"""Bounds before work: count and size limits answer before the input is normalized, and error bodies stay small.

How fast these answers are is measured by `bench/bounds.py` (several samples, printed), not asserted here; these
tests pin the behaviour that makes them fast: which limit answers, and that nothing past it ran.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from command_service.api.parsers import STRUCTURE_MAX, structure_count
from command_service.apps.posts.models import Post
from command_service.domain import rules
from command_service.domain.errors import FIELD_MESSAGES_MAX
from tests.api.bodies import LIMIT, SHAPES, at_limit, huge_string
from tests.api.helpers import PASSWORD, Account, assert_error, outbox_count

ERROR_BODY_MAX = 8 * 1024  # what an error body may weigh, whatever the request: N short messages per field

CREATE = {"title": "Hello", "content": "World"}
SIXTY_THOUSAND = [f"tag{n}" for n in range(60_000)]


@pytest.fixture
def targets(
    alice: Account, make_post: Callable[..., dict[str, Any]], make_comment: Callable[..., dict[str, Any]]
) -> dict[str, int]:
    """Aggregates of alice's for every endpoint to act on."""
    post_id = make_post(alice.client)["id"]
    return {"user_id": alice.id, "post_id": post_id, "comment_id": make_comment(alice.client, post_id)["id"]}


# (method, route, the URL kwarg, the endpoint's fields with valid values)
ENDPOINTS = {
    "user-register": ("post", "api:user-register", None, {"username": "newbie", "password": PASSWORD,
                                                          "display_name": "Newbie"}),
    "auth-token": ("post", "api:auth-token", None, {"username": "alice", "password": PASSWORD}),
    "user-detail": ("patch", "api:user-detail", "user_id", {"display_name": "A", "avatar_url": "https://e.org/a",
                                                           "bio": "b"}),
    "post-create": ("post", "api:post-create", None, {"title": "t", "content": "c", "tags": ["a"]}),
    "post-edit": ("patch", "api:post-detail", "post_id", {"title": "t", "content": "c"}),
    "post-tags": ("put", "api:post-tags", "post_id", {"tags": ["a"]}),
    "comment-add": ("post", "api:comment-add", "post_id", {"body": "b"}),
    "comment-edit": ("patch", "api:comment-detail", "comment_id", {"body": "b"}),
}  # fmt: skip


def _url(endpoint: str, targets: dict[str, int]) -> str:
    _, route, kwarg, _ = ENDPOINTS[endpoint]
    return reverse(route, kwargs={kwarg: targets[kwarg]} if kwarg else None)


def _send(client: Any, endpoint: str, targets: dict[str, int], raw: bytes, **headers: str) -> Any:
    return client.generic(ENDPOINTS[endpoint][0].upper(), _url(endpoint, targets), raw, "application/json", **headers)


def _assert_small_error(response: Any, *statuses: int) -> dict[str, Any]:
    """A 4xx of the error shape (one of `statuses`), whose body is small whatever the request was."""
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert len(response.content) <= ERROR_BODY_MAX, (len(response.content), response.content[:300])
    return assert_error(response, response.status_code)


# 60,000 tags: the count limit answers before any tag is read.


@pytest.mark.parametrize("tags", [SIXTY_THOUSAND, [5] * 60_000, [None] * 60_000], ids=["tags", "numbers", "nulls"])
def test_sixty_thousand_tags_are_refused_by_the_count_limit(alice: Account, tags: list[Any]) -> None:
    before = outbox_count()

    response = alice.client.post(reverse("api:post-create"), {**CREATE, "tags": tags}, format="json")

    body = _assert_small_error(response, 400)
    # The one message is the count's (items that are not even strings are not read, so not reported).
    assert body["fields"] == {"tags": [rules.tags_input_too_long(60_000)]}
    assert f"at most {rules.TAGS_MAX} tags" in body["fields"]["tags"][0]
    assert not Post.objects.exists()
    assert outbox_count() == before


def test_sixty_thousand_tags_are_refused_when_set_too(alice: Account, make_post: Callable[..., dict[str, Any]]) -> None:
    post = make_post(alice.client, tags=["python"])
    before = outbox_count()

    response = alice.client.put(
        reverse("api:post-tags", kwargs={"post_id": post["id"]}), {"tags": SIXTY_THOUSAND}, format="json"
    )

    body = _assert_small_error(response, 400)
    assert body["fields"] == {"tags": [rules.tags_input_too_long(60_000)]}
    assert list(Post.objects.get(pk=post["id"]).tags.values_list("name", flat=True)) == ["python"]
    assert outbox_count() == before


def test_a_list_at_the_input_limit_is_read_and_normalized(alice: Account) -> None:
    tags = [f" Tag{n % 10} " for n in range(rules.TAGS_INPUT_MAX)]  # 1,000 items, 10 distinct tags

    response = alice.client.post(reverse("api:post-create"), {**CREATE, "tags": tags}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["tags"] == [f"tag{n}" for n in range(10)]


def test_one_item_over_the_input_limit_is_refused_by_the_count(alice: Account) -> None:
    tags = ["python"] * (rules.TAGS_INPUT_MAX + 1)

    response = alice.client.post(reverse("api:post-create"), {**CREATE, "tags": tags}, format="json")

    assert _assert_small_error(response, 400)["fields"] == {"tags": [rules.tags_input_too_long(1001)]}


# 1,000 bad tags: the first N item errors and a count of the rest.


@pytest.mark.parametrize(
    ("tags", "first"),
    [
        ([f"Bad Tag {n}" for n in range(1000)], "'bad tag 0' must be 1 to 32 lower-case letters"),
        (["x" * (rules.TAG_INPUT_MAX + 1)] * 1000, f"a tag must be at most {rules.TAG_INPUT_MAX} characters"),
        ([5] * 1000, "item 0: Not a valid string."),  # refused by the serializer, bounded by the handler
        (["ok", None] * 500, "item 1: This field may not be null."),
    ],
    ids=["malformed", "too long", "not strings", "nulls"],
)
def test_a_thousand_bad_tags_give_n_item_messages_and_a_count(alice: Account, tags: list[Any], first: str) -> None:
    response = alice.client.post(reverse("api:post-create"), {**CREATE, "tags": tags}, format="json")

    body = _assert_small_error(response, 400)
    messages = body["fields"]["tags"]
    bad = sum(tag != "ok" for tag in tags)
    assert set(body["fields"]) == {"tags"}
    assert len(messages) == FIELD_MESSAGES_MAX + 1
    assert messages[0].startswith(first), messages
    assert messages[-1] == f"and {bad - FIELD_MESSAGES_MAX} more errors not shown"


def test_bad_tags_beside_too_many_good_ones_keep_the_count_message(alice: Account) -> None:
    tags = [f"-bad{n}" for n in range(50)] + [f"good{n}" for n in range(11)]

    response = alice.client.post(reverse("api:post-create"), {**CREATE, "tags": tags}, format="json")

    messages = _assert_small_error(response, 400)["fields"]["tags"]
    assert messages[FIELD_MESSAGES_MAX:] == ["and 40 more errors not shown", "at most 10 tags (got 11)"]


def test_a_few_bad_tags_are_all_named(alice: Account) -> None:
    tags = [f"-bad{n}" for n in range(FIELD_MESSAGES_MAX)]

    response = alice.client.post(reverse("api:post-create"), {**CREATE, "tags": tags}, format="json")

    messages = _assert_small_error(response, 400)["fields"]["tags"]
    assert messages == [f"'-bad{n}' must be 1 to 32 lower-case letters, digits or hyphens, not starting with one"
                        for n in range(FIELD_MESSAGES_MAX)]  # fmt: skip


def test_many_unknown_fields_name_the_first_n_and_count_the_rest(alice: Account) -> None:
    data = {**CREATE, **{f"extra{n:03}": 0 for n in range(500)}}

    response = alice.client.post(reverse("api:post-create"), data, format="json")

    body = _assert_small_error(response, 400)
    assert body["fields"] == {
        **{f"extra{n:03}": ["is not a known field"] for n in range(FIELD_MESSAGES_MAX)},
        "non_field_errors": [f"and {500 - FIELD_MESSAGES_MAX} more unknown fields not shown"],
    }


def test_a_huge_unknown_field_name_is_cut(alice: Account) -> None:
    response = alice.client.post(reverse("api:post-create"), {**CREATE, "k" * 100_000: 1}, format="json")

    assert _assert_small_error(response, 400)["fields"] == {"k" * 64 + "...": ["is not a known field"]}


# The structure of a body (objects, arrays, members) is counted before it is decoded.


def _structure(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + len(value) + sum(map(_structure, value.values()))
    if isinstance(value, list):
        return 1 + sum(map(_structure, value))
    return 0


@pytest.mark.parametrize(
    "doc",
    [
        '{"a": "x\\\\"}',
        '{"a": "x\\"[{:", "b": [1, {"c": []}]}',
        '["\\\\\\\\", "[", {"k": "}"}, "\\\\\\"{"]',
        json.dumps({"url": "https://e.org/{a}[b]:c", "tags": ["[", "{", ":"]}),
        # strings across the scan's 64 KiB chunks, with escaped quotes and backslashes in them
        json.dumps({"content": "[" * 70_000 + '"' + "{:" * 40_000 + "\\", "x": [{"y": "[" * 70_000}], "z": {}}),
    ],
)
def test_the_structure_is_counted_outside_strings_exactly(doc: str) -> None:
    expected = _structure(json.loads(doc))

    assert structure_count(doc, limit=expected) == expected  # past the cheap upper bound, not stopped early


def test_a_body_of_over_the_structure_limit_is_refused_before_decoding(alice: Account) -> None:
    ok = json.dumps([{}] * (STRUCTURE_MAX - 1))  # the array and its objects: exactly the limit
    over = json.dumps([{}] * STRUCTURE_MAX)

    assert assert_error(alice.client.post(reverse("api:post-create"), ok, content_type="application/json"), 400)[
        "fields"
    ] == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    body = assert_error(alice.client.post(reverse("api:post-create"), over, content_type="application/json"), 400)
    assert body == {
        "message": f"JSON parse error - more than {STRUCTURE_MAX} objects, arrays and object members",
        "fields": {},
    }


def test_brackets_and_colons_in_strings_do_not_count(alice: Account) -> None:
    content = ("{[:]} " * 16_000)[: rules.CONTENT_MAX]
    tags = ["python"] * rules.TAGS_INPUT_MAX

    response = alice.client.post(
        reverse("api:post-create"), {**CREATE, "content": content, "tags": tags}, format="json"
    )

    assert response.status_code == 201, response.content[:300]
    assert response.json()["content"] == content


# Bodies at the 1 MiB limit, of every shape: a 4xx of the error shape, small, and nothing written.


def test_the_shapes_are_at_the_limit() -> None:
    assert {name: len(build()) for name, build in SHAPES.items()} == dict.fromkeys(SHAPES, LIMIT)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_body_at_the_limit_is_a_small_4xx(alice: Account, targets: dict[str, int], endpoint: str, shape: str) -> None:
    before = outbox_count()

    response = _send(alice.client, endpoint, targets, SHAPES[shape]())

    _assert_small_error(response, 400)
    assert outbox_count() == before


@pytest.mark.parametrize("shape", SHAPES)
def test_a_body_at_the_limit_with_an_idempotency_key_is_a_small_4xx(
    alice: Account, targets: dict[str, int], shape: str
) -> None:
    response = _send(alice.client, "post-create", targets, SHAPES[shape](), HTTP_IDEMPOTENCY_KEY="k1")

    _assert_small_error(response, 400)
    assert not Post.objects.filter(author_id=alice.id, title="t").exists()


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [(endpoint, field) for endpoint, (*_, fields) in ENDPOINTS.items() for field in fields if field != "tags"],
)
def test_a_huge_string_in_any_field_is_a_small_4xx(
    alice: Account, targets: dict[str, int], endpoint: str, field: str
) -> None:
    others = {name: value for name, value in ENDPOINTS[endpoint][3].items() if name not in (field, "tags")}
    before = outbox_count()

    response = _send(alice.client, endpoint, targets, huge_string(field, others))

    if endpoint == "auth-token":  # no rule of the input; the credentials are just wrong
        _assert_small_error(response, 401)
    else:
        assert _assert_small_error(response, 400)["fields"].keys() == {field}
    assert outbox_count() == before


def test_one_byte_over_the_limit_is_a_413_before_parsing(alice: Account, targets: dict[str, int]) -> None:
    raw = at_limit("[0", ",0", "]") + b" "

    response = _send(alice.client, "post-create", targets, raw)

    assert str(LIMIT) in _assert_small_error(response, 413)["message"]


def test_a_valid_body_near_the_limit_still_succeeds(alice: Account) -> None:
    raw = json.dumps({**CREATE, "content": "c" * rules.CONTENT_MAX, "tags": ["python"]}).encode().ljust(LIMIT)

    response = alice.client.generic("POST", reverse("api:post-create"), raw, "application/json")

    assert response.status_code == 201, response.content[:300]
