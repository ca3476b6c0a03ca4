"""Serializers shared by the views: strict input (unknown fields are errors) and the detail outputs."""

from __future__ import annotations

import itertools
import re
from typing import Any

from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from command_service.domain import rules
from command_service.domain.errors import FIELD_MESSAGES_MAX

UNKNOWN_NAME_MAX = 64  # an unknown field's name is echoed in the error body cut to this many characters
_SURROGATE = re.compile("[\ud800-\udfff]")


def _unknown_fields(data: Any, known: set[str]) -> dict[str, list[str]]:
    """The error of each unknown field, bounded: the first FIELD_MESSAGES_MAX names as sent (cut to
    UNKNOWN_NAME_MAX characters), and how many more under `non_field_errors`. Reads only as far as the first ones."""
    if not isinstance(data, dict):
        return {}
    first = list(itertools.islice((name for name in data if name not in known), FIELD_MESSAGES_MAX))
    unknown = {
        name if len(name) <= UNKNOWN_NAME_MAX else f"{name[:UNKNOWN_NAME_MAX]}...": ["is not a known field"]
        for name in first
    }
    more = len(data) - sum(name in data for name in known) - len(first)
    if more > 0:
        unknown["non_field_errors"] = [f"and {more} more unknown fields not shown"]
    return unknown


class StrictInput(serializers.Serializer):
    """An input serializer that rejects fields it does not declare, so a typo is an error, not a silent no-op."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = _unknown_fields(data, set(self.fields))
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **unknown}) from exc
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class PartialInput(StrictInput):
    """A partial change (RFC 5789): a field not sent keeps its value; at least one field must be sent."""

    # Every field of a subclass is declared required=False but one that is the body's only field; the schema hook
    # api/schema.partial_patch_bodies adds `minProperties: 1`.

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(f"send at least one of: {', '.join(self.fields)}")
        return attrs


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


def _no_surrogates(value: str) -> None:
    """DRF's ProhibitSurrogateCharactersValidator (same message), in C speed: DRF's loops over every character in
    Python, about 50 ms for a string of a mebibyte."""
    found = None if value.isascii() else _SURROGATE.search(value)
    if found is not None:
        message = ProhibitSurrogateCharactersValidator.message.format(code_point=ord(found.group()))
        raise serializers.ValidationError(message, code=ProhibitSurrogateCharactersValidator.code)


class Text(serializers.CharField):
    """A JSON string and nothing else (DRF's CharField would turn 12 into "12"); the domain checks its rules."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)
        self.validators = [
            _no_surrogates if isinstance(validator, ProhibitSurrogateCharactersValidator) else validator
            for validator in self.validators
        ]

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Tags(serializers.ListField):
    """A list of tags as sent; one longer than rules.TAGS_INPUT_MAX is refused before any item is read."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", Text())
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, list) and len(data) > rules.TAGS_INPUT_MAX:
            raise serializers.ValidationError([rules.tags_input_too_long(len(data))])
        return super().to_internal_value(data)
