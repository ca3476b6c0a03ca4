"""Users through the API: register, obtain a token, read a profile, change one's own profile."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from command_service.apps.users.models import User
from tests.api.helpers import PASSWORD, Account, assert_error, assert_one_event, outbox_count

REGISTER = {"username": "carol_99", "password": PASSWORD, "display_name": "Carol"}


def _detail(user_id: int) -> str:
    return reverse("api:user-detail", kwargs={"user_id": user_id})


# Register.


def test_register_creates_the_user_with_headers_and_one_event(anon: APIClient) -> None:
    before = outbox_count()

    response = anon.post(reverse("api:user-register"), REGISTER, format="json")

    assert response.status_code == 201
    body = response.json()
    user_id = body["id"]
    assert body == {
        "id": user_id,
        "username": "carol_99",
        "display_name": "Carol",
        "avatar_url": None,
        "bio": "",
        "version": 1,
        "date_joined": body["date_joined"],
    }
    assert response["Location"].endswith(_detail(user_id))
    assert response["ETag"] == '"1"'
    assert response["X-Consistency-Token"] == f"user:{user_id}:1"
    assert_one_event(before, "user.registered", "user", user_id, 1)
    assert User.objects.get(pk=user_id).check_password(PASSWORD)


def test_register_trims_the_display_name(anon: APIClient) -> None:
    response = anon.post(reverse("api:user-register"), {**REGISTER, "display_name": "  Carol  "}, format="json")

    assert response.status_code == 201
    assert response.json()["display_name"] == "Carol"


@pytest.mark.parametrize("taken", ["carol_99", "CAROL_99"])
def test_register_refuses_a_taken_username(anon: APIClient, taken: str) -> None:
    anon.post(reverse("api:user-register"), REGISTER, format="json")
    before = outbox_count()

    response = anon.post(reverse("api:user-register"), {**REGISTER, "username": taken}, format="json")

    body = assert_error(response, 409, fields=("username",))
    assert body["fields"]["username"] == ["is taken"]
    assert outbox_count() == before
    assert User.objects.count() == 1


def test_the_database_refuses_a_username_taken_in_another_case() -> None:
    # Rows saved directly: create_user registers through the service, which refuses before the database would.
    User(username="Carol_99", display_name="Carol").save()

    with pytest.raises(IntegrityError), transaction.atomic():
        User(username="cAROL_99", display_name="Carol").save()

    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"username": "ab"}, "username", "must be 3 to 30 letters, digits or underscores"),
        ({"username": "a" * 31}, "username", "must be 3 to 30 letters, digits or underscores"),
        ({"username": "has space"}, "username", "must be 3 to 30 letters, digits or underscores"),
        ({"username": "dash-ed"}, "username", "must be 3 to 30 letters, digits or underscores"),
        ({"username": "newline\n"}, "username", "must be 3 to 30 letters, digits or underscores"),
        ({"password": "short"}, "password", "must be at least 8 characters"),
        ({"password": "12345678"}, "password", "must not be only digits"),
        ({"display_name": ""}, "display_name", "must not be blank"),
        ({"display_name": "   "}, "display_name", "must not be blank"),
        ({"display_name": "x" * 81}, "display_name", "must be at most 80 characters (got 81)"),
    ],
)
def test_register_refuses_a_broken_field(anon: APIClient, change: dict[str, str], field: str, message: str) -> None:
    response = anon.post(reverse("api:user-register"), {**REGISTER, **change}, format="json")

    body = assert_error(response, 400, fields=(field,))
    assert body["fields"][field] == [message]
    assert outbox_count() == 0
    assert not User.objects.exists()


def test_register_reports_every_broken_field_at_once(anon: APIClient) -> None:
    response = anon.post(
        reverse("api:user-register"), {"username": "x", "password": "1", "display_name": ""}, format="json"
    )

    assert_error(response, 400, fields=("username", "password", "display_name"))


def test_register_refuses_missing_and_unknown_fields(anon: APIClient) -> None:
    response = anon.post(reverse("api:user-register"), {"username": "carol", "is_staff": True}, format="json")

    body = assert_error(response, 400, fields=("password", "display_name", "is_staff"))
    assert body["fields"]["is_staff"] == ["is not a known field"]
    assert body["fields"]["password"] == ["This field is required."]


def test_register_refuses_a_non_string_password(anon: APIClient) -> None:
    response = anon.post(reverse("api:user-register"), {**REGISTER, "password": 12345678901}, format="json")

    assert assert_error(response, 400, fields=("password",))["fields"]["password"] == ["Not a valid string."]


# Token.


def test_token_is_issued_for_the_right_password_and_authenticates(
    anon: APIClient, api: Callable[[], APIClient]
) -> None:
    user_id = anon.post(reverse("api:user-register"), REGISTER, format="json").json()["id"]

    response = anon.post(reverse("api:auth-token"), {"username": "carol_99", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "user_id", "expires_at"}
    assert body["user_id"] == user_id
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    changed = client.patch(_detail(user_id), {"bio": "hello"}, format="json")
    assert changed.status_code == 200
    # Every sign-in is a token of its own (tests/api/test_auth_tokens_api.py: expiry, logout, password change).
    again = anon.post(reverse("api:auth-token"), {"username": "carol_99", "password": PASSWORD}, format="json")
    assert again.json()["token"] != body["token"]


@pytest.mark.parametrize(
    "credentials",
    [{"username": "carol_99", "password": "wrong password"}, {"username": "nobody", "password": PASSWORD}],
)
def test_token_refuses_wrong_credentials(anon: APIClient, credentials: dict[str, str]) -> None:
    anon.post(reverse("api:user-register"), REGISTER, format="json")

    response = anon.post(reverse("api:auth-token"), credentials, format="json")

    assert assert_error(response, 401, fields=())["message"] == "wrong username or password"


def test_token_refuses_missing_fields(anon: APIClient) -> None:
    response = anon.post(reverse("api:auth-token"), {}, format="json")

    assert_error(response, 400, fields=("username", "password"))


def test_a_bad_token_is_401_even_where_anonymous_callers_are_allowed(anon: APIClient, alice: Account) -> None:
    anon.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = anon.get(_detail(alice.id))

    assert_error(response, 401, fields=())


# Detail.


def test_user_detail_is_public_with_an_etag(anon: APIClient, alice: Account) -> None:
    response = anon.get(_detail(alice.id))

    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    body = response.json()
    assert (body["id"], body["username"], body["display_name"], body["version"]) == (alice.id, "alice", "Alice", 1)
    assert "password" not in body
    assert "email" not in body


def test_user_detail_of_nobody_is_404(anon: APIClient) -> None:
    assert_error(anon.get(_detail(424242)), 404, fields=())


def test_user_detail_of_an_inactive_user_is_404(anon: APIClient, alice: Account) -> None:
    User.objects.filter(pk=alice.id).update(is_active=False)

    assert_error(anon.get(_detail(alice.id)), 404, fields=())


# Profile change.


def test_profile_change_bumps_the_version(alice: Account) -> None:
    before = outbox_count()

    response = alice.client.patch(
        _detail(alice.id),
        {"display_name": " Alice A. ", "avatar_url": "https://example.com/a.png", "bio": "Writes things."},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["display_name"], body["avatar_url"], body["bio"], body["version"]) == (
        "Alice A.",
        "https://example.com/a.png",
        "Writes things.",
        2,
    )
    assert response["ETag"] == '"2"'
    assert response["X-Consistency-Token"] == f"user:{alice.id}:2"
    assert_one_event(before, "user.profile_changed", "user", alice.id, 2)


def test_profile_change_keeps_fields_not_given_and_null_removes_the_avatar(alice: Account) -> None:
    alice.client.patch(_detail(alice.id), {"avatar_url": "https://example.com/a.png", "bio": "b"}, format="json")

    response = alice.client.patch(_detail(alice.id), {"avatar_url": None}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["display_name"], body["avatar_url"], body["bio"], body["version"]) == ("Alice", None, "b", 3)


def test_profile_change_with_the_current_version_succeeds(alice: Account) -> None:
    response = alice.client.patch(_detail(alice.id), {"bio": "x"}, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 200
    assert response["ETag"] == '"2"'


def test_profile_change_of_another_user_is_403(alice: Account, bob: Account) -> None:
    before = outbox_count()

    response = bob.client.patch(_detail(alice.id), {"bio": "hacked"}, format="json")

    assert_error(response, 403, fields=())
    assert User.objects.get(pk=alice.id).bio == ""
    assert outbox_count() == before


def test_profile_change_is_403_even_for_staff(alice: Account, staff: Account) -> None:
    assert_error(staff.client.patch(_detail(alice.id), {"bio": "x"}, format="json"), 403, fields=())


def test_profile_change_of_nobody_is_404(alice: Account) -> None:
    assert_error(alice.client.patch(_detail(424242), {"bio": "x"}, format="json"), 404, fields=())


def test_profile_change_anonymous_is_401(anon: APIClient, alice: Account) -> None:
    before = outbox_count()

    assert_error(anon.patch(_detail(alice.id), {"bio": "x"}, format="json"), 401, fields=())
    assert outbox_count() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"avatar_url": "not a url"}, "avatar_url"),
        ({"avatar_url": "ftp://example.com/a.png"}, "avatar_url"),
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"avatar_url": "https://example.com/" + "a" * 500}, "avatar_url"),
        ({"avatar_url": 5}, "avatar_url"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "x" * 81}, "display_name"),
        ({"display_name": None}, "display_name"),
        ({"bio": "x" * 1001}, "bio"),
        ({"email": "a@example.com"}, "email"),
        ({"version": 7}, "version"),
    ],
)
def test_profile_change_refuses_a_broken_field(alice: Account, change: dict[str, object], field: str) -> None:
    before = outbox_count()

    response = alice.client.patch(_detail(alice.id), change, format="json")

    assert_error(response, 400, fields=(field,))
    assert User.objects.get(pk=alice.id).version == 1
    assert outbox_count() == before


def test_profile_change_with_a_stale_if_match_is_412_and_changes_nothing(alice: Account) -> None:
    alice.client.patch(_detail(alice.id), {"bio": "first"}, format="json")
    before = outbox_count()

    response = alice.client.patch(_detail(alice.id), {"bio": "second"}, format="json", HTTP_IF_MATCH='"1"')

    assert_error(response, 412, fields=())
    user = User.objects.get(pk=alice.id)
    assert (user.bio, user.version) == ("first", 2)
    assert outbox_count() == before


@pytest.mark.parametrize("header", ["1", '"one"', '"1", "2"', 'W/"', '"1234567890123"'])
def test_profile_change_with_a_malformed_if_match_is_400(alice: Account, header: str) -> None:
    response = alice.client.patch(_detail(alice.id), {"bio": "x"}, format="json", HTTP_IF_MATCH=header)

    assert_error(response, 400, fields=("If-Match",))
    assert User.objects.get(pk=alice.id).version == 1


def test_profile_change_accepts_a_weak_etag_and_a_star(alice: Account) -> None:
    assert alice.client.patch(_detail(alice.id), {"bio": "x"}, format="json", HTTP_IF_MATCH='W/"1"').status_code == 200
    assert alice.client.patch(_detail(alice.id), {"bio": "y"}, format="json", HTTP_IF_MATCH="*").status_code == 200
