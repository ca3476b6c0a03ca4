"""Rate limits per scope, counted in the real Redis (REDIS_URL, else 127.0.0.1:63790) under a key prefix of each test.

Every other API test runs with no rate at all (tests/api/conftest.py); here a test turns on the scopes it is about.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from command_service.apps.users.models import User
from runtime.settings import redis_url
from tests.api.helpers import PASSWORD, Account, assert_error, outbox_count

type Throttle = Callable[..., None]
NEW_POST = {"title": "A title", "content": "Some content", "tags": ["python"]}


class CountingHasher(MD5PasswordHasher):
    """The tests' fast hasher, counting how many passwords it hashed (a throttled sign-in must hash none)."""

    calls = 0

    def encode(self, password: str, salt: str) -> str:
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture
def throttle(settings: Any) -> Iterator[Throttle]:
    """`throttle(scope=rate, ...)`: turns those scopes on, counting in Redis under a prefix of this test alone.

    The test's keys are deleted at the end (each has its window as TTL anyway).
    """
    prefix = f"test-{uuid.uuid4().hex[:12]}-throttle"
    settings.CACHES = {**settings.CACHES, "throttle": {**settings.CACHES["throttle"], "KEY_PREFIX": prefix}}

    def turn_on(**rates: str) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    yield turn_on
    client = redis.Redis.from_url(redis_url())
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def _login(client: APIClient, username: str, password: str = "wrong password", **extra: str) -> Any:
    return client.post(reverse("api:auth-token"), {"username": username, "password": password}, format="json", **extra)


def _register(client: APIClient, username: str, **extra: str) -> Any:
    body = {"username": username, "password": PASSWORD, "display_name": username.title()}
    return client.post(reverse("api:user-register"), body, format="json", **extra)


def assert_throttled(response: Any, window: int) -> None:
    """A 429 with the error body and a Retry-After of 1 to `window` seconds."""
    assert_error(response, 429, fields=())
    assert 1 <= int(response["Retry-After"]) <= window, response["Retry-After"]


def test_sign_ins_are_limited_per_username_whatever_its_case_before_any_password_is_hashed(
    anon: APIClient, alice: Account, throttle: Throttle, settings: Any
) -> None:
    throttle(login_username="3/min")
    settings.PASSWORD_HASHERS = ["tests.api.test_throttling_api.CountingHasher"]
    for _ in range(3):
        assert_error(_login(anon, "alice"), 401)
    hashed = CountingHasher.calls

    assert_throttled(_login(anon, "ALICE", PASSWORD), 60)  # the right password does not help now
    assert_throttled(_login(anon, "alice", REMOTE_ADDR="10.0.0.9"), 60)  # nor another address
    assert CountingHasher.calls == hashed
    assert_error(_login(anon, "bob"), 401)  # another username is counted apart


def test_sign_ins_are_limited_per_client_address(anon: APIClient, throttle: Throttle) -> None:
    throttle(login_address="2/min")
    assert_error(_login(anon, "nobody1"), 401)
    assert_error(_login(anon, "nobody2"), 401)

    assert_throttled(_login(anon, "nobody3"), 60)
    assert_error(_login(anon, "nobody3", REMOTE_ADDR="10.0.0.2"), 401)


