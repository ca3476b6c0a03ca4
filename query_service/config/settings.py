"""Django settings of the query service, from environment variables with local defaults (see README).

There is no database at all: `DATABASES` is empty, so any ORM use raises. No app that needs one (auth, sessions,
admin, contenttypes) is installed.
"""

from __future__ import annotations

import os

from runtime.deployment import django_profile
from runtime.logs import logging_config
from runtime.redis_clients import redis_timeouts
from runtime.settings import SettingError, env_flag, projector_group, redis_url

# DJANGO_ENV=production refuses unsafe values and turns on HTTPS, HSTS and secure cookies (runtime/deployment.py).
_profile = django_profile(hosts_var="QUERY_ALLOWED_HOSTS")
DJANGO_ENV = _profile.env
DEBUG = _profile.debug
SECRET_KEY = _profile.secret_key
ALLOWED_HOSTS = _profile.allowed_hosts
globals().update(_profile.security)
# The Swagger UI and the schema: there are no users to restrict them to, so production serves them only when asked.
API_DOCS_ENABLED = env_flag("QUERY_API_DOCS", not _profile.production)
# /api/v1/status/ in full (hosts, errors, process names) for a bearer of this token; to anyone in development only.
STATUS_TOKEN = os.environ.get("QUERY_STATUS_TOKEN", "")
if STATUS_TOKEN and len(STATUS_TOKEN) < 32:
    raise SettingError("QUERY_STATUS_TOKEN is too short: at least 32 characters")
STATUS_DETAIL_PUBLIC = not _profile.production

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "corsheaders",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "query_service",
]

MIDDLEWARE = [
    "runtime.api_errors.JsonErrorPagesMiddleware",  # unknown routes answer the error body too
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # nothing here takes an unsafe method; kept for any that would
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "query_service.config.urls"
ASGI_APPLICATION = "query_service.config.asgi.application"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True, "OPTIONS": {}}]

DATABASES: dict[str, dict] = {}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "query_service.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Content platform: query API",
    "DESCRIPTION": (
        "Lists and search of published content, served from the OpenSearch read models only. Writes go to the "
        "command API; send its `X-Consistency-Token` back to read your own write. The live stream is the WebSocket "
        "`/stream` (see docs/asyncapi.json)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Each list's page names its document type, derived from the read-model mappings (api/documents.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "query_service.api.documents.typed_pages",
        "query_service.api.schema.anonymous_operations",
    ],
}

# CORS: browsers on these origins may call the query API (comma-separated; empty: none).
CORS_ALLOWED_ORIGINS = [o for o in os.environ.get("QUERY_CORS_ALLOWED_ORIGINS", "").split(",") if o]
CORS_ALLOW_METHODS = ("GET", "HEAD", "OPTIONS")
CORS_ALLOW_HEADERS = ("accept", "content-type", "x-consistency-token")
CORS_EXPOSE_HEADERS = (
    "x-consistency-status",
    "x-read-model-last-event-at",
    "x-read-model-updated-at",
    "x-read-model-age",
)

# Read-your-writes: how long a request carrying a consistency token waits for its version to be searchable.
CONSISTENCY_WAIT_SECONDS = float(os.environ.get("QUERY_CONSISTENCY_WAIT_SECONDS", "2"))
# Page sizes of every list.
PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100
# The projector consumer group whose progress says how fresh the read models are.
PROJECTOR_GROUP = projector_group()
# Each answer's freshness comes from Redis at most this often per process (an in-process cache of the one record;
# 0: read it on every request). The projector writes it once per batch, so the cache adds at most this much to its
# age; it saves a Redis round trip on nearly every request.
FRESHNESS_CACHE_SECONDS = float(os.environ.get("QUERY_FRESHNESS_CACHE_SECONDS", "0.5"))
# Threads that run the HTTP views in each process (see config/asgi.py): requests beyond them wait for one. A request
# carrying a consistency token holds its thread for up to QUERY_CONSISTENCY_WAIT_SECONDS.
HTTP_THREADS = int(os.environ.get("QUERY_HTTP_THREADS", "32"))
# How long a client is told to wait before retrying when OpenSearch is unreachable.
RETRY_AFTER_SECONDS = int(os.environ.get("QUERY_RETRY_AFTER_SECONDS", "5"))

# The live stream: channels-redis fans notices out across ASGI workers (see query_service/stream).
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # Timeouts above the layer's 5 s blocking pop, so a hung Redis cannot hang a worker for ever.
            "hosts": [{"address": redis_url(), **redis_timeouts(socket_timeout=10)}],
            "prefix": os.environ.get("QUERY_CHANNEL_PREFIX", "query"),
            # A connection's queue holds this many messages (each a batch of stream items); beyond it the layer
            # drops, which the consumer detects (close 4008). Messages are shared by a worker's connections.
            "capacity": int(os.environ.get("STREAM_CHANNEL_CAPACITY", "200")),
            "expiry": 30,
        },
    }
}
# Values a subscription's filters may hold together (aggregate types + tags + author).
STREAM_MAX_FILTER_VALUES = int(os.environ.get("STREAM_MAX_FILTER_VALUES", "50"))
# Largest client frame accepted; a bigger one closes the connection with 1009.
STREAM_MAX_FRAME_BYTES = int(os.environ.get("STREAM_MAX_FRAME_BYTES", "4096"))
# A send to a client that does not read for this long closes the connection with 4008 ...
STREAM_SEND_TIMEOUT_SECONDS = float(os.environ.get("STREAM_SEND_TIMEOUT_SECONDS", "10"))
# ... and the close frame waits this long behind the unread frames before the connection is just dropped.
STREAM_CLOSE_GRACE_SECONDS = float(os.environ.get("STREAM_CLOSE_GRACE_SECONDS", "10"))
# Per-client limits: open connections per client address (counted in Redis across workers; one more is closed with
# 4028), and subscribe frames per minute per connection (in memory) and per client address over all its connections
# (in Redis; when Redis cannot count, the per-connection limit alone applies): one more than either closes it with
# 4029. An address may be shared (NAT, proxies): its limit is four busy connections' worth, not 20 connections'.
STREAM_MAX_CONNECTIONS_PER_CLIENT = int(os.environ.get("STREAM_MAX_CONNECTIONS_PER_CLIENT", "20"))
STREAM_MAX_SUBSCRIBES_PER_MINUTE = int(os.environ.get("STREAM_MAX_SUBSCRIBES_PER_MINUTE", "30"))
STREAM_MAX_SUBSCRIBES_PER_CLIENT_PER_MINUTE = int(os.environ.get("STREAM_MAX_SUBSCRIBES_PER_CLIENT_PER_MINUTE", "120"))
# A connection's lease in that count lapses after this long unless renewed (every third of it, with its group
# membership): a crashed worker's connections stop counting within it.
STREAM_CONNECTION_LEASE_SECONDS = int(os.environ.get("STREAM_CONNECTION_LEASE_SECONDS", "60"))
# Stream entries read per round trip when a subscriber resumes from a position.
STREAM_CATCH_UP_CHUNK = int(os.environ.get("STREAM_CATCH_UP_CHUNK", "500"))
# Origins allowed to open the WebSocket besides the query service's own hosts (comma-separated; `*` allows any).
STREAM_ALLOWED_ORIGINS = [o for o in os.environ.get("STREAM_ALLOWED_ORIGINS", "").split(",") if o]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"

LOGGING = logging_config(quiet=("opensearch",))
