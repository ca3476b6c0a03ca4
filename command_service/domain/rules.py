"""Field rules shared by the aggregates, collected so that one request reports every broken field at once."""

from __future__ import annotations

import re
from collections.abc import Callable

from command_service.domain.errors import FIELD_MESSAGES_MAX, ValidationFailed, not_shown

# The patterns are also the API schema's (api/serializers.py states them in the OpenAPI document): each check below
# uses them, so that the schema and the rule cannot disagree.
# Character classes spelled out, since `\s` and `\d` differ between Python's re (Unicode) and ECMA-262's (the
# schema's dialect). WHITESPACE is exactly what str.isspace() (and so str.strip()) counts as space.
WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
DIGIT = "0-9"  # "only digits" means ASCII digits (the deployment's password policy judges the others)
NOT_BLANK_RE = re.compile(f"[^{WHITESPACE}]")
NOT_ONLY_DIGITS_RE = re.compile(f"[^{DIGIT}]")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,30}$")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")  # a tag as kept
# A tag as sent: any case, spaces around it.
TAG_INPUT_RE = re.compile(rf"^[{WHITESPACE}]*[A-Za-z0-9][A-Za-z0-9-]{{0,31}}[{WHITESPACE}]*$")
# An absolute http(s) URL: scheme, a host part, then anything but spaces and control characters.
AVATAR_URL = r"https?://[^\x00-\x20/?#]+(?:[/?#][^\x00-\x20]*)?"
_AVATAR_URL_RE = re.compile(AVATAR_URL)
TITLE_MAX = 200
CONTENT_MAX = 100_000
TAGS_MAX = 10
# Bounds of the tags as sent, checked before any is normalized: the list may repeat a tag (in other cases or with
# spaces around it), so it may be longer than TAGS_MAX, but not without end; a tag may have spaces around it.
TAGS_INPUT_MAX = 1_000
TAG_INPUT_MAX = 64
COMMENT_MAX = 5_000
DISPLAY_NAME_MAX = 80
BIO_MAX = 1_000
AVATAR_URL_MAX = 500
PASSWORD_MIN = 8
PASSWORD_MAX = 128

type PasswordPolicy = Callable[[str], list[str]]  # a password's problems under the deployment's rules; [] if none


class FieldErrors:
    """Collects messages per field and raises them together.

    A list field's item messages (`add_item`) are bounded: the first FIELD_MESSAGES_MAX are kept, the rest only
    counted, in one message where the next would have been; a field's own messages (`add`) are always kept.
    """

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self._items_kept: dict[str, int] = {}
        self._not_shown: dict[str, tuple[int, int]] = {}  # field -> (where the count goes, how many items)

    def add(self, field: str, message: str) -> None:
        """Record one broken rule of a field."""
        self.errors.setdefault(field, []).append(message)

    def add_item(self, field: str, message: str) -> None:
        """Record one broken rule of an item of a list field: kept among the first FIELD_MESSAGES_MAX, else counted."""
        kept = self._items_kept.get(field, 0)
        if kept < FIELD_MESSAGES_MAX:
            self._items_kept[field] = kept + 1
            self.add(field, message)
            return
        where, count = self._not_shown.get(field, (len(self.errors[field]), 0))
        self._not_shown[field] = (where, count + 1)

    def raise_if_any(self) -> None:
        """Raise ValidationFailed naming every recorded field, if there is one."""
        if not self.errors:
            return
        fields = {name: list(messages) for name, messages in self.errors.items()}
        for name, (where, count) in self._not_shown.items():
            fields[name].insert(where, not_shown(count))
        raise ValidationFailed("the request breaks the rules of some fields", fields)


def check_text(errors: FieldErrors, field: str, value: str, *, max_length: int, required: bool = True) -> None:
    """A text field: at most `max_length` characters (checked first: a longer one is not read further), not blank
    when required."""
    if len(value) > max_length:
        errors.add(field, f"must be at most {max_length} characters (got {len(value)})")
    elif required and not NOT_BLANK_RE.search(value):
        errors.add(field, "must not be blank")


def check_username(errors: FieldErrors, username: str) -> None:
    """3 to 30 letters, digits or underscores."""
    if not USERNAME_RE.fullmatch(username):
        errors.add("username", "must be 3 to 30 letters, digits or underscores")


def check_password(
    errors: FieldErrors, password: str, *, policy: PasswordPolicy | None = None, field: str = "password"
) -> None:
    """At most PASSWORD_MAX characters (checked first: a longer one is not read further), at least PASSWORD_MIN, not
    only digits; then, for a password that passed these, the deployment's `policy`.

    The policy is the one definition of the password rule (Django's AUTH_PASSWORD_VALIDATORS, reached through the
    user repository); the checks here are its cheap floor, with the same bounds, so that they never disagree.
    """
    if len(password) > PASSWORD_MAX:
        errors.add(field, f"must be at most {PASSWORD_MAX} characters")
    elif len(password) < PASSWORD_MIN:
        errors.add(field, f"must be at least {PASSWORD_MIN} characters")
    elif not NOT_ONLY_DIGITS_RE.search(password):
        errors.add(field, "must not be only digits")
    elif policy is not None:
        for message in policy(password):
            errors.add(field, message)


def check_avatar_url(errors: FieldErrors, url: str | None) -> None:
    """Empty, or an absolute http(s) URL of at most AVATAR_URL_MAX characters (checked first: a longer one is not
    parsed)."""
    if not url:
        return
    if len(url) > AVATAR_URL_MAX:
        errors.add("avatar_url", f"must be at most {AVATAR_URL_MAX} characters")
        return
    if not _AVATAR_URL_RE.fullmatch(url):
        errors.add("avatar_url", "must be an absolute http or https URL")


def tags_input_too_long(count: int) -> str:
    """The message for a tags list longer than TAGS_INPUT_MAX as sent (the API's serializer says it too)."""
    return f"at most {TAGS_MAX} tags (got a list of {count}; at most {TAGS_INPUT_MAX} items are read)"


def normalize_tags(errors: FieldErrors, tags: list[str]) -> tuple[str, ...]:
    """Lower-case, de-duplicated (first occurrence wins) tags, each checked against TAG_RE; at most TAGS_MAX.

    The bounds of the input come first: a list of over TAGS_INPUT_MAX items is refused without reading one, a tag of
    over TAG_INPUT_MAX characters without normalizing it. Linear in the number of tags.
    """
    if len(tags) > TAGS_INPUT_MAX:
        errors.add("tags", tags_input_too_long(len(tags)))
        return ()
    normalized: dict[str, None] = {}  # insertion-ordered, so the first occurrence wins
    for raw in tags:
        if len(raw) > TAG_INPUT_MAX:
            errors.add_item("tags", f"a tag must be at most {TAG_INPUT_MAX} characters as sent (got {len(raw)})")
            continue
        tag = raw.strip().lower()
        if not TAG_INPUT_RE.fullmatch(raw):
            message = f"{tag!r} must be 1 to 32 lower-case letters, digits or hyphens, not starting with one"
            errors.add_item("tags", message)
        else:
            normalized[tag] = None  # matches TAG_RE
    if len(normalized) > TAGS_MAX:
        errors.add("tags", f"at most {TAGS_MAX} tags (got {len(normalized)})")
    return tuple(normalized)
