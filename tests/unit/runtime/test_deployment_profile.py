"""The deployment profile's rules (runtime/deployment.py), read from the environment as each service does."""

from __future__ import annotations

import pytest
from django.core.checks.security import base as django_security

from runtime import deployment
from runtime.deployment import DEV_SECRET_KEY, django_profile
from runtime.settings import SettingError

STRONG_KEY = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP"
PROFILE_VARS = (
    "DJANGO_ENV", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_CSRF_TRUSTED_ORIGINS",
    "DJANGO_SECURE_SSL_REDIRECT", "DJANGO_SECURE_HSTS_SECONDS", "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "DJANGO_SECURE_HSTS_PRELOAD", "DJANGO_SECURE_PROXY_SSL_HEADER", "DJANGO_SECURE_REFERRER_POLICY",
)  # fmt: skip


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No profile variable set, as on a fresh machine."""
    for name in PROFILE_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def production(environment: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A production environment that passes every rule."""
    environment.setenv("DJANGO_ENV", "production")
    environment.setenv("DJANGO_SECRET_KEY", STRONG_KEY)
    environment.setenv("DJANGO_ALLOWED_HOSTS", "api.example.com")
    return environment


def test_the_secret_key_bar_is_djangos_own() -> None:
    assert deployment.SECRET_KEY_MIN_LENGTH == django_security.SECRET_KEY_MIN_LENGTH
    assert deployment.SECRET_KEY_MIN_UNIQUE_CHARACTERS == django_security.SECRET_KEY_MIN_UNIQUE_CHARACTERS
    assert deployment.SECRET_KEY_INSECURE_PREFIX == django_security.SECRET_KEY_INSECURE_PREFIX
    assert django_security._check_secret_key(STRONG_KEY)


def test_development_is_the_default_and_keeps_the_easy_defaults(environment: pytest.MonkeyPatch) -> None:
    profile = django_profile(hosts_var="DJANGO_ALLOWED_HOSTS")
    assert (profile.env, profile.debug, profile.secret_key) == ("development", True, DEV_SECRET_KEY)
    assert profile.allowed_hosts == ["localhost", "127.0.0.1", "testserver"]
    assert profile.security == {"CSRF_TRUSTED_ORIGINS": []}  # Django's defaults otherwise


def test_development_with_debug_off_still_needs_a_key_of_any_kind(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("DJANGO_DEBUG", "0")
    with pytest.raises(SettingError, match="DJANGO_SECRET_KEY must be set"):
        django_profile(hosts_var="DJANGO_ALLOWED_HOSTS")
    environment.setenv("DJANGO_SECRET_KEY", "bench")  # what the benchmarks run with
    assert django_profile(hosts_var="DJANGO_ALLOWED_HOSTS").debug is False


def test_an_unknown_profile_is_refused(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("DJANGO_ENV", "prod")
    with pytest.raises(SettingError, match="DJANGO_ENV='prod'"):
        django_profile(hosts_var="DJANGO_ALLOWED_HOSTS")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DJANGO_DEBUG", "1", "DJANGO_DEBUG must be 0"),
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG='maybe' must be 1 or 0"),
        ("DJANGO_SECRET_KEY", None, "DJANGO_SECRET_KEY must be set"),
        ("DJANGO_SECRET_KEY", DEV_SECRET_KEY, "DJANGO_SECRET_KEY is a development key"),
        ("DJANGO_SECRET_KEY", "django-insecure-" + STRONG_KEY, "DJANGO_SECRET_KEY is a development key"),
        ("DJANGO_SECRET_KEY", STRONG_KEY[:49], "DJANGO_SECRET_KEY is too weak"),
        ("DJANGO_SECRET_KEY", "ab" * 40, "DJANGO_SECRET_KEY is too weak"),
        ("DJANGO_ALLOWED_HOSTS", None, "DJANGO_ALLOWED_HOSTS must name"),
        ("DJANGO_ALLOWED_HOSTS", " , ", "DJANGO_ALLOWED_HOSTS must name"),
        ("DJANGO_SECURE_HSTS_SECONDS", "a year", "DJANGO_SECURE_HSTS_SECONDS='a year'"),
        ("DJANGO_SECURE_PROXY_SSL_HEADER", "X Forwarded", "DJANGO_SECURE_PROXY_SSL_HEADER="),
        ("DJANGO_CSRF_TRUSTED_ORIGINS", "example.com", "DJANGO_CSRF_TRUSTED_ORIGINS: 'example.com' needs"),
    ],
)
def test_production_refuses_an_unsafe_or_malformed_setting_naming_it(
    production: pytest.MonkeyPatch, variable: str, value: str | None, message: str
) -> None:
    if value is None:
        production.delenv(variable)
    else:
        production.setenv(variable, value)
    with pytest.raises(SettingError) as refused:
        django_profile(hosts_var="DJANGO_ALLOWED_HOSTS")
    assert str(refused.value).startswith(message)


def test_production_turns_on_https_hsts_and_secure_cookies(production: pytest.MonkeyPatch) -> None:
    profile = django_profile(hosts_var="DJANGO_ALLOWED_HOSTS")
    assert (profile.env, profile.debug, profile.allowed_hosts) == ("production", False, ["api.example.com"])
    assert profile.security == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_REDIRECT_EXEMPT": [r"^health/$"],
        "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "CSRF_TRUSTED_ORIGINS": [],
    }


def test_production_options_behind_a_tls_proxy(production: pytest.MonkeyPatch) -> None:
    production.setenv("DJANGO_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto")
    production.setenv("DJANGO_SECURE_SSL_REDIRECT", "0")
    production.setenv("DJANGO_SECURE_HSTS_SECONDS", "3600")
    production.setenv("DJANGO_SECURE_HSTS_PRELOAD", "off")
    production.setenv("DJANGO_CSRF_TRUSTED_ORIGINS", "https://admin.example.com, https://api.example.com")
    production.setenv("DJANGO_ALLOWED_HOSTS", "api.example.com,admin.example.com")
    security = django_profile(hosts_var="DJANGO_ALLOWED_HOSTS").security
    assert security["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert security["SECURE_SSL_REDIRECT"] is False
    assert (security["SECURE_HSTS_SECONDS"], security["SECURE_HSTS_PRELOAD"]) == (3600, False)
    assert security["CSRF_TRUSTED_ORIGINS"] == ["https://admin.example.com", "https://api.example.com"]
    production.setenv("DJANGO_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Ssl=on")
    assert django_profile(hosts_var="DJANGO_ALLOWED_HOSTS").security["SECURE_PROXY_SSL_HEADER"] == (
        "HTTP_X_FORWARDED_SSL",
        "on",
    )


def test_each_service_names_its_own_hosts_variable(production: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingError, match=r"^QUERY_ALLOWED_HOSTS must name"):
        django_profile(hosts_var="QUERY_ALLOWED_HOSTS")
    production.setenv("QUERY_ALLOWED_HOSTS", "query.example.com")
    assert django_profile(hosts_var="QUERY_ALLOWED_HOSTS").allowed_hosts == ["query.example.com"]
