"""Top-level routes: the query API under /api/v1/, its OpenAPI schema and docs (`API_DOCS_ENABLED`), a health check."""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from query_service.api.status import status_charts_fragment, status_page


def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers (it touches no backing service)."""
    return JsonResponse({"status": "ok"})


DOCS_ROUTES = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", include("query_service.api.urls", namespace="api")),
    *(DOCS_ROUTES if settings.API_DOCS_ENABLED else []),
    path("health/", health, name="health"),
    path("status/", status_page, name="status-page"),
    path("status/charts/", status_charts_fragment, name="status-charts"),
]
