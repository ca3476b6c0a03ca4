"""Tokens that expire and can be revoked, the password change that revokes the others, and the password rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.password_validation import get_default_password_validators
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from command_service.apps.users.models import User
from command_service.apps.users.passwords import password_problems
from command_service.domain import rules
from tests.api.helpers import PASSWORD, Account, assert_error

NEW_PASSWORD = "a brand new passphrase"


def _sign_in(client: APIClient, username: str, password: str = PASSWORD) -> Any:
    return client.post(reverse("api:auth-token"), {"username": username, "password": password}, format="json")


def _client_of(api: Callable[[], APIClient], token: str) -> APIClient:
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _bio(client: APIClient, account: Account, bio: str = "hello") -> Any:
    """A write that needs a valid token: the account changes its own bio."""
    return client.patch(reverse("api:user-detail", kwargs={"user_id": account.id}), {"bio": bio}, format="json")


def _change_password(client: APIClient, old: str, new: str) -> Any:
    return client.post(reverse("api:auth-password"), {"old_password": old, "new_password": new}, format="json")


# Expiry.


def test_a_token_expires_after_the_configured_lifetime(anon: APIClient, alice: Account, settings: Any) -> None:
    settings.AUTH_TOKEN_TTL_SECONDS = 120
    before = timezone.now()

    body = _sign_in(anon, "alice").json()

    expires_at = datetime.fromisoformat(body["expires_at"])
    assert before + timedelta(seconds=120) <= expires_at <= timezone.now() + timedelta(seconds=120)
    assert AuthToken.objects.get(token_key=body["token"][:15]).expiry == expires_at


def test_an_expired_token_is_401_with_the_error_body_and_is_deleted(
    api: Callable[[], APIClient], anon: APIClient, alice: Account
) -> None:
    token = _sign_in(anon, "alice").json()["token"]
    client = _client_of(api, token)
    assert _bio(client, alice).status_code == 200
    AuthToken.objects.filter(token_key=token[:15]).update(expiry=timezone.now() - timedelta(seconds=1))

    assert assert_error(_bio(client, alice, "later"), 401, fields=())["message"] == "Invalid token."
    assert not AuthToken.objects.filter(token_key=token[:15]).exists()
    assert assert_error(client.get(reverse("api:user-detail", kwargs={"user_id": alice.id})), 401)


def test_signing_in_prunes_expired_tokens_and_keeps_at_most_the_newest_few(
    api: Callable[[], APIClient], anon: APIClient, alice: Account, settings: Any
) -> None:
    settings.AUTH_TOKENS_PER_USER = 3
    AuthToken.objects.filter(user_id=alice.id).update(expiry=timezone.now() - timedelta(seconds=1))
    tokens = [_sign_in(anon, "alice").json()["token"] for _ in range(4)]

    assert AuthToken.objects.filter(user_id=alice.id).count() == 3
    assert_error(_bio(_client_of(api, tokens[0]), alice), 401)  # the oldest was dropped
    assert all(_bio(_client_of(api, token), alice, token[:5]).status_code == 200 for token in tokens[1:])


@pytest.mark.parametrize("header", ["Token \xff\xfe", "Token a b", "Token"])
def test_a_malformed_token_is_401_not_500(anon: APIClient, alice: Account, header: str) -> None:
    anon.credentials(HTTP_AUTHORIZATION=header)

    assert_error(anon.get(reverse("api:user-detail", kwargs={"user_id": alice.id})), 401)


def test_an_inactive_user_cannot_sign_in_and_their_tokens_are_refused(anon: APIClient, alice: Account) -> None:
    User.objects.filter(pk=alice.id).update(is_active=False)

    assert assert_error(_bio(alice.client, alice), 401, fields=())["message"] == "User inactive or deleted."
    assert_error(_sign_in(anon, "alice"), 401, fields=())


# Logout.


def test_logout_revokes_the_token_it_was_sent_with_only(
    api: Callable[[], APIClient], anon: APIClient, alice: Account
) -> None:
    other = _client_of(api, _sign_in(anon, "alice").json()["token"])

    response = alice.client.post(reverse("api:auth-logout"))

    assert response.status_code == 204
    assert assert_error(_bio(alice.client, alice), 401, fields=())["message"] == "Invalid token."
    assert_error(alice.client.post(reverse("api:auth-logout")), 401)
    assert _bio(other, alice).status_code == 200


def test_logout_needs_a_token(anon: APIClient) -> None:
    assert_error(anon.post(reverse("api:auth-logout")), 401, fields=())


# Password change.


def test_a_password_change_keeps_this_token_revokes_the_others_and_replaces_the_password(
    api: Callable[[], APIClient], anon: APIClient, alice: Account
) -> None:
    other = _client_of(api, _sign_in(anon, "alice").json()["token"])

    response = _change_password(alice.client, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 204
    assert _bio(alice.client, alice).status_code == 200
    assert assert_error(_bio(other, alice), 401, fields=())["message"] == "Invalid token."
    assert_error(_sign_in(anon, "alice"), 401)
    assert _sign_in(anon, "alice", NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize("old", ["not my password", "x" * (rules.PASSWORD_MAX + 1)])
def test_a_password_change_with_a_wrong_old_password_changes_nothing(
    api: Callable[[], APIClient], anon: APIClient, alice: Account, old: str
) -> None:
    other = _client_of(api, _sign_in(anon, "alice").json()["token"])

    body = assert_error(_change_password(alice.client, old, NEW_PASSWORD), 400, fields=("old_password",))

    assert body["fields"]["old_password"] == ["is not the current password"]
    assert _bio(other, alice).status_code == 200
    assert _sign_in(anon, "alice").status_code == 200


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("short", "must be at least 8 characters"),
        ("87654321", "must not be only digits"),
        ("password123", "This password is too common."),
        ("alice!!!", "The password is too similar to the username."),
        ("y" * (rules.PASSWORD_MAX + 1), f"must be at most {rules.PASSWORD_MAX} characters"),
    ],
)
def test_a_password_change_applies_the_password_rules(anon: APIClient, alice: Account, new: str, message: str) -> None:
    body = assert_error(_change_password(alice.client, PASSWORD, new), 400, fields=("new_password",))

    assert body["fields"]["new_password"] == [message]
    assert _sign_in(anon, "alice").status_code == 200


def test_a_password_change_reports_both_fields_at_once(alice: Account) -> None:
    assert_error(_change_password(alice.client, "wrong", "password123"), 400, fields=("old_password", "new_password"))


def test_a_password_change_needs_a_token_and_both_fields(anon: APIClient, alice: Account) -> None:
    assert_error(_change_password(anon, PASSWORD, NEW_PASSWORD), 401, fields=())
    body = assert_error(alice.client.post(reverse("api:auth-password"), {}, format="json"), 400)
    assert set(body["fields"]) == {"old_password", "new_password"}


# The password rules at registration.


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password123", "This password is too common."),
        ("qwertyuiop", "This password is too common."),
        ("carol_99!!", "The password is too similar to the username."),
        ("Caroline Smithers", "The password is too similar to the display name."),
    ],
)
def test_registration_applies_the_password_rules(anon: APIClient, password: str, message: str) -> None:
    body = {"username": "carol_99", "password": password, "display_name": "Caroline Smithers"}

    response = anon.post(reverse("api:user-register"), body, format="json")

    assert assert_error(response, 400, fields=("password",))["fields"]["password"] == [message]
    assert not User.objects.exists()


def test_registration_reports_the_password_rules_with_the_other_fields(anon: APIClient) -> None:
    body = {"username": "x", "password": "password123", "display_name": ""}

    response = anon.post(reverse("api:user-register"), body, format="json")

    assert_error(response, 400, fields=("username", "password", "display_name"))


def test_the_domain_floor_and_the_validators_agree() -> None:
    """The domain's cheap checks refuse nothing the validators (the rule) would accept."""
    by_name = {type(validator).__name__: validator for validator in get_default_password_validators()}
    assert set(by_name) == {
        "UserAttributeSimilarityValidator", "MinimumLengthValidator", "CommonPasswordValidator",
        "NumericPasswordValidator",
    }  # fmt: skip
    assert by_name["MinimumLengthValidator"].min_length == rules.PASSWORD_MIN
    someone = User(username="someone", display_name="Someone")
    for refused_by_the_domain in ("a" * (rules.PASSWORD_MIN - 1), "9" * rules.PASSWORD_MIN, "98765432"):
        assert password_problems(refused_by_the_domain, someone), refused_by_the_domain
