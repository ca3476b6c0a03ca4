"""The domain's password floor and the deployment's policy behind it; the rate and token settings' parsing."""

from __future__ import annotations

import pytest

from command_service.config import limits
from command_service.domain import rules
from command_service.domain.errors import ValidationFailed
from command_service.domain.rules import FieldErrors
from command_service.domain.users import User
from runtime.settings import SettingError


def _checked(password: str, policy: rules.PasswordPolicy) -> tuple[dict[str, list[str]], list[str]]:
    seen: list[str] = []

    def recording(candidate: str) -> list[str]:
        seen.append(candidate)
        return policy(candidate)

    errors = FieldErrors()
    rules.check_password(errors, password, policy=recording, field="new_password")
    return errors.errors, seen


def test_the_policy_speaks_for_a_password_within_the_floor() -> None:
    assert _checked("correct horse", lambda _: ["too common"]) == ({"new_password": ["too common"]}, ["correct horse"])
    assert _checked("correct horse", lambda _: []) == ({}, ["correct horse"])


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("x" * (rules.PASSWORD_MAX + 1), f"must be at most {rules.PASSWORD_MAX} characters"),
        ("short", f"must be at least {rules.PASSWORD_MIN} characters"),
        ("12345678", "must not be only digits"),
    ],
)
def test_the_policy_never_reads_a_password_the_floor_refuses(password: str, message: str) -> None:
    assert _checked(password, lambda _: ["never asked"]) == ({"new_password": [message]}, [])


def test_registration_reports_the_policy_beside_the_other_fields() -> None:
    with pytest.raises(ValidationFailed) as caught:
        User.register(username="x", password="correct horse", display_name="", password_policy=lambda _: ["weak"])

    assert caught.value.fields == {
        "username": ["must be 3 to 30 letters, digits or underscores"],
        "password": ["weak"],
        "display_name": ["must not be blank"],
    }


def test_rates_come_from_the_environment_and_off_turns_a_scope_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for env_var, _ in limits.THROTTLE_RATES.values():
        monkeypatch.delenv(env_var, raising=False)
    monkeypatch.setenv("THROTTLE_WRITE_USER_RATE", "5/sec")
    monkeypatch.setenv("THROTTLE_ANON_READ_RATE", "off")

    rates = limits.throttle_rates()

    assert rates == {
        "login_username": "10/min", "login_address": "30/min", "register_address": "60/hour",
        "write_user": "5/sec", "anon_read": None,
    }  # fmt: skip


@pytest.mark.parametrize("value", ["10", "ten/min", "10/week", "0/min", "-1/min"])
def test_a_malformed_rate_fails_the_start_naming_its_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("THROTTLE_LOGIN_USERNAME_RATE", value)

    with pytest.raises(SettingError, match="THROTTLE_LOGIN_USERNAME_RATE"):
        limits.throttle_rates()


def test_num_proxies_and_the_token_lifetime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUM_PROXIES", raising=False)
    assert limits.num_proxies() == 0  # unset: X-Forwarded-For is not trusted
    monkeypatch.setenv("NUM_PROXIES", "2")
    assert limits.num_proxies() == 2
    monkeypatch.setenv("NUM_PROXIES", "-1")
    with pytest.raises(SettingError, match="NUM_PROXIES"):
        limits.num_proxies()
    monkeypatch.setenv("AUTH_TOKEN_TTL_SECONDS", "0")
    with pytest.raises(SettingError, match="AUTH_TOKEN_TTL_SECONDS"):
        limits.token_ttl_seconds()


def test_the_throttle_cache_lives_under_the_deployment_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROJECTOR_INDEX_PREFIX", "tenant-a-")

    cache = limits.throttle_cache()

    assert cache["KEY_PREFIX"] == "tenant-a-throttle"
    assert cache["OPTIONS"]["socket_timeout"] == limits.THROTTLE_SOCKET_TIMEOUT_SECONDS
    assert cache["OPTIONS"]["retry"].get_retries() == 0
