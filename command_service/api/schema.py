"""OpenAPI pieces shared by the views: error responses and the request headers of conditional and safe-retry writes."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from command_service.api.serializers import ErrorOutput

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The ETag of the version the change is based on, such as "3": 412 when it is no longer current.',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "1 to 255 printable characters. A retry with the same key and body replays the first response "
        "(with `Idempotent-Replayed: true`) instead of writing again; the same key with another body is a 422."
    ),
)


def errors(*codes: int) -> dict[int, type[ErrorOutput]]:
    """The error responses an operation can give, all of the one error shape."""
    return dict.fromkeys(codes, ErrorOutput)


CHANGE_ERRORS = errors(400, 401, 403, 404, 409, 412)  # a change of an existing aggregate
