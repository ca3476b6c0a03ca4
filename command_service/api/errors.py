"""One exception handler: every error becomes `{"message": ..., "fields": {...}}` with the right status.

The body is bounded: a field lists at most FIELD_MESSAGES_MAX messages (one per bad item of a list, say), then one
counting the rest (`domain.errors.bounded`); the domain's own errors are bounded as they are collected.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from rest_framework import exceptions, status
from rest_framework.response import Response

from command_service.domain import errors
from runtime.api_errors import drf_error_response

DOMAIN_STATUS: dict[type[errors.DomainError], int] = {
    errors.ValidationFailed: status.HTTP_400_BAD_REQUEST,
    errors.PermissionDenied: status.HTTP_403_FORBIDDEN,
    errors.NotFound: status.HTTP_404_NOT_FOUND,
    errors.InvalidTransition: status.HTTP_409_CONFLICT,
    errors.Conflict: status.HTTP_409_CONFLICT,
    errors.StaleVersion: status.HTTP_412_PRECONDITION_FAILED,
}


class IdempotencyKeyReused(exceptions.APIException):
    """The Idempotency-Key was used before with another request body."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "this Idempotency-Key was used with a different request"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain errors and DRF's own to one body shape; anything else stays a 500 (a bug)."""
    if isinstance(exc, errors.DomainError):
        code = next(code for cls, code in DOMAIN_STATUS.items() if isinstance(exc, cls))
        return Response({"message": exc.message, "fields": exc.fields}, status=code)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_error_response(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data["fields"] = {name: errors.bounded(messages) for name, messages in response.data["fields"].items()}
    return response
