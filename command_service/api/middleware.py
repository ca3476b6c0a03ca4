"""Refuse oversize request bodies before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class BodySizeLimitMiddleware:
    """413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE (DRF's parsers read the stream and would not check)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"message": "Content-Length is not a number", "fields": {}}, status=400)
        if limit is not None and length > limit:
            message = f"the request body is {length} bytes; the limit is {limit}"
            return JsonResponse({"message": message, "fields": {}}, status=413)
        return self.get_response(request)
