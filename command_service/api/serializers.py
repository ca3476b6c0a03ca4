"""Serializers shared by the views: strict input (unknown fields are errors) and the detail outputs."""

from __future__ import annotations

import itertools
import re
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from command_service.domain import rules
from command_service.domain.errors import FIELD_MESSAGES_MAX

UNKNOWN_NAME_MAX = 64  # an unknown field's name is echoed in the error body cut to this many characters
_SURROGATE = re.compile("[\ud800-\udfff]")
NUL = r"\x00"  # no text holds it (PostgreSQL cannot store it): refused by Text, excluded by every text pattern
_NUL = re.compile(NUL)


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
    avatar_url = serializers.CharField(allow_null=True, help_text="An absolute http or https URL.")  # as checked


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


def _no_nul(value: str) -> None:
    """DRF's ProhibitNullCharactersValidator (same message), by the pattern the schema states (NUL)."""
    if _NUL.search(value):
        raise serializers.ValidationError(
            ProhibitNullCharactersValidator.message, code=ProhibitNullCharactersValidator.code
        )


def text_pattern(*, must_have_one_not: str | None = None) -> str:
    """The schema pattern of a text without NUL and, with `must_have_one_not` (a character class's inside, such as
    rules.WHITESPACE), with at least one character outside that class (not blank; not only digits)."""
    if must_have_one_not is None:
        return f"^[^{NUL}]*$"
    return f"^[^{NUL}]*[^{must_have_one_not}{NUL}][^{NUL}]*$"


def text_rules(max_length: int, *, required: bool = True) -> dict[str, Any]:
    """The schema of rules.check_text(max_length=..., required=...): at most `max_length` characters, not blank
    when required."""
    return {"maxLength": max_length, "pattern": text_pattern(must_have_one_not=rules.WHITESPACE if required else None)}


USERNAME_RULES = {"pattern": rules.USERNAME_RE.pattern}  # rules.check_username
PASSWORD_RULES = {  # rules.check_password's floor; the deployment's policy adds rules no schema states
    "minLength": rules.PASSWORD_MIN,
    "maxLength": rules.PASSWORD_MAX,
    "pattern": text_pattern(must_have_one_not=rules.DIGIT),
    "description": (
        f"{rules.PASSWORD_MIN} to {rules.PASSWORD_MAX} characters, not only digits; and, under the deployment's "
        "password rules, not a common password nor too like the username or display name."
    ),
}
AVATAR_URL_RULES = {"maxLength": rules.AVATAR_URL_MAX, "pattern": f"^(?:{rules.AVATAR_URL})?$"}
TAG_RULES = {"maxLength": rules.TAG_INPUT_MAX, "pattern": rules.TAG_INPUT_RE.pattern}  # rules.normalize_tags


class Text(serializers.Field):
    """A JSON string and nothing else (DRF's CharField would turn 12 into "12"), without NUL or lone surrogates; the
    domain checks its other rules, blank or not included.

    `rules` are what the domain checks, as JSON Schema keywords for the OpenAPI document only (api/schema.TextField
    states them): the domain reports every broken rule of a request at once, in its own words. Not a CharField, so
    that drf-spectacular does not add its own reading of `allow_blank` to them.
    """

    default_error_messages = {"invalid": serializers.CharField.default_error_messages["invalid"]}

    def __init__(self, *, rules: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schema_rules = {"type": "string", "pattern": text_pattern(), **(rules or {})}
        self.validators = [_no_nul, _no_surrogates]

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> str:
        return value


class Tags(serializers.ListField):
    """A list of tags as sent; one longer than rules.TAGS_INPUT_MAX is refused before any item is read."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", Text(rules=TAG_RULES))
        kwargs.setdefault("max_length", rules.TAGS_INPUT_MAX)  # for the schema: the check below comes first
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, list) and len(data) > rules.TAGS_INPUT_MAX:
            raise serializers.ValidationError([rules.tags_input_too_long(len(data))])
        return super().to_internal_value(data)
