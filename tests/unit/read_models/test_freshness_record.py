"""The progress record the projector writes is the one readers parse; anything else is refused, not guessed at."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from read_models.freshness import FreshnessRecord, freshness_encode, freshness_parse

OCCURRED = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
RECORD = FreshnessRecord(last_occurred_at=OCCURRED, last_applied_at=OCCURRED + timedelta(milliseconds=250))


def test_a_record_parses_back_from_its_text_and_from_the_bytes_redis_returns() -> None:
    text = freshness_encode(RECORD)
    assert freshness_parse(text) == RECORD
    assert freshness_parse(text.encode()) == RECORD


def test_the_stored_form_is_a_json_object_of_two_iso_times() -> None:
    assert json.loads(freshness_encode(RECORD)) == {
        "last_occurred_at": "2025-03-01T12:00:00.123456+00:00",
        "last_applied_at": "2025-03-01T12:00:00.373456+00:00",
    }


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        b"\xff",
        "[]",
        "{}",
        '{"last_occurred_at": "2025-03-01T12:00:00+00:00"}',
        '{"last_occurred_at": "yesterday", "last_applied_at": "2025-03-01T12:00:00+00:00"}',
        '{"last_occurred_at": 1, "last_applied_at": 2}',
    ],
)
def test_anything_else_is_refused_with_value_error(raw: str | bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the one error parse raises, whatever is wrong
        freshness_parse(raw)
