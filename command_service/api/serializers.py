"""Serializers shared by the views: strict input (unknown fields are errors) and the detail outputs."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictInput(serializers.Serializer):
    """An input serializer that rejects fields it does not declare, so a typo is an error, not a silent no-op."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = (
            {name: ["is not a known field"] for name in sorted(set(data) - set(self.fields))}
            if isinstance(data, dict)
            else {}
        )
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **unknown}) from exc
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class AuthorOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.URLField(allow_null=True)


class UserOutput(AuthorOutput):
    bio = serializers.CharField()
    version = serializers.IntegerField()
    date_joined = serializers.DateTimeField()


class PostOutput(serializers.Serializer):
    id = serializers.IntegerField()
    author = AuthorOutput()
    title = serializers.CharField()
    content = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=["draft", "published", "archived"])
    comment_count = serializers.IntegerField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)


class PostRef(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class CommentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    post = PostRef()
    author = AuthorOutput()
    body = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ErrorOutput(serializers.Serializer):
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class Text(serializers.CharField):
    """A JSON string and nothing else (DRF's CharField would turn 12 into "12"); the domain checks its rules."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
