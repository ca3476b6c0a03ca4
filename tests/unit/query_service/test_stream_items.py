"""Every notice-stream entry becomes one stream item in order; one nobody may read is a position and nothing else.

Items are judged against the documents the read models hold at delivery (`Current`): `items_of` is the pure part of
`build_items`, which only adds the lookups (none for a page that needs none).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime

import pytest
from opensearchpy import OpenSearch

from events.envelope import EventEnvelope
from events.stream import EventFrame, event_frame_text, frame_from_json
from events.types import PostEdited
from query_service.stream import notices
from query_service.stream.visibility import Current
from read_models.notices import Entry, gap_encode, notice_encode, notice_parse

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POST = {"id": "1", "title": "T", "content": "words", "status": "published", "deleted": False, "tags": ["web"],
        "author": {"id": "7"}, "published_at": AT.isoformat(), "post_version": 3}  # fmt: skip
EVENT = EventEnvelope.create(
    PostEdited("1", "T", "words"),
    subject_id="7",
    aggregate_version=3,
    correlation_id="c",
    occurred_at=AT,
    event_id="00000000-0000-4000-8000-000000000001",
)


NOW = Current(posts={"1": POST}, comments={}, authors={})  # the post is still at the notice's version, public


def stored(position: str, fields: dict[str, bytes | str]) -> Entry:
    """The entry as redis-py gives it back: everything bytes."""
    return position.encode(), {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in fields.items()}


def test_the_stream_goes_on_past_an_unreadable_entry_and_nobody_sees_it(caplog: pytest.LogCaptureFixture) -> None:
    written = notice_encode(EVENT, POST)
    entries = [stored("1-0", written), stored("2-0", {"something": "else"}), stored("3-0", written)]
    with caplog.at_level(logging.WARNING, logger="query_service.stream.notices"):
        parsed = [notices._read(entry) for entry in entries]
    items = notices.items_of(parsed, "0-0", NOW)
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
    with caplog.at_level(logging.WARNING, logger="query_service.stream.notices"):
        parsed = [notices._read(entry) for entry in entries]
    items = notices.items_of(parsed, "0-0", NOW)
    assert [(item["position"], item["previous"]) for item in items] == [("1-0", "0-0"), ("2-0", None), ("3-0", "2-0")]
    assert items[1] == {"position": "2-0", "previous": None}  # nothing a subscriber could be sent
    assert all("event" in item for item in (items[0], items[2]))
    assert [record.getMessage() for record in caplog.records] == [
        "notices before 2-0 were lost by the projector: subscribers will resync"
    ]


def test_a_gap_marker_first_in_a_batch_hides_the_previous_position() -> None:
    # A page of gap markers and unreadable entries names no document: no lookup (nothing listens on port 9).
    entries = [stored("5-0", gap_encode(1)), stored("6-0", {"something": "else"})]
    items = notices.build_items(entries, "4-0", OpenSearch("http://127.0.0.1:9"))
    assert items == [{"position": "5-0", "previous": None}, {"position": "6-0", "previous": "5-0"}]


def edit(version: int, content: str) -> EventEnvelope:
    return EventEnvelope.create(PostEdited("1", "T", content), subject_id="7", aggregate_version=version,
                                correlation_id="c", occurred_at=AT)  # fmt: skip


def test_a_notice_a_later_event_superseded_is_only_a_position_and_the_current_one_goes_out() -> None:
    draft = {**POST, "status": "draft", "published_at": None, "content": "SECRET", "post_version": 1}
    entries = [
        stored("1-0", notice_encode(edit(1, "SECRET"), draft)),
        stored("2-0", notice_encode(edit(2, "clean"), {**POST, "content": "clean", "post_version": 2})),
        stored("3-0", notice_encode(edit(3, "words"), POST)),
    ]
    items = notices.items_of([notice_parse(entry) for entry in entries], "0-0", NOW)
    assert items[:2] == [{"position": "1-0", "previous": "0-0"}, {"position": "2-0", "previous": "1-0"}]
    assert json.loads(items[2]["event"])["aggregate_version"] == 3
    assert "SECRET" not in repr(items)


def test_a_replayed_notice_of_an_old_version_carrying_the_current_document_goes_nowhere() -> None:
    # A replay announces version 1 with the document as it is now (published): the event still holds the draft.
    replayed = stored("4-0", notice_encode(edit(1, "SECRET"), POST))
    assert notices.items_of([notice_parse(replayed)], "3-0", NOW) == [{"position": "4-0", "previous": "3-0"}]


def test_a_post_no_longer_public_takes_its_notices_with_it_and_a_missing_one_too() -> None:
    entry = stored("1-0", notice_encode(EVENT, POST))
    for now in ({"1": {**POST, "status": "draft"}}, {"1": {**POST, "deleted": True}}, {}):
        current = Current(posts=now, comments={}, authors={})
        assert notices.items_of([notice_parse(entry)], "0-0", current) == [{"position": "1-0", "previous": "0-0"}]


def test_a_notice_whose_event_lacks_its_fields_is_only_a_position() -> None:
    odd = {"aggregate_type": "comment", "aggregate_id": "3"}  # JSON objects, but not envelopes the projector wrote
    entries = [stored("1-0", {"event": json.dumps(odd), "document": "null"}), stored("2-0", {"event": "{}"})]
    parsed = [notice_parse(entry) for entry in entries]
    assert notices.items_of(parsed, "0-0", NOW) == [
        {"position": "1-0", "previous": "0-0"},
        {"position": "2-0", "previous": "1-0"},
    ]


def test_an_item_names_neither_who_acted_nor_the_writers_idempotency_key_and_still_decodes() -> None:
    # A moderator's edit, sent with an Idempotency-Key: both are in the stream, neither reaches a subscriber.
    moderated = EventEnvelope.create(
        PostEdited("1", "T", "words"), subject_id="7", aggregate_version=3, correlation_id="c",
        causation_id="idem-key-of-mod", actor_id="99", occurred_at=AT, event_id="00000000-0000-4000-8000-000000000002",
    )  # fmt: skip
    written = notice_encode(moderated, POST)

    [item] = notices.items_of([notice_parse(stored("1-0", written))], "0-0", NOW)

    sent, as_stored = json.loads(item["event"]), json.loads(written["event"])
    assert (sent["actor_id"], sent["causation_id"]) == (None, None)
    assert "idem-key-of-mod" not in item["event"]
    assert sent == {**as_stored, "actor_id": None, "causation_id": None}  # nothing else changed, nor its order
    assert list(sent) == list(as_stored)
    frame = frame_from_json(json.loads(event_frame_text(item["position"], item["event"], item["document"])))
    assert isinstance(frame, EventFrame)
    assert frame.event == dataclasses.replace(moderated, actor_id=None, causation_id=None)


def test_an_event_without_an_actor_goes_out_as_stored() -> None:
    [item] = notices.items_of([notice_parse(stored("1-0", notice_encode(EVENT, POST)))], "0-0", NOW)

    assert item["event"] == notice_encode(EVENT, POST)["event"].decode()
