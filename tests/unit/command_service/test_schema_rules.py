"""The request schemas state exactly the domain's text rules: for any text, the schema (pattern and lengths, read with
Python's `re` as schemathesis reads them) accepts it if and only if the domain's check and the API's NUL rule do."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from command_service.api.serializers import (
    AVATAR_URL_RULES,
    NUL,
    PASSWORD_RULES,
    TAG_RULES,
    USERNAME_RULES,
    text_rules,
)
from command_service.domain import rules

# Text with the characters the rules turn on: spaces of several kinds, digits, NUL, letters a tag or URL takes.
TEXT = st.text(st.sampled_from([" ", "\t", "\n", "\u00a0", "\u2003", "\x1c", "\x00", "0", "7", "\u0663", "²", "a",
                                "Z", "_", "-", "K", "\u212a", "é", "/", ":", "h", "t", "p", "s", "?", "#"]),
               max_size=12) | st.text(max_size=12)  # fmt: skip


def schema_accepts(schema: dict[str, Any], value: str) -> bool:
    """Whether a string schema of the document accepts `value`, its pattern read as ECMA-262 reads it: there `$` is
    the end of the text only, where Python's also matches before a final newline (`\\Z` is ECMA's `$`)."""
    pattern = re.sub(r"(?<!\\)\$", r"\\Z", schema["pattern"])
    return (
        len(value) >= schema.get("minLength", 0)
        and len(value) <= schema.get("maxLength", len(value))
        and re.search(pattern, value) is not None
    )


def domain_accepts(check: Callable[[rules.FieldErrors, str], None], value: str) -> bool:
    """Whether the domain's `check` and the API's NUL rule accept `value`."""
    errors = rules.FieldErrors()
    check(errors, value)
    return not errors.errors and re.search(NUL, value) is None


CHECKS = {
    "title": (text_rules(rules.TITLE_MAX), lambda e, v: rules.check_text(e, "title", v, max_length=rules.TITLE_MAX)),
    "bio": (text_rules(8, required=False), lambda e, v: rules.check_text(e, "bio", v, max_length=8, required=False)),
    "username": (USERNAME_RULES, rules.check_username),
    "password": (PASSWORD_RULES, rules.check_password),
    "avatar_url": (AVATAR_URL_RULES, rules.check_avatar_url),
    "tag": (TAG_RULES, lambda e, v: rules.normalize_tags(e, [v])),
}


@settings(max_examples=300, deadline=None)
@given(value=TEXT)
@example(value=" \u00a0 ")  # blank, with a no-break space
@example(value="Birds ")  # a tag as sent: upper case, a space after
@example(value="\u212a")  # KELVIN SIGN, lower-cased to an ASCII k: not a tag as sent
@example(value="²²²²²²²²")  # superscript digits: not `\d`
@example(value="https://example.com/a.png")
def test_each_schema_accepts_exactly_what_the_domain_accepts(value: str) -> None:
    for field, (schema, check) in CHECKS.items():
        assert schema_accepts(schema, value) == domain_accepts(check, value), (field, value)


def test_the_password_floor_accepts_a_long_enough_passphrase() -> None:
    # The strategy's texts are too short for a password; one that passes must pass both.
    assert schema_accepts(PASSWORD_RULES, "correct horse")
    assert domain_accepts(rules.check_password, "correct horse")
