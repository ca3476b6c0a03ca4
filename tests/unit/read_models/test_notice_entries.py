"""A notice written by the projector reads back as it was meant; an entry nobody wrote is a position and nothing else.

Entries are shaped as redis-py returns them from XRANGE / XREAD: the id and every field name and value as bytes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from events.envelope import EventEnvelope, decode
from events.types import PostEdited
from read_models.notices import GAP_KIND, Entry, Notice, gap_encode, notice_encode, notice_parse

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POST = {"id": "1", "title": "T", "content": "words", "status": "published", "deleted": False, "tags": ["web"],
        "author": {"id": "7"}, "published_at": AT.isoformat(), "post_version": 3,
        "count_clock": 1700000000000000, "field_versions": {"title": 3}}  # fmt: skip


def edited() -> EventEnvelope:
    return EventEnvelope.create(
        PostEdited("1", "T", "words"), subject_id="7", aggregate_version=3, correlation_id="c", occurred_at=AT
    )


def stored(position: str, fields: dict[str, bytes | str]) -> Entry:
    """The entry as Redis gives it back."""
    return position.encode(), {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in fields.items()}


def test_an_encoded_notice_parses_back_to_its_event_and_public_document() -> None:
    event = edited()
    notice = notice_parse(stored("5-0", notice_encode(event, POST)))
    assert notice.error is None
    assert notice.position == "5-0"
    assert decode(notice.event_text.encode()) == event
    assert notice.event == json.loads(notice.event_text)
    assert notice.event["event_type"] == "post.edited"
    assert notice.document == {k: v for k, v in POST.items() if k not in ("count_clock", "field_versions")}
    assert json.loads(notice.document_text) == notice.document


def test_the_entry_carries_the_event_type_and_a_removed_document_as_null() -> None:
    fields = notice_encode(edited(), None)
    assert fields["event_type"] == "post.edited"
    assert fields["document"] == "null"
    notice = notice_parse(stored("6-1", fields))
    assert notice.document is None
    assert notice.document_text == "null"
    assert notice.error is None


def test_an_entry_without_a_document_field_reads_as_a_removal() -> None:
    event_text = notice_encode(edited(), POST)["event"]
    notice = notice_parse(stored("7-0", {"event": event_text}))
    assert notice.error is None
    assert notice.document is None


def test_a_stream_id_given_as_text_is_the_position_as_is() -> None:
    _, fields = stored("8-0", notice_encode(edited(), POST))
    assert notice_parse(("8-0", fields)).position == "8-0"


@pytest.mark.parametrize(
    "fields",
    [
        {},  # no event field
        {"document": "null"},
        {"event": "not json", "document": "null"},
        {"event": "[1, 2]", "document": "null"},  # JSON, but not an object
        {"event": "{}", "document": "3"},  # a document that is not an object
        {"event": b"\xff\xfe", "document": "null"},  # not UTF-8
    ],
)
def test_an_entry_not_written_by_the_projector_is_only_a_position(fields: dict[str, bytes | str]) -> None:
    notice = notice_parse(stored("9-0", fields))
    assert notice.error
    assert notice == Notice("9-0", error=notice.error)  # no event, no document, no text


def test_a_gap_marker_parses_as_a_gap_with_no_event() -> None:
    fields = gap_encode(12)
    assert fields == {"kind": GAP_KIND, "lost": "12"}
    notice = notice_parse(stored("10-0", fields))
    assert notice == Notice("10-0", gap=True)  # no event, no document, not an error
    assert not notice_parse(stored("11-0", notice_encode(edited(), POST))).gap


def test_a_gap_marker_is_told_apart_from_a_notice_by_its_kind_field_only() -> None:
    fields = {**notice_encode(edited(), POST), "kind": GAP_KIND}
    assert notice_parse(stored("12-0", fields)).gap
    assert notice_parse(stored("13-0", {"kind": "other"})).error  # another kind is just unreadable