def test_behind_proxies_the_address_is_the_one_num_proxies_points_at(
    anon: APIClient, throttle: Throttle, settings: Any
) -> None:
    throttle(login_address="1/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert_error(_login(anon, "x1", HTTP_X_FORWARDED_FOR="203.0.113.7"), 401)

    # The same proxy (REMOTE_ADDR) forwards two clients: each has its own count.
    assert_error(_login(anon, "x2", HTTP_X_FORWARDED_FOR="203.0.113.8"), 401)
    assert_throttled(_login(anon, "x3", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7"), 60)


def test_without_declared_proxies_a_forged_forwarded_for_does_not_escape_the_limit(
    anon: APIClient, throttle: Throttle
) -> None:
    throttle(login_address="1/min")
    assert_error(_login(anon, "y1", HTTP_X_FORWARDED_FOR="203.0.113.9"), 401)

    assert_throttled(_login(anon, "y2", HTTP_X_FORWARDED_FOR="203.0.113.10"), 60)  # same REMOTE_ADDR, same count


def test_registrations_are_limited_per_client_address(anon: APIClient, throttle: Throttle) -> None:
    throttle(register_address="2/hour")
    assert _register(anon, "carol").status_code == 201
    assert _register(anon, "dave").status_code == 201
    before = outbox_count()

    assert_throttled(_register(anon, "erin"), 3600)
    assert outbox_count() == before
    assert not User.objects.filter(username="erin").exists()
    assert _register(anon, "erin", REMOTE_ADDR="10.0.0.3").status_code == 201


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_writes_are_limited_per_user(
    alice: Account, bob: Account, make_post: Callable[..., dict[str, Any]], throttle: Throttle, method: str
) -> None:
    post = make_post(alice.client, publish=False)
    throttle(write_user="2/min")
    detail = reverse("api:post-detail", kwargs={"post_id": post["id"]})
    assert alice.client.get(detail).status_code == 200  # reads are not writes
    assert alice.client.post(reverse("api:post-create"), NEW_POST, format="json").status_code == 201
    assert alice.client.patch(detail, {"title": "Again", "content": "Some content"}, format="json").status_code == 200

    write = {
        "post": lambda: alice.client.post(reverse("api:post-publish", kwargs={"post_id": post["id"]})),
        "patch": lambda: alice.client.patch(detail, {"title": "Third", "content": "Some content"}, format="json"),
        "delete": lambda: alice.client.delete(detail),
    }[method]
    assert_throttled(write(), 60)
    assert alice.client.get(detail).json()["title"] == "Again"
    assert bob.client.post(reverse("api:post-create"), NEW_POST, format="json").status_code == 201


def test_anonymous_reads_are_limited_per_client_address(
    anon: APIClient, alice: Account, make_post: Callable[..., dict[str, Any]], throttle: Throttle
) -> None:
    post = make_post(alice.client)
    throttle(anon_read="2/min")
    detail = reverse("api:post-detail", kwargs={"post_id": post["id"]})
    assert anon.get(detail).status_code == 200
    assert anon.get(reverse("api:user-detail", kwargs={"user_id": alice.id})).status_code == 200

    assert_throttled(anon.get(detail), 60)
    assert anon.get(detail, REMOTE_ADDR="10.0.0.4").status_code == 200
    assert alice.client.get(detail).status_code == 200  # a signed-in reader is not an anonymous one


def test_every_counter_in_redis_expires_within_its_window(
    anon: APIClient, alice: Account, throttle: Throttle, settings: Any
) -> None:
    throttle(login_username="5/min", login_address="5/hour", anon_read="5/day", write_user="5/min")
    _login(anon, "alice")
    anon.get(reverse("api:user-detail", kwargs={"user_id": alice.id}))
    alice.client.patch(reverse("api:user-detail", kwargs={"user_id": alice.id}), {"bio": "hi"}, format="json")

    client = redis.Redis.from_url(redis_url())
    prefix = settings.CACHES["throttle"]["KEY_PREFIX"]
    ttls = {key: client.ttl(key) for key in client.scan_iter(match=f"{prefix}:*")}
    client.close()
    assert len(ttls) == 4, ttls
    assert all(0 < ttl <= 86400 for ttl in ttls.values()), ttls


def _point_the_throttles_at(settings: Any, location: str) -> None:
    settings.CACHES = {**settings.CACHES, "throttle": {**settings.CACHES["throttle"], "LOCATION": location}}


def test_with_redis_unreachable_the_api_serves_and_logs_a_warning(
    anon: APIClient, alice: Account, throttle: Throttle, settings: Any, free_port: Callable[[], int],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    throttle(login_username="1/min", login_address="1/min", write_user="1/min")
    _point_the_throttles_at(settings, f"redis://127.0.0.1:{free_port()}/0")

    with caplog.at_level(logging.WARNING, logger="command_service.api.throttles"):
        answers = [_login(anon, "alice", PASSWORD).status_code for _ in range(3)]
        profile = reverse("api:user-detail", kwargs={"user_id": alice.id})
        patch = alice.client.patch(profile, {"bio": "hi"}, format="json")

    assert answers == [200, 200, 200]
    assert patch.status_code == 200
    warnings = [r.getMessage() for r in caplog.records if r.name == "command_service.api.throttles"]
    assert any("login_username not applied, Redis unavailable" in message for message in warnings), warnings


def test_with_redis_hung_the_api_serves_after_the_socket_timeout(
    anon: APIClient, alice: Account, throttle: Throttle, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    throttle(anon_read="1/min")
    with socket.socket() as hung:  # accepts connections (the kernel's backlog) and never answers
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        _point_the_throttles_at(settings, f"redis://127.0.0.1:{hung.getsockname()[1]}/0")
        with caplog.at_level(logging.WARNING, logger="command_service.api.throttles"):
            answers = [anon.get(reverse("api:user-detail", kwargs={"user_id": alice.id})).status_code for _ in "ab"]

    assert answers == [200, 200]
    assert any("anon_read not applied" in record.getMessage() for record in caplog.records)


def _admin_sign_in(client: Client, username: str, password: str = "wrong password", **extra: str) -> Any:
    return client.post(reverse("admin:login"), {"username": username, "password": password}, **extra)


def test_the_admin_sign_in_form_is_limited_with_the_api_sign_in_in_the_same_counters(
    anon: APIClient, staff: Account, throttle: Throttle, settings: Any
) -> None:
    throttle(login_username="3/min")
    settings.PASSWORD_HASHERS = ["tests.api.test_throttling_api.CountingHasher"]
    browser = Client()
    assert _admin_sign_in(browser, "mod").status_code == 200  # the form again, with its error
    assert _admin_sign_in(browser, "MOD").status_code == 200
    assert_error(_login(anon, "mod"), 401)  # the API's attempt counts in the same window
    hashed = CountingHasher.calls

    refused = _admin_sign_in(browser, "mod", PASSWORD)  # the right password does not help now
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert_throttled(_login(anon, "mod", PASSWORD), 60)
    assert CountingHasher.calls == hashed
    assert "_auth_user_id" not in browser.session
    assert browser.get(reverse("admin:login")).status_code == 200  # the form itself is still served


def test_the_admin_sign_in_form_is_limited_per_client_address(staff: Account, throttle: Throttle) -> None:
    throttle(login_address="2/min")
    browser = Client()
    assert _admin_sign_in(browser, "nobody1").status_code == 200
    assert _admin_sign_in(browser, "nobody2").status_code == 200

    assert _admin_sign_in(browser, "mod", PASSWORD).status_code == 429
    signed_in = _admin_sign_in(Client(), "mod", PASSWORD, REMOTE_ADDR="10.0.0.3")
    assert signed_in.status_code == 302  # staff from another address sign in
    assert signed_in.wsgi_request.user.is_authenticated
