"""Django settings of the command service, from environment variables with local defaults (see README)."""

from __future__ import annotations

import os

import dj_database_url

from command_service.config import limits
from command_service.domain import rules
from runtime.deployment import django_profile
from runtime.logs import logging_config
from runtime.settings import database_url, env_choice, env_flag

# DJANGO_ENV=production refuses unsafe values and turns on HTTPS, HSTS and secure cookies (runtime/deployment.py).
_profile = django_profile(hosts_var="DJANGO_ALLOWED_HOSTS")
DJANGO_ENV = _profile.env
DEBUG = _profile.debug
SECRET_KEY = _profile.secret_key
ALLOWED_HOSTS = _profile.allowed_hosts
globals().update(_profile.security)
# Who gets the Swagger UI and the schema: everyone, staff (session or token) only, or nobody; and the admin at all.
API_DOCS = env_choice("DJANGO_API_DOCS", ("public", "staff", "off"), "staff" if _profile.production else "public")
ADMIN_ENABLED = env_flag("DJANGO_ADMIN_ENABLED", True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "command_service.apps.users",
    "command_service.apps.posts",
    "command_service.apps.comments",
    "command_service.apps.outbox",
    "command_service.apps.idempotency",
    "command_service.relay",
]

MIDDLEWARE = [
    "runtime.api_errors.JsonErrorPagesMiddleware",  # unknown routes answer the error body too
    "command_service.api.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "command_service.config.urls"
WSGI_APPLICATION = "command_service.config.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {"default": dj_database_url.parse(database_url(), conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Writers wait for each other instead of failing at once; the file lives under .services/.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    os.makedirs(os.path.dirname(DATABASES["default"]["NAME"]) or ".", exist_ok=True)
if os.environ.get("TEST_DATABASE_NAME"):  # lets two test runs share one PostgreSQL server
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

# A request body over 1 MiB is refused with 413 before any parsing (see api/errors.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "command_service.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # api/throttles.py; views add their own (sign-in, registration). Rates from THROTTLE_* variables (config/limits).
    "DEFAULT_THROTTLE_CLASSES": [
        "command_service.api.throttles.WriteUserThrottle",
        "command_service.api.throttles.AnonReadThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": limits.throttle_rates(),
    "NUM_PROXIES": limits.num_proxies(),
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PARSER_CLASSES": ["command_service.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "command_service.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Content platform: command API",
    "DESCRIPTION": "Every write of the content platform. Reads of lists and search are served by the query API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies declare their fields optional themselves (api/serializers.PartialInput): no Patched* copies.
    "COMPONENT_SPLIT_PATCH": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "command_service.api.schema.throttled_responses",
        "command_service.api.schema.partial_patch_bodies",
        "command_service.api.schema.closed_request_bodies",
        "command_service.api.schema.body_responses",
        "command_service.api.schema.response_links",
    ],
}

# The throttles' counters live in Redis (every key with its window as TTL); they fail open when it is unreachable.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": limits.throttle_cache(),
}

# The one definition of the password rule (apps/users/passwords.py applies it; domain/rules.py is its floor).
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "display_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": rules.PASSWORD_MIN},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# API tokens (knox, api/authentication.py): valid AUTH_TOKEN_TTL_SECONDS after sign-in, at most this many per user.
AUTH_TOKEN_TTL_SECONDS = limits.token_ttl_seconds()
AUTH_TOKENS_PER_USER = 10
REST_KNOX = {"AUTH_HEADER_PREFIX": "Token"}

# How long an Idempotency-Key is remembered, and how long sent outbox rows are kept.
IDEMPOTENCY_KEY_TTL_SECONDS = int(os.environ.get("IDEMPOTENCY_KEY_TTL_SECONDS", str(24 * 3600)))
OUTBOX_RETENTION_SECONDS = int(os.environ.get("OUTBOX_RETENTION_SECONDS", str(7 * 24 * 3600)))

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"

LOGGING = logging_config(quiet=("kafka", "opensearch"))
