"""Top-level routes: the API under /api/v1/, its OpenAPI schema and docs, the admin, a health check.

The docs are public, staff-only or not routed (`API_DOCS`), and the admin is routed unless `ADMIN_ENABLED` is off; its
sign-in form is throttled like the API's.
"""

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny, IsAdminUser

from command_service.api.throttles import sign_in_throttled


def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def docs_routes(access: str) -> list[URLPattern]:
    """The schema and Swagger UI routes for `API_DOCS` ("public", "staff" or "off": none)."""
    if access == "off":
        return []
    permissions = [IsAdminUser] if access == "staff" else [AllowAny]
    return [
        path("api/schema/", SpectacularAPIView.as_view(permission_classes=permissions), name="schema"),
        path(
            "api/docs/",
            SpectacularSwaggerView.as_view(url_name="schema", permission_classes=permissions),
            name="swagger-ui",
        ),
    ]


def admin_routes(enabled: bool) -> list[URLPattern | URLResolver]:
    """The admin (none when `ADMIN_ENABLED` is off), its sign-in form behind the API sign-in's throttles."""
    if not enabled:
        return []
    return [path("admin/login/", sign_in_throttled(admin.site.login)), path("admin/", admin.site.urls)]


urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", include("command_service.api.urls", namespace="api")),
    *docs_routes(settings.API_DOCS),
    *admin_routes(settings.ADMIN_ENABLED),
    path("health/", health, name="health"),
]
