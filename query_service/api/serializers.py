"""Query-parameter serializers: every list parameter validated before any search is built."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from rest_framework import serializers

from query_service.search.posts import SORTS, PostFilter

DATETIME_FORMATS = ["iso-8601", "%Y-%m-%d"]
ID_PATTERN = r"^[0-9]{1,19}$"
TAG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$"
# Search text: anything but NUL (which OpenSearch cannot take); "" is no text at all (`allow_blank`).
TEXT = RegexValidator(r"^[^\x00]+$", message=ProhibitNullCharactersValidator.message)


class SearchText(serializers.CharField):
    """An optional search text: "" is none; no NUL, checked by TEXT in place of DRF's own check, so that the schema
    states it (drf-spectacular reads a RegexValidator's pattern)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_blank=True, **kwargs)
        self.validators = [TEXT if isinstance(v, ProhibitNullCharactersValidator) else v for v in self.validators]


class StrictParams(serializers.Serializer):
    """Rejects parameter names it does not know: a typo must not silently widen a list."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            allowed = ", ".join(sorted(self.fields))
            raise serializers.ValidationError(
                {name: [f"is not a parameter here (allowed: {allowed})"] for name in unknown}
            )
        # DRF reads an empty optional query parameter as a missing one; the schema says what each one takes, so an
        # empty value is refused where the schema does not allow it (`allow_blank`), as any other breach is.
        empty = [
            name for name, field in self.fields.items()
            if data.get(name) == "" and not isinstance(field, serializers.ListField)
            and not getattr(field, "allow_blank", False)
        ]  # fmt: skip
        if empty:
            raise serializers.ValidationError({name: ["must not be empty (leave the parameter out)"] for name in empty})
        return super().to_internal_value(data)


class PageParams(StrictParams):
    """A page of a list: the previous page's cursor and a page size (capped at PAGE_SIZE_MAX)."""

    cursor = serializers.CharField(
        required=False, max_length=1024, help_text="The `next_cursor` of the previous page, as this service issued it."
    )
    page_size = serializers.IntegerField(required=False, min_value=1)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        values["page_size"] = min(values.get("page_size", settings.PAGE_SIZE_DEFAULT), settings.PAGE_SIZE_MAX)
        values.setdefault("cursor", None)
        return values


class PostFilterParams(StrictParams):
    """The filters of the posts list and of its tag facets."""

    q = SearchText(max_length=200)
    tag = serializers.ListField(
        child=serializers.RegexField(TAG_PATTERN, error_messages={"invalid": "is not a tag"}),
        required=False,
        max_length=10,
    )
    author = serializers.RegexField(ID_PATTERN, required=False, error_messages={"invalid": "must be a user id"})
    published_after = serializers.DateTimeField(required=False, input_formats=DATETIME_FORMATS)
    published_before = serializers.DateTimeField(
        required=False, input_formats=DATETIME_FORMATS, help_text="Later than `published_after`, when both are given."
    )

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

    q = SearchText(max_length=100)
