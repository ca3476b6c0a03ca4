"""A sweep of every write endpoint with garbage bodies: always a 4xx of the one error shape, never a 500."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from tests.api.helpers import Account, assert_error, last_event, outbox_count

FIELD_NAMES = ("username", "password", "display_name", "avatar_url", "bio", "title", "content", "tags", "body")


def _nested(depth: int) -> str:
    return '{"title": ' + "[" * depth + "]" * depth + "}"


GARBAGE = {
    "list": "[]",
    "list of numbers": "[1, 2, 3]",
    "null": "null",
    "true": "true",
    "string": '"title"',
    "number": "42",
    "huge float": "1e999",
    "huge int": "123456789012345678901234567890123456789",
    "too many digits": "9" * 5000,
    "empty key": '{"": ""}',
    "nested objects": json.dumps({name: {"a": {"b": [1, {"c": None}]}} for name in FIELD_NAMES}),
    "nested lists": json.dumps({name: [[["x"]]] for name in FIELD_NAMES}),
    "huge numbers": json.dumps({name: 10**40 for name in FIELD_NAMES}),
    "huge floats": '{"title": 1e400, "content": -1e400, "tags": [1e400], "body": 1e400, "bio": 1e400}',
    "nulls": json.dumps(dict.fromkeys(FIELD_NAMES)),
    "numbers in lists": json.dumps({name: list(range(1000)) for name in FIELD_NAMES}),
    "objects in lists": json.dumps({"tags": [{"name": "x"}] * 20}),
    "deep nesting": _nested(800),
    "deeper than python": _nested(50_000),
    "truncated": '{"title": "t", "content": ',
    "trailing garbage": '{"title": "t"} {}',
    "duplicate keys": '{"title": 1, "title": 2}',
    "not utf-8": '{"title": "\udcff"}',
}

# (method, route, the URL kwargs' source, whether the endpoint reads a body)
ENDPOINTS = {
    "user-register": ("post", "api:user-register", None, True),
    "auth-token": ("post", "api:auth-token", None, True),
    "user-detail": ("patch", "api:user-detail", "user_id", True),
    "post-create": ("post", "api:post-create", None, True),
    "post-edit": ("patch", "api:post-detail", "post_id", True),
    "post-tags": ("put", "api:post-tags", "post_id", True),
    "post-publish": ("post", "api:post-publish", "draft_id", False),
    "post-unpublish": ("post", "api:post-unpublish", "post_id", False),
    "post-archive": ("post", "api:post-archive", "post_id", False),
    "post-delete": ("delete", "api:post-detail", "post_id", False),
    "comment-add": ("post", "api:comment-add", "post_id", True),
    "comment-edit": ("patch", "api:comment-detail", "comment_id", True),
    "comment-delete": ("delete", "api:comment-detail", "comment_id", False),
}
IDEMPOTENT = ("user-register", "post-create", "post-publish", "post-unpublish", "post-archive", "comment-add")
# What a change without a body answers and writes, whatever body comes with it: (status, event type)
BODYLESS = {
    "post-publish": (200, "post.published"),
    "post-unpublish": (200, "post.unpublished"),
    "post-archive": (200, "post.archived"),
    "post-delete": (204, "post.deleted"),
    "comment-delete": (204, "comment.deleted"),
}
UNPARSEABLE = ("too many digits", "deeper than python", "truncated", "trailing garbage", "not utf-8")  # not JSON


@pytest.fixture
def targets(
    alice: Account, make_post: Callable[..., dict[str, Any]], make_comment: Callable[..., dict[str, Any]]
) -> dict[str, int]:
    """Aggregates of alice's for every endpoint to act on."""
    post_id = make_post(alice.client)["id"]
    return {
        "user_id": alice.id,
        "post_id": post_id,
        "draft_id": make_post(alice.client, publish=False)["id"],
        "comment_id": make_comment(alice.client, post_id)["id"],
    }


def _send(alice: Account, targets: dict[str, int], endpoint: str, raw: str, **headers: str) -> Any:
    method, route, kwarg, _ = ENDPOINTS[endpoint]
    url = reverse(route, kwargs={kwarg.replace("draft_id", "post_id"): targets[kwarg]} if kwarg else None)
    encoded = raw.encode("utf-8", "surrogateescape")
    return alice.client.generic(method.upper(), url, encoded, content_type="application/json", **headers)


def _assert_changed_once(response: Any, endpoint: str, targets: dict[str, int], before: int) -> None:
    """The body-less change went through as it does without a body: its status, and exactly its one event."""
    status, event_type = BODYLESS[endpoint]
    assert response.status_code == status, response.content
    assert outbox_count() == before + 1
    event = last_event()
    assert (event.event_type, event.aggregate_id) == (event_type, str(targets[ENDPOINTS[endpoint][2]]))


@pytest.mark.parametrize("garbage", GARBAGE)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_garbage_is_a_4xx_of_the_error_shape(
    alice: Account, targets: dict[str, int], endpoint: str, garbage: str
) -> None:
    before = outbox_count()

    response = _send(alice, targets, endpoint, GARBAGE[garbage])

    if ENDPOINTS[endpoint][3]:
        assert_error(response, 400)
        assert outbox_count() == before
    else:  # a change without a body does not read one: it succeeds as without the garbage
        _assert_changed_once(response, endpoint, targets, before)


@pytest.mark.parametrize("garbage", GARBAGE)
@pytest.mark.parametrize("endpoint", IDEMPOTENT)
def test_garbage_with_an_idempotency_key_is_parsed_even_where_the_change_takes_no_body(
    alice: Account, targets: dict[str, int], endpoint: str, garbage: str
) -> None:
    """The key makes the view read the body (to fingerprint it), even where the change itself takes none: a body
    that is not JSON is a 400 there too; JSON of any shape is fingerprinted and the change goes through."""
    before = outbox_count()

    response = _send(alice, targets, endpoint, GARBAGE[garbage], HTTP_IDEMPOTENCY_KEY="k1")

    if ENDPOINTS[endpoint][3] or garbage in UNPARSEABLE:
        assert_error(response, 400)
        assert outbox_count() == before
    else:
        _assert_changed_once(response, endpoint, targets, before)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_empty_object_is_refused_or_a_valid_no_op(alice: Account, targets: dict[str, int], endpoint: str) -> None:
    before = outbox_count()

    response = _send(alice, targets, endpoint, "{}")

    if not ENDPOINTS[endpoint][3]:
        _assert_changed_once(response, endpoint, targets, before)
    else:  # a body is required, and a PATCH (partial) needs one field at least
        assert_error(response, 400)
        assert outbox_count() == before
