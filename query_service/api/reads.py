"""The behaviour every list shares: validated parameters, read-your-writes, freshness, the page envelope."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events.consistency import STATUS_HEADER, TOKEN_HEADER
from query_service.adapters import opensearch, redis_client
from query_service.search.consistency import token_read, version_wait
from query_service.search.freshness import RecentRecords, freshness_of, freshness_record

FRESHNESS_HEADERS = {
    "last_event_at": "X-Read-Model-Last-Event-At",
    "updated_at": "X-Read-Model-Updated-At",
    "age_seconds": "X-Read-Model-Age",
}
# Freshness records of this process, read from Redis at most every FRESHNESS_CACHE_SECONDS.
RECENT_FRESHNESS = RecentRecords(lambda group: freshness_record(client=redis_client(), group=group))


class ReadApi(APIView):
    """Base of the list views: read-only, no authentication, OpenSearch behind every answer."""

    params_class: type[serializers.Serializer]
    consistency: str | None = None

    def validated(self, request: Request) -> dict[str, Any]:
        """The validated query parameters; then, if the request carries a consistency token, the bounded wait.

        Parameters are checked first so that a bad request is refused at once rather than after the wait.
        """
        params = self.params_class(data=request.query_params)
        params.is_valid(raise_exception=True)
        raw = request.headers.get(TOKEN_HEADER)
        if raw is not None:
            token = token_read(raw)
            seen = version_wait(client=opensearch(), token=token, timeout=settings.CONSISTENCY_WAIT_SECONDS)
            self.consistency = "consistent" if seen else "stale"
        return params.validated_data

    def page_response(self, request: Request, page: dict[str, Any]) -> Response:
        """A page with its `next` link (same parameters, the next cursor) and the read model's freshness."""
        next_url = None
        if page["next_cursor"]:
            query = request.query_params.copy()
            query["cursor"] = page["next_cursor"]
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return self.fresh_response({**page, "next": next_url})

    def fresh_response(self, data: dict[str, Any]) -> Response:
        """`data` plus how fresh the read model is, in the body and in headers."""
        record = RECENT_FRESHNESS.get(settings.PROJECTOR_GROUP, settings.FRESHNESS_CACHE_SECONDS)
        freshness = freshness_of(record)
        response = Response({**data, "freshness": freshness})
        for key, header in FRESHNESS_HEADERS.items():
            if freshness is not None:
                response[header] = str(freshness[key])
        return response

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.consistency is not None:
            response[STATUS_HEADER] = self.consistency
        return response
