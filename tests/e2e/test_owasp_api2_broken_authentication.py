"""OWASP API2:2023, broken authentication, probed over HTTP on the running system.

Guessing a password is throttled before any hash is computed (429 with `Retry-After`), weak passwords are refused,
tokens are stored only as hashes, expire and can be revoked, a password change revokes every other token, and an
inactive user is refused. The e2e system limits sign-ins per username to 5 a minute (tests/e2e/conftest.py).

Where no API can do it, the database stands in for time and for an administrator: a token's expiry is moved into the
past, and a user is deactivated with `is_active` (the admin's action does the same: test_admin_moderation.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.e2e.conftest import Answer, System

PASSWORD = "correct-horse-battery"  # System.user's


@pytest.fixture
def database(system: System) -> Iterator[psycopg.Connection]:
    """The system's command database (PostgreSQL), autocommit."""
    with psycopg.connect(system.env["DATABASE_URL"], autocommit=True) as conn:
        yield conn


def sign_in(system: System, username: str, password: str = PASSWORD) -> Answer:
    return system.command("POST", "auth/token/", {"username": username, "password": password})


def bio(system: System, user_id: str, token: str) -> Answer:
    """A write that needs a valid token: the user changes their own bio."""
    return system.command("PATCH", f"users/{user_id}/", {"bio": "still me"}, token)


def assert_refused(answer: Answer, status: int) -> None:
    assert answer.status == status, (answer.status, answer.body)
    assert set(answer.body) == {"message", "fields"}, answer.body


def test_guessing_a_password_is_throttled_per_username(system: System) -> None:
    account = {"username": "api2_guessed", "password": PASSWORD, "display_name": "Api2 Guessed"}
    registered = system.command("POST", "users/", account)  # not signed in: every attempt below is counted
    assert registered.status == 201, registered.body
    answers = [sign_in(system, "api2_guessed", f"guess number {n}") for n in range(5)]
    assert [answer.status for answer in answers] == [401] * 5

    throttled = sign_in(system, "API2_GUESSED", PASSWORD)  # the right password, another case: still throttled

    assert_refused(throttled, 429)
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    assert "token" not in throttled.body


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "must be at least 8 characters"),
        ("12345678", "must not be only digits"),
        ("password123", "This password is too common."),
        ("api2_weakling", "The password is too similar to the username."),
    ],
)
def test_weak_passwords_are_refused_at_registration(system: System, password: str, message: str) -> None:
    body = {"username": "api2_weakling", "password": password, "display_name": "Api2 Weakling"}

    answer = system.command("POST", "users/", body)

    assert_refused(answer, 400)
    assert answer.body["fields"] == {"password": [message]}


def test_tokens_are_stored_as_hashes_and_expire(system: System, database: psycopg.Connection) -> None:
    user_id, token = system.user("api2_expiring", "Api2 Expiring")
    assert bio(system, user_id, token).status == 200
    stored = database.execute("SELECT digest, expiry > now() FROM knox_authtoken WHERE user_id = %s", (user_id,))
    rows = stored.fetchall()
    assert len(rows) == 1
    assert token not in rows[0][0]
    assert rows[0][1] is True

    database.execute("UPDATE knox_authtoken SET expiry = now() - interval '1 second' WHERE user_id = %s", (user_id,))

    assert_refused(bio(system, user_id, token), 401)
    assert sign_in(system, "api2_expiring").status == 200


def test_a_revoked_token_is_refused(system: System) -> None:
    user_id, token = system.user("api2_leaving", "Api2 Leaving")

    assert system.command("POST", "auth/logout/", None, token).status == 204

    assert_refused(bio(system, user_id, token), 401)
    assert_refused(system.command("POST", "auth/logout/", None, token), 401)


def test_a_password_change_revokes_every_other_token(system: System) -> None:
    user_id, stolen = system.user("api2_victim", "Api2 Victim")
    mine = sign_in(system, "api2_victim").body["token"]
    new_password = "a fresh secret for api2"

    weak = system.command("POST", "auth/password/", {"old_password": PASSWORD, "new_password": "password123"}, mine)
    assert_refused(weak, 400)
    changed = system.command("POST", "auth/password/", {"old_password": PASSWORD, "new_password": new_password}, mine)

    assert changed.status == 204, changed.body
    assert_refused(bio(system, user_id, stolen), 401)
    assert bio(system, user_id, mine).status == 200
    assert_refused(sign_in(system, "api2_victim"), 401)
    assert sign_in(system, "api2_victim", new_password).status == 200


def test_an_inactive_user_is_refused(system: System, database: psycopg.Connection) -> None:
    user_id, token = system.user("api2_inactive", "Api2 Inactive")

    database.execute("UPDATE users SET is_active = false WHERE id = %s", (user_id,))

    assert_refused(bio(system, user_id, token), 401)
    assert_refused(sign_in(system, "api2_inactive"), 401)
