"""One exception handler for the query API: every error is `{"message": ..., "fields": {...}}`, never a stack trace.

An unreachable read model is a 503 with Retry-After (the client should come back), a bad parameter a 400 naming it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from query_service.search.errors import InvalidParameter, ReadModelUnavailable


def _field_messages(detail: Any) -> list[str]:
    if isinstance(detail, dict):  # a list parameter's errors, by item index
        return [f"item {index}: {message}" for index, inner in detail.items() for message in _field_messages(inner)]
    if isinstance(detail, list):
        return [message for inner in detail for message in _field_messages(inner)]
    return [str(detail)]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map the query service's errors and DRF's own to one body shape; anything else stays a 500 (a bug)."""
    if isinstance(exc, InvalidParameter):
        return Response(
            {"message": "the request is invalid", "fields": {exc.field: [exc.message]}},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, ReadModelUnavailable):
        return Response(
            {"message": f"{exc}; retry later", "fields": {}},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(settings.RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = {str(name): _field_messages(messages) for name, messages in detail.items()}
        response.data = {"message": "the request is invalid", "fields": fields}
    else:
        response.data = {"message": str(getattr(exc, "detail", exc)), "fields": {}}
    return response
