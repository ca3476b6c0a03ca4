"""The deployment profile of both Django services: `DJANGO_ENV=development` (the default) or `production`.

One definition of the rules, read by each service's settings module at start-up. Development keeps the easy local
defaults (DEBUG on, a public dev key, loopback hosts). Production refuses to start on an unsafe setting, naming the
variable, and turns on what `check --deploy` asks for: HTTPS redirect, HSTS, secure and HTTP-only cookies.

Pure Python (no Django import), so that the relay and the projector, which import `runtime` too, need no Django.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from runtime.settings import SettingError, env_choice, env_flag, env_list, whole_number

DEVELOPMENT = "development"
PRODUCTION = "production"
DEV_SECRET_KEY = "dev-only-insecure-key-change-me"
DEV_ALLOWED_HOSTS = "localhost,127.0.0.1,testserver"
# Django's own bar for a secret key (django.core.checks.security.base; a unit test holds these to Django's).
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5
SECRET_KEY_INSECURE_PREFIX = "django-insecure-"
HSTS_SECONDS_DEFAULT = 365 * 24 * 3600


def deployment_env() -> str:
    """`DJANGO_ENV`: "development" (the default) or "production".

    Raises:
        SettingError: any other value.
    """
    return env_choice("DJANGO_ENV", (DEVELOPMENT, PRODUCTION), DEVELOPMENT)


@dataclass(frozen=True)
class DjangoProfile:
    """The settings a service takes from the profile; `security` maps Django setting names to values."""

    env: str
    debug: bool
    secret_key: str
    allowed_hosts: list[str]
    security: dict[str, Any] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        """Whether this is the production profile."""
        return self.env == PRODUCTION


def django_profile(*, hosts_var: str) -> DjangoProfile:
    """The profile in force for a service whose allowed hosts are in `hosts_var`.

    Raises:
        SettingError: a setting the profile refuses, named with its variable (in production: DEBUG on, a missing,
            default or weak secret key, no allowed hosts; in both: a malformed value).
    """
    env = deployment_env()
    trusted_origins = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
    for origin in trusted_origins:
        if "://" not in origin:
            raise SettingError(f"DJANGO_CSRF_TRUSTED_ORIGINS: {origin!r} needs its scheme (https://...)")
    if env == DEVELOPMENT:
        debug = os.environ.get("DJANGO_DEBUG", "1") == "1"
        secret_key = os.environ.get("DJANGO_SECRET_KEY", DEV_SECRET_KEY if debug else "")
        if not secret_key:
            raise SettingError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is not 1")
        hosts = os.environ.get(hosts_var, DEV_ALLOWED_HOSTS).split(",")
        return DjangoProfile(env, debug, secret_key, hosts, {"CSRF_TRUSTED_ORIGINS": trusted_origins})
    if env_flag("DJANGO_DEBUG", False):
        raise SettingError("DJANGO_DEBUG must be 0 (or unset) when DJANGO_ENV=production")
    secret_key = _production_secret_key()
    hosts = env_list(hosts_var)
    if not hosts:
        raise SettingError(f"{hosts_var} must name the service's host names when DJANGO_ENV=production")
    return DjangoProfile(env, False, secret_key, hosts, _security_settings(trusted_origins))


def _production_secret_key() -> str:
    secret_key = os.environ.get("DJANGO_SECRET_KEY", "")
    if not secret_key:
        raise SettingError("DJANGO_SECRET_KEY must be set when DJANGO_ENV=production")
    if secret_key == DEV_SECRET_KEY or secret_key.startswith(SECRET_KEY_INSECURE_PREFIX):
        raise SettingError("DJANGO_SECRET_KEY is a development key; generate one for production")
    if len(secret_key) < SECRET_KEY_MIN_LENGTH or len(set(secret_key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        raise SettingError(
            f"DJANGO_SECRET_KEY is too weak: at least {SECRET_KEY_MIN_LENGTH} characters, "
            f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} of them different"
        )
    return secret_key


def _proxy_ssl_header() -> tuple[str, str] | None:
    """`DJANGO_SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto` (value `https`), or `Name=value`, as Django wants it."""
    raw = os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", "").strip()
    if not raw:
        return None
    name, _, value = raw.partition("=")
    name = name.strip()
    if not name or not all(part.isalnum() for part in name.split("-")):
        raise SettingError(f"DJANGO_SECURE_PROXY_SSL_HEADER={raw!r} must be a header name, e.g. X-Forwarded-Proto")
    return "HTTP_" + name.upper().replace("-", "_"), value.strip() or "https"


def _security_settings(trusted_origins: list[str]) -> dict[str, Any]:
    return {
        "SECURE_SSL_REDIRECT": env_flag("DJANGO_SECURE_SSL_REDIRECT", True),
        "SECURE_REDIRECT_EXEMPT": [r"^health/$"],  # a load balancer's plain-HTTP liveness probe
        "SECURE_PROXY_SSL_HEADER": _proxy_ssl_header(),
        "SECURE_HSTS_SECONDS": whole_number("DJANGO_SECURE_HSTS_SECONDS", HSTS_SECONDS_DEFAULT),  # 0: no HSTS
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": env_flag("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True),
        "SECURE_HSTS_PRELOAD": env_flag("DJANGO_SECURE_HSTS_PRELOAD", True),
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": os.environ.get("DJANGO_SECURE_REFERRER_POLICY", "").strip() or "same-origin",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,  # forms and the docs page carry the token in the page, not read from the cookie
        "CSRF_TRUSTED_ORIGINS": trusted_origins,
    }
