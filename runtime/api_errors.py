"""The error body both HTTP APIs answer with: `{"message": ..., "fields": {field: [messages]}}`.

Each service's exception handler maps its own errors first and hands DRF's to `drf_error_response`.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

INVALID = "the request is invalid"


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


def field_messages(detail: Any) -> dict[str, list[str]]:
    """A ValidationError's detail as {field: [messages]}; errors not tied to a field go under `non_field_errors`."""
    if isinstance(detail, dict):
        return {str(name): _messages(messages) for name, messages in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": _messages(detail)}
    return {}


def drf_error_response(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's own handling (status, headers) with the shared body; None for what DRF does not handle (a 500)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"message": INVALID, "fields": field_messages(exc.detail)}
    else:
        response.data = {"message": str(getattr(exc, "detail", exc)), "fields": {}}
    return response
