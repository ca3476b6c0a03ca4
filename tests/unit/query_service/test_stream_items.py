"""Every notice-stream entry becomes one stream item in order; one nobody may read is a position and nothing else."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
from opensearchpy import OpenSearch

from events.envelope import EventEnvelope
from events.types import PostEdited
from query_service.stream import notices
from read_models.notices import Entry, gap_encode, notice_encode

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POST = {"id": "1", "title": "T", "content": "words", "status": "published", "deleted": False, "tags": ["web"],
        "author": {"id": "7"}, "published_at": AT.isoformat(), "post_version": 3}  # fmt: skip
EVENT = EventEnvelope.create(
    PostEdited("1", "T", "words"),
    aggregate_version=3,
    correlation_id="c",
    occurred_at=AT,
    event_id="00000000-0000-4000-8000-000000000001",
)


def stored(position: str, fields: dict[str, bytes | str]) -> Entry:
    """The entry as redis-py gives it back: everything bytes."""
    return position.encode(), {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in fields.items()}


def test_the_stream_goes_on_past_an_unreadable_entry_and_nobody_sees_it(caplog: pytest.LogCaptureFixture) -> None:
    written = notice_encode(EVENT, POST)
    entries = [stored("1-0", written), stored("2-0", {"something": "else"}), stored("3-0", written)]
    search = OpenSearch("http://127.0.0.1:9")  # post notices need no post lookup: never called
    with caplog.at_level(logging.WARNING, logger="query_service.stream.notices"):
        items = notices.build_items(entries, "0-0", search)
    assert [(item["position"], item["previous"]) for item in items] == [("1-0", "0-0"), ("2-0", "1-0"), ("3-0", "2-0")]
    assert items[1] == {"position": "2-0", "previous": "1-0"}
    for item in (items[0], items[2]):
        assert item["event"] == written["event"].decode()
        assert json.loads(item["document"]) == POST
        assert (item["aggregate_type"], item["tags"], item["author_id"]) == ("post", ["web"], "7")
    assert [record.getMessage() for record in caplog.records] == ["notice 2-0 is unreadable: b'event'"]


def test_a_gap_marker_breaks_the_chain_and_is_no_event(caplog: pytest.LogCaptureFixture) -> None:
    written = notice_encode(EVENT, POST)
    entries = [stored("1-0", written), stored("2-0", gap_encode(3)), stored("3-0", written)]
    search = OpenSearch("http://127.0.0.1:9")  # post notices need no post lookup: never called
    with caplog.at_level(logging.WARNING, logger="query_service.stream.notices"):
        items = notices.build_items(entries, "0-0", search)
    assert [(item["position"], item["previous"]) for item in items] == [("1-0", "0-0"), ("2-0", None), ("3-0", "2-0")]
    assert items[1] == {"position": "2-0", "previous": None}  # nothing a subscriber could be sent
    assert all("event" in item for item in (items[0], items[2]))
    assert [record.getMessage() for record in caplog.records] == [
        "notices before 2-0 were lost by the projector: subscribers will resync"
    ]


def test_a_gap_marker_first_in_a_batch_hides_the_previous_position() -> None:
    items = notices.build_items([stored("5-0", gap_encode(1))], "4-0", OpenSearch("http://127.0.0.1:9"))
    assert items == [{"position": "5-0", "previous": None}]
