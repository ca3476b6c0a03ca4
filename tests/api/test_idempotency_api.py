"""Idempotency-Key on POST: a retry replays the first response and writes nothing; a reused key is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from command_service.apps.comments.models import Comment
from command_service.apps.idempotency.models import IdempotencyRecord
from command_service.apps.posts.models import Post
from command_service.apps.users.models import User
from tests.api.helpers import PASSWORD, Account, assert_error, outbox_count

KEY = "6f1c0a8e-retry-me"
REPLAYED = "Idempotent-Replayed"


def _rows() -> tuple[int, int, int, int]:
    return User.objects.count(), Post.objects.count(), Comment.objects.count(), outbox_count()


@pytest.fixture
def creations(
    anon: APIClient, alice: Account, make_post: Callable[..., dict[str, Any]]
) -> dict[str, tuple[APIClient, str, dict[str, Any]]]:
    """For each creating POST: the client, the URL and a valid body."""
    post_id = make_post(alice.client)["id"]
    return {
        "register": (
            anon,
            reverse("api:user-register"),
            {"username": "dave", "password": PASSWORD, "display_name": "D"},
        ),
        "post": (alice.client, reverse("api:post-create"), {"title": "t", "content": "c", "tags": ["x"]}),
        "comment": (alice.client, reverse("api:comment-add", kwargs={"post_id": post_id}), {"body": "hi"}),
    }


@pytest.mark.parametrize("what", ["register", "post", "comment"])
def test_a_retry_replays_the_first_response_without_writing(
    creations: dict[str, tuple[APIClient, str, dict[str, Any]]], what: str
) -> None:
    client, url, data = creations[what]
    before = _rows()

    first = client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    after_first = _rows()
    retry = client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == 201, first.json()
    assert not first.has_header(REPLAYED)
    assert retry.status_code == 201
    assert retry[REPLAYED] == "true"
    assert retry.json() == first.json()
    for header in ("ETag", "Location", "X-Consistency-Token"):
        assert retry[header] == first[header]
    assert after_first[3] == before[3] + 1  # one event
    assert sum(after_first[:3]) == sum(before[:3]) + 1  # one row
    assert _rows() == after_first
    assert IdempotencyRecord.objects.count() == 1


def test_a_retried_transition_replays_instead_of_conflicting(alice: Account, make_post: Callable[..., Any]) -> None:
    post_id = make_post(alice.client, publish=False)["id"]
    url = reverse("api:post-publish", kwargs={"post_id": post_id})
    before = outbox_count()

    first = alice.client.post(url, HTTP_IDEMPOTENCY_KEY=KEY)
    retry = alice.client.post(url, HTTP_IDEMPOTENCY_KEY=KEY)
    without_key = alice.client.post(url)

    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.json() == first.json()
    assert retry["ETag"] == first["ETag"] == '"2"'
    assert retry[REPLAYED] == "true"
    assert outbox_count() == before + 1
    assert_error(without_key, 409)


@pytest.mark.parametrize("name", ["api:post-unpublish", "api:post-archive"])
def test_other_transitions_are_idempotent_too(alice: Account, make_post: Callable[..., Any], name: str) -> None:
    url = reverse(name, kwargs={"post_id": make_post(alice.client)["id"]})
    before = outbox_count()

    first = alice.client.post(url, HTTP_IDEMPOTENCY_KEY=KEY)
    retry = alice.client.post(url, HTTP_IDEMPOTENCY_KEY=KEY)

    assert (first.status_code, retry.status_code, retry[REPLAYED]) == (200, 200, "true")
    assert outbox_count() == before + 1


@pytest.mark.parametrize("what", ["register", "post", "comment"])
def test_the_same_key_with_another_body_is_422(
    creations: dict[str, tuple[APIClient, str, dict[str, Any]]], what: str
) -> None:
    client, url, data = creations[what]
    client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    before = _rows()
    changed = {**data, next(iter(data)): "other-value"}

    response = client.post(url, changed, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert assert_error(response, 422, fields=())["message"] == "this Idempotency-Key was used with a different request"
    assert _rows() == before


def test_the_same_key_on_another_endpoint_is_422(alice: Account, make_post: Callable[..., Any]) -> None:
    first, second = (make_post(alice.client, publish=False)["id"] for _ in range(2))
    alice.client.post(reverse("api:post-publish", kwargs={"post_id": first}), HTTP_IDEMPOTENCY_KEY=KEY)
    before = outbox_count()

    response = alice.client.post(reverse("api:post-publish", kwargs={"post_id": second}), HTTP_IDEMPOTENCY_KEY=KEY)

    assert_error(response, 422)
    assert outbox_count() == before
    assert Post.objects.get(pk=second).status == "draft"


def test_the_same_key_from_another_user_is_independent(alice: Account, bob: Account) -> None:
    data = {"title": "t", "content": "c"}

    mine = alice.client.post(reverse("api:post-create"), data, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    theirs = bob.client.post(reverse("api:post-create"), data, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert not theirs.has_header(REPLAYED)
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["author"]["id"] == bob.id
    assert Post.objects.count() == 2


def test_an_expired_key_runs_afresh(alice: Account, settings: Any) -> None:
    settings.IDEMPOTENCY_KEY_TTL_SECONDS = 0
    data = {"title": "t", "content": "c"}
    before = outbox_count()

    first = alice.client.post(reverse("api:post-create"), data, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    second = alice.client.post(reverse("api:post-create"), data, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert (first.status_code, second.status_code) == (201, 201)
    assert not second.has_header(REPLAYED)
    assert second.json()["id"] != first.json()["id"]
    assert outbox_count() == before + 2
    assert IdempotencyRecord.objects.count() == 1  # the expired record was replaced


def test_a_key_past_its_expiry_runs_afresh_and_is_then_remembered_again(alice: Account) -> None:
    data = {"title": "t", "content": "c"}
    first = alice.client.post(reverse("api:post-create"), data, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    IdempotencyRecord.objects.update(expires_at=datetime.now(UTC) - timedelta(seconds=1))

    second = alice.client.post(reverse("api:post-create"), data, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    third = alice.client.post(reverse("api:post-create"), data, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert second.json()["id"] != first.json()["id"]
    assert not second.has_header(REPLAYED)
    assert third[REPLAYED] == "true"
    assert third.json() == second.json()
    assert Post.objects.count() == 2


def test_a_failed_request_is_not_remembered(alice: Account) -> None:
    url = reverse("api:post-create")

    failed = alice.client.post(url, {"title": "", "content": "c"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    fixed = alice.client.post(url, {"title": "t", "content": "c"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert_error(failed, 400)
    assert fixed.status_code == 201
    assert not fixed.has_header(REPLAYED)


@pytest.mark.parametrize("key", ["k" * 256, "", "tab\there", "bell\x07", "caf\u00e9", " leading", "trailing "])
def test_an_invalid_key_is_400(alice: Account, key: str) -> None:
    before = outbox_count()

    response = alice.client.post(
        reverse("api:post-create"), {"title": "t", "content": "c"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert assert_error(response, 400, fields=("Idempotency-Key",))["fields"]["Idempotency-Key"] == [
        "must be 1 to 255 printable ASCII characters, no space at either end"
    ]
    assert outbox_count() == before
    assert not Post.objects.exists()


def test_the_longest_key_is_accepted(alice: Account) -> None:
    response = alice.client.post(
        reverse("api:post-create"), {"title": "t", "content": "c"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 255
    )

    assert response.status_code == 201


def test_the_key_is_checked_after_authentication(anon: APIClient) -> None:
    response = anon.post(reverse("api:post-create"), {"title": "t"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 300)

    assert_error(response, 401)


def test_anonymous_clients_at_different_addresses_never_replay_each_others_response(
    api: Callable[[], APIClient],
) -> None:
    url = reverse("api:user-register")
    dave = {"username": "dave", "password": PASSWORD, "display_name": "D"}
    here, there = api(), api()

    mine = here.post(url, dave, format="json", HTTP_IDEMPOTENCY_KEY=KEY, REMOTE_ADDR="203.0.113.7")
    same_body = there.post(url, dave, format="json", HTTP_IDEMPOTENCY_KEY=KEY, REMOTE_ADDR="198.51.100.9")
    other_body = there.post(
        url, {**dave, "username": "erin"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY, REMOTE_ADDR="198.51.100.10"
    )
    retry = here.post(url, dave, format="json", HTTP_IDEMPOTENCY_KEY=KEY, REMOTE_ADDR="203.0.113.7")

    assert mine.status_code == 201, mine.json()
    assert_error(same_body, 409, fields=("username",))  # its own answer: not the other client's 201 replayed
    assert other_body.status_code == 201, other_body.json()  # not 422: the key is not the other client's
    assert not other_body.has_header(REPLAYED)
    assert other_body.json()["id"] != mine.json()["id"]
    assert (retry.status_code, retry[REPLAYED]) == (201, "true")  # the same client still replays its own
    assert retry.json() == mine.json()
    assert IdempotencyRecord.objects.count() == 2
    assert not IdempotencyRecord.objects.filter(scope__contains="203.0.113.7").exists()  # addresses are digested


def test_an_anonymous_client_behind_a_trusted_proxy_is_scoped_by_its_forwarded_address(
    api: Callable[[], APIClient], settings: Any
) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    url = reverse("api:user-register")
    proxy = "10.0.0.2"

    first = api().post(url, {"username": "dave", "password": PASSWORD, "display_name": "D"}, format="json",
                       HTTP_IDEMPOTENCY_KEY=KEY, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")  # fmt: skip
    second = api().post(url, {"username": "erin", "password": PASSWORD, "display_name": "E"}, format="json",
                        HTTP_IDEMPOTENCY_KEY=KEY, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.9")  # fmt: skip

    assert (first.status_code, second.status_code) == (201, 201)
    assert not second.has_header(REPLAYED)
