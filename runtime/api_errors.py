"""The error body both HTTP APIs answer with: `{"message": ..., "fields": {field: [messages]}}`.

Each service's exception handler maps its own errors first and hands DRF's to `drf_error_response`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
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


class JsonErrorPagesMiddleware:
    """Django's own 404 and 405 pages (an unknown route, a method a plain view refuses) as the shared error body.

    DRF's views already answer errors as JSON; this covers what never reaches them, e.g. `GET /api/v1/posts/x/`
    that no route matches, in both profiles (with DEBUG on, Django would otherwise answer its technical HTML page).
    Placed first in MIDDLEWARE, it sees the response last, after CommonMiddleware has declined to add a slash. Paths
    under `HTML_PREFIXES` (the admin, a browser's pages) keep Django's HTML.
    """

    HTML_PREFIXES = ("/admin/",)
    MESSAGES = {404: str(exceptions.NotFound.default_detail), 405: "method not allowed"}

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        message = self.MESSAGES.get(response.status_code)
        if message is None or response.get("Content-Type", "").startswith("application/json"):
            return response
        if request.path.startswith(self.HTML_PREFIXES):
            return response
        answer = JsonResponse({"message": message, "fields": {}}, status=response.status_code)
        for header, value in response.items():  # Allow, CORS, security headers: what the page had, it keeps
            if header.lower() not in ("content-type", "content-length"):
                answer[header] = value
        return answer
