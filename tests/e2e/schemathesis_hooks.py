"""schemathesis hooks of tests/e2e/schemathesis.toml: they drop only the failures whose request schemathesis calls
valid but the document does not.

Loaded by the `st` process (`hooks` in the config file), which imports nothing of Django: only pure-Python rules.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import schemathesis
from schemathesis.openapi.checks import EnsureResourceAvailability, RejectedPositiveData

from command_service.domain import rules

_replayed: set[str] = set()  # the paths (Location) of the resources of answers replayed for an Idempotency-Key


def _header_breaks_its_pattern(case: Any) -> bool:
    """A header value the document's pattern refuses: schemathesis 4.32's coverage phase draws header values from
    letters and digits only, so for If-Match (an entity tag, `"3"`) it sends `0` in a case it labels valid."""
    for parameter in case.operation.iter_parameters():
        if parameter.location.value != "header":
            continue
        pattern = parameter.definition.get("schema", {}).get("pattern")
        value = (case.headers or {}).get(parameter.name)
        if pattern and value is not None and not re.search(pattern, str(value)):
            return True
    return False


def _more_distinct_tags_than_allowed(case: Any) -> bool:
    """More than rules.TAGS_MAX distinct tags: the document says so in words (a list may repeat a tag, so its
    `maxItems` is the bound as sent), as JSON Schema cannot count distinct values after lower-casing."""
    body = case.body if isinstance(case.body, dict) else {}
    tags = body.get("tags")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        return False
    return len({tag.strip().lower() for tag in tags}) > rules.TAGS_MAX


UNKNOWABLE = {"old_password", "cursor"}  # the current password; a page cursor only the query service issues
# The erasure's `password` is the account's current password too (its registration's is any that passes the floor).
CURRENT_PASSWORD = {("DELETE", "/api/v1/users/{user_id}/"): "password"}


def _refused_for_what_no_schema_states(case: Any, response: Any) -> bool:
    """A refusal naming only fields whose broken rule no schema can state: a value no generated request can know
    (UNKNOWABLE), or a password that passes the floor the schema states (rules.check_password) but not the
    deployment's policy (too common, too like the username). Every other field's rules are still checked: both APIs
    report every broken field at once."""
    try:
        fields = response.json().get("fields", {})
    except (ValueError, AttributeError):
        return False
    body = case.body if isinstance(case.body, dict) else {}
    current = CURRENT_PASSWORD.get((case.operation.method.upper(), case.operation.path))
    left = set(fields) - UNKNOWABLE - {current}
    for name in {"password", "new_password"} & left:
        floor = rules.FieldErrors()
        rules.check_password(floor, str(body.get(name, "")), field=name)
        if not floor.errors:
            left.discard(name)
    return bool(fields) and not left


def _empty_published_range(case: Any, response: Any) -> bool:
    """A query refused for `published_before` not later than `published_after`: a rule between two parameters,
    which the document states in words (JSON Schema cannot compare them)."""
    query = case.query or {}
    try:
        fields = response.json().get("fields", {})
        after, before = (datetime.fromisoformat(str(query[name])) for name in ("published_after", "published_before"))
        return set(fields) == {"published_before"} and after >= before
    except (KeyError, ValueError, TypeError, AttributeError):
        return False


@schemathesis.hook
def after_call(ctx: Any, case: Any, response: Any) -> None:
    """Note what a replayed answer created: a replay repeats the first answer, of a resource since deleted maybe."""
    if response.headers.get("idempotent-replayed") == ["true"]:
        for location in response.headers.get("location", []):
            _replayed.add(urlsplit(location).path)


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but a refusal of a request that the document does not call valid, or that no generated
    request can make valid."""
    if isinstance(failure, EnsureResourceAvailability):
        return case.formatted_path not in _replayed  # "created" by a replay: gone since, rightly
    if not isinstance(failure, RejectedPositiveData):
        return True
    dropped = (
        _header_breaks_its_pattern(case)
        or _more_distinct_tags_than_allowed(case)
        or _refused_for_what_no_schema_states(case, response)
        or _empty_published_range(case, response)
    )
    return not dropped
