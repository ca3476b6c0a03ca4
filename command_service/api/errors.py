"""One exception handler: every error becomes `{"message": ..., "fields": {...}}` with the right status."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from command_service.domain import errors

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


def _messages(detail: Any, prefix: str = "") -> list[str]:
    """Flat messages of one field; a list item's or a nested field's errors are prefixed with where they are."""
    if isinstance(detail, dict):
        return [
            message
            for key, inner in detail.items()
            for message in _messages(inner, f"{prefix}{'item ' if isinstance(key, int) else ''}{key}: ")
        ]
    if isinstance(detail, list):
        return [message for inner in detail for message in _messages(inner, prefix)]
    return [f"{prefix}{detail}"]


def _fields(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(name): _messages(msgs) for name, msgs in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": _messages(detail)}
    return {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain errors and DRF's own to one body shape; anything else stays a 500 (a bug)."""
    if isinstance(exc, errors.DomainError):
        code = next(code for cls, code in DOMAIN_STATUS.items() if isinstance(exc, cls))
        return Response({"message": exc.message, "fields": exc.fields}, status=code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"message": "the request is invalid", "fields": _fields(exc.detail)}
    else:
        response.data = {"message": str(getattr(exc, "detail", exc)), "fields": {}}
    return response
