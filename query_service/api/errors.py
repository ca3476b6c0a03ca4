"""One exception handler for the query API: every error is `{"message": ..., "fields": {...}}`, never a stack trace.

An unreachable read model is a 503 with Retry-After (the client should come back), a bad parameter a 400 naming it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.response import Response

from query_service.search.errors import InvalidParameter, ReadModelUnavailable
from runtime.api_errors import INVALID, drf_error_response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map the query service's errors and DRF's own to one body shape; anything else stays a 500 (a bug)."""
    if isinstance(exc, InvalidParameter):
        return Response(
            {"message": INVALID, "fields": {exc.field: [exc.message]}},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, ReadModelUnavailable):
        return Response(
            {"message": f"{exc}; retry later", "fields": {}},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(settings.RETRY_AFTER_SECONDS)},
        )
    return drf_error_response(exc, context)
