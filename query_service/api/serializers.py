"""Query-parameter serializers: every list parameter validated before any search is built."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from query_service.search.posts import SORTS, PostFilter

DATETIME_FORMATS = ["iso-8601", "%Y-%m-%d"]
ID_PATTERN = r"^[0-9]{1,19}$"
TAG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$"


class StrictParams(serializers.Serializer):
    """Rejects parameter names it does not know: a typo must not silently widen a list."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            allowed = ", ".join(sorted(self.fields))
            raise serializers.ValidationError(
                {name: [f"is not a parameter here (allowed: {allowed})"] for name in unknown}
            )
        return super().to_internal_value(data)


class PageParams(StrictParams):
    """A page of a list: the previous page's cursor and a page size (capped at PAGE_SIZE_MAX)."""

    cursor = serializers.CharField(required=False, max_length=1024)
    page_size = serializers.IntegerField(required=False, min_value=1)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        values["page_size"] = min(values.get("page_size", settings.PAGE_SIZE_DEFAULT), settings.PAGE_SIZE_MAX)
        values.setdefault("cursor", None)
        return values


class PostFilterParams(StrictParams):
    """The filters of the posts list and of its tag facets."""

    q = serializers.CharField(required=False, max_length=200, trim_whitespace=True)
    tag = serializers.ListField(
        child=serializers.RegexField(TAG_PATTERN, error_messages={"invalid": "is not a tag"}),
        required=False,
        max_length=10,
    )
    author = serializers.RegexField(ID_PATTERN, required=False, error_messages={"invalid": "must be a user id"})
    published_after = serializers.DateTimeField(required=False, input_formats=DATETIME_FORMATS)
    published_before = serializers.DateTimeField(required=False, input_formats=DATETIME_FORMATS)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        after, before = attrs.get("published_after"), attrs.get("published_before")
        if after and before and after >= before:
            raise serializers.ValidationError({"published_before": ["must be later than published_after"]})
        return attrs

    @staticmethod
    def post_filter(values: dict[str, Any]) -> PostFilter:
        """The search filter the validated values describe."""
        return PostFilter(
            q=values.get("q") or None,
            tags=tuple(dict.fromkeys(tag.lower() for tag in values.get("tag", []))),
            author_id=values.get("author"),
            published_after=values.get("published_after"),
            published_before=values.get("published_before"),
        )


class PostSearchParams(PageParams, PostFilterParams):
    """GET /posts/: filters, text, sort, page."""

    sort = serializers.ChoiceField(choices=list(SORTS), required=False, default="newest")


class TagFacetParams(PostFilterParams):
    """GET /posts/tags/: the same filters as the posts list, no page."""


class CommentListParams(PageParams):
    """GET /posts/<id>/comments/: a page."""


class AuthorListParams(PageParams):
    """GET /authors/: optional text, a page."""

    q = serializers.CharField(required=False, max_length=100, trim_whitespace=True)
