"""OpenAPI pieces shared by the views: error responses and the request headers of conditional and safe-retry writes."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from command_service.api.http import ETAG_PATTERN
from command_service.api.idempotency import KEY_PATTERN, REPLAYED_HEADER
from command_service.api.serializers import ErrorOutput
from events.consistency import TOKEN_HEADER

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The ETag of the version the change is based on, such as "3": 412 when it is no longer current.',
    pattern=ETAG_PATTERN,
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "1 to 255 printable ASCII characters. A retry with the same key and body replays the first response "
        "(with `Idempotent-Replayed: true`) instead of writing again; the same key with another body is a 422."
    ),
    pattern=KEY_PATTERN,
)


def _response_header(name: str, description: str, status: int) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.HEADER, description=description, response=[status])


def etag_header(status: int) -> OpenApiParameter:
    """`ETag` on a `status` answer: the version it shows or wrote."""
    return _response_header(
        "ETag", 'The version of the aggregate as an entity tag, such as "3": send it back as `If-Match`.', status
    )


def written_headers(status: int, *, location: bool = False, idempotent: bool = False) -> list[OpenApiParameter]:
    """The headers of a write's `status` answer (api/http.written_response; api/idempotency for the replay)."""
    headers = [
        etag_header(status),
        _response_header(
            TOKEN_HEADER,
            "`type:id:version` of what was written (`post:12:3`): send it to the query API as `X-Consistency-Token` "
            "to read this write.",
            status,
        ),
    ]
    if location:
        headers.append(_response_header("Location", "The URL of the aggregate written.", status))
    if idempotent:
        replayed = "`true` when this answer replays an earlier one (Idempotency-Key)."
        headers.append(_response_header(REPLAYED_HEADER, replayed, status))
    return headers


def errors(*codes: int) -> dict[int, type[ErrorOutput]]:
    """The error responses an operation can give, all of the one error shape."""
    return dict.fromkeys(codes, ErrorOutput)


CHANGE_ERRORS = errors(400, 401, 403, 404, 409, 412)  # a change of an existing aggregate


class TokenScheme(OpenApiAuthenticationExtension):
    """The `Authorization: Token <key>` scheme of api/authentication.py in the schema (as DRF's own token was)."""

    target_class = "command_service.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`, the key of `POST /api/v1/auth/token/`; it expires at its `expires_at`.",
        }


class TextField(OpenApiSerializerFieldExtension):
    """A `serializers.Text` field in the schema: a string, with the rules the domain checks (`Text.schema_rules`)."""

    target_class = "command_service.api.serializers.Text"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return dict(self.target.schema_rules)


# Postprocessing hooks of drf-spectacular (settings' SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): what every
# operation of a kind shares, stated once here instead of on each view.

WRITE_METHODS = ("post", "put", "patch", "delete")


def _error_response(description: str, **extra: Any) -> dict[str, Any]:
    """A response of the one error body (`ErrorOutput`)."""
    return {"description": description, **extra,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOutput"}}}}  # fmt: skip


THROTTLED = _error_response(
    "Too many requests of this kind from this caller: retry after `Retry-After` seconds.",
    headers={"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}},
)
TOO_LARGE = _error_response("The body is over 1 MiB (refused before it is read).")
NOT_JSON = _error_response("The body is not `application/json`.")


def _operations(result: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(method, operation) of every operation of the schema."""
    for operations in result.get("paths", {}).values():
        yield from operations.items()


def _body_schemas(result: dict[str, Any], operation: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The component schemas of an operation's request body (the serializer it is validated with)."""
    components = result.get("components", {}).get("schemas", {})
    for media in operation.get("requestBody", {}).get("content", {}).values():
        ref = media.get("schema", {}).get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            yield components[ref.rsplit("/", 1)[1]]


def closed_request_bodies(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Every request body refuses fields it does not declare (serializers.StrictInput): `additionalProperties:
    false`."""
    for _, operation in _operations(result):
        for schema in _body_schemas(result, operation):
            schema["additionalProperties"] = False
    return result


def partial_patch_bodies(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """The body of every PATCH (serializers.PartialInput) is required, its fields optional, one at least
    (`minProperties: 1`)."""
    for method, operation in _operations(result):
        if method == "patch" and "requestBody" in operation:
            operation["requestBody"]["required"] = True
            for schema in _body_schemas(result, operation):
                schema["minProperties"] = 1
    return result


def body_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Any write may be sent a body over the limit (413, refused by api/middleware before routing), and one that
    takes a body may be sent one that is not JSON (415)."""
    for method, operation in _operations(result):
        if method in WRITE_METHODS:
            operation["responses"].setdefault("413", copy.deepcopy(TOO_LARGE))
        if "requestBody" in operation:
            operation["responses"].setdefault("415", copy.deepcopy(NOT_JSON))
    return result


def throttled_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Every operation may answer 429 (api/throttles.py)."""
    for _, operation in _operations(result):
        operation["responses"].setdefault("429", copy.deepcopy(THROTTLED))
    return result


# OpenAPI links: what a client does next with what a write answered, the id from its body and the version from its
# ETag as If-Match (schemathesis's stateful phase follows them: create -> read -> change -> delete).
POST_CHANGES = ("post_edit", "post_tags_set", "post_publish", "post_unpublish", "post_archive", "post_delete")
COMMENT_CHANGES = ("comment_edit", "comment_delete")
_POST_NEXT = ("post_detail", "comment_add", *POST_CHANGES)
_COMMENT_NEXT = ("comment_detail", *COMMENT_CHANGES)
# operation -> (its success status, the path parameter its body's `id` fills, the operations it links to)
LINKS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "user_register": ("201", "user_id", ("user_detail", "user_profile_change")),
    "user_profile_change": ("200", "user_id", ("user_detail", "user_profile_change")),
    "post_create": ("201", "post_id", _POST_NEXT),
    **{operation: ("200", "post_id", _POST_NEXT) for operation in POST_CHANGES if operation != "post_delete"},
    "comment_add": ("201", "comment_id", _COMMENT_NEXT),
    "comment_edit": ("200", "comment_id", _COMMENT_NEXT),
}


def response_links(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """The `links` of LINKS on each write's success: `id` into the next operation's path, `ETag` as its If-Match."""
    by_id = {operation["operationId"]: operation for _, operation in _operations(result)}
    for source, (status, parameter, targets) in LINKS.items():
        links = {}
        for target in targets:
            parameters = {parameter: "$response.body#/id"}
            if any(p["in"] == "header" and p["name"] == IF_MATCH.name for p in by_id[target].get("parameters", [])):
                parameters[f"header.{IF_MATCH.name}"] = "$response.header.ETag"
            links[target] = {"operationId": target, "parameters": parameters}
        by_id[source]["responses"][status]["links"] = links
    return result
