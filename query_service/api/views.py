"""Thin read views: validate, wait for the client's own write if asked, run one search function, answer."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from events.consistency import STATUS_HEADER, TOKEN_HEADER, TOKEN_PATTERN
from query_service.adapters import opensearch
from query_service.api import serializers as params
from query_service.api.reads import FRESHNESS_HEADERS, ReadApi
from query_service.search.authors import author_list
from query_service.search.comments import comment_list
from query_service.search.posts import post_is_public, post_search, tag_facets

TOKEN_PARAMETER = OpenApiParameter(
    TOKEN_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "The token a command response sent (`post:12:3`): the answer waits, bounded, until that version is "
        "searchable; `X-Consistency-Status` says `consistent` or `stale`. A token of content the lists do not show "
        "(a draft, a deleted comment) waits the whole time and answers `stale`, exactly like an unknown id."
    ),
    pattern=TOKEN_PATTERN,
)


FRESHNESS_MEANINGS = {
    "last_event_at": "When the newest event the read models applied occurred (ISO 8601, UTC).",
    "updated_at": "When the projector applied it (ISO 8601, UTC).",
    "age_seconds": "Seconds from that event to its being applied: how far behind the writes the read models ran.",
}
ANSWER_HEADERS = [
    OpenApiParameter(
        STATUS_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, enum=["consistent", "stale"], response=[200],
        description=f"With `{TOKEN_HEADER}` only: whether its version was searchable before the answer.",
    ),
    *(
        OpenApiParameter(
            header, OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200],
            description=f"{FRESHNESS_MEANINGS[key]} Absent while the freshness is unknown.",
        )
        for key, header in FRESHNESS_HEADERS.items()
    ),
]  # fmt: skip


class ErrorSerializer(serializers.Serializer):
    """The one error body (for the schema): a message, and the messages of each bad parameter."""

    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


ERRORS = {400: ErrorSerializer, 503: ErrorSerializer}  # a bad parameter; the read models unreachable (Retry-After)


class FreshnessSerializer(serializers.Serializer):
    """How fresh the read models are (for the schema); null while unknown (search.freshness)."""

    last_event_at = serializers.DateTimeField(help_text=FRESHNESS_MEANINGS["last_event_at"])
    updated_at = serializers.DateTimeField(help_text=FRESHNESS_MEANINGS["updated_at"])
    age_seconds = serializers.FloatField(help_text=FRESHNESS_MEANINGS["age_seconds"])
    idle_seconds = serializers.FloatField(help_text="Seconds since the projector last applied an event.")


class PageSerializer(serializers.Serializer):
    """The envelope of every list (for the schema; api/documents.py names each list's document type)."""

    results = serializers.ListField(child=serializers.DictField())
    next = serializers.URLField(allow_null=True)
    next_cursor = serializers.CharField(allow_null=True)
    total = serializers.IntegerField()
    total_is_exact = serializers.BooleanField()
    freshness = FreshnessSerializer(allow_null=True)


class TagCountSerializer(serializers.Serializer):
    """One facet bucket (for the schema)."""

    tag = serializers.CharField()
    count = serializers.IntegerField()


class TagFacetsSerializer(serializers.Serializer):
    """The tag facets answer (for the schema)."""

    results = TagCountSerializer(many=True)
    freshness = FreshnessSerializer(allow_null=True)


class PostSearchApi(ReadApi):
    """Published posts: search, filter, sort, page."""

    params_class = params.PostSearchParams

    @extend_schema(
        operation_id="post_search",
        parameters=[params.PostSearchParams, TOKEN_PARAMETER, *ANSWER_HEADERS],
        responses={200: PageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        values = self.validated(request)
        page = post_search(
            client=opensearch(),
            post_filter=params.PostFilterParams.post_filter(values),
            sort=values["sort"],
            cursor=values["cursor"],
            size=values["page_size"],
        )
        return self.page_response(request, page)


class TagFacetListApi(ReadApi):
    """Tag counts over the published posts a filter matches."""

    params_class = params.TagFacetParams

    @extend_schema(
        operation_id="post_tag_facets",
        parameters=[params.TagFacetParams, TOKEN_PARAMETER, *ANSWER_HEADERS],
        responses={200: TagFacetsSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        values = self.validated(request)
        facets = tag_facets(client=opensearch(), post_filter=params.PostFilterParams.post_filter(values))
        return self.fresh_response({"results": facets})


class PostCommentListApi(ReadApi):
    """The comments of a published post, oldest first."""

    params_class = params.CommentListParams

    @extend_schema(
        operation_id="post_comment_list",
        parameters=[params.CommentListParams, TOKEN_PARAMETER, *ANSWER_HEADERS],
        responses={200: PageSerializer, 404: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, post_id: int) -> Response:
        values = self.validated(request)
        client = opensearch()
        if not post_is_public(client=client, post_id=str(post_id)):
            raise NotFound("no published post has this id")
        page = comment_list(client=client, post_id=str(post_id), cursor=values["cursor"], size=values["page_size"])
        return self.page_response(request, page)


class AuthorListApi(ReadApi):
    """The authors directory."""

    params_class = params.AuthorListParams

    @extend_schema(
        operation_id="author_list",
        parameters=[params.AuthorListParams, TOKEN_PARAMETER, *ANSWER_HEADERS],
        responses={200: PageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        values = self.validated(request)
        page = author_list(
            client=opensearch(), q=values.get("q") or None, cursor=values["cursor"], size=values["page_size"]
        )
        return self.page_response(request, page)
