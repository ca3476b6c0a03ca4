"""The notice stream's retention (count, age, bytes) and the names redelivery's dedupe gives notices; pure."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from events.envelope import EventEnvelope
from events.types import CommentDeleted, PostEdited
from read_models.notices import (
    NOTICE_MAX_DOCUMENT_BYTES,
    NOTICE_RETENTION,
    OMITTED_FIELD,
    Retention,
    bounded_document,
    entry_size,
    gap_encode,
    notice_encode,
    seen_member,
)
from runtime.settings import SettingError, notice_max_document_bytes

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_the_defaults_are_the_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NOTICE_RETENTION", "NOTICE_MAX_AGE_SECONDS", "NOTICE_MAX_BYTES"):
        monkeypatch.delenv(name, raising=False)
    assert Retention.from_env() == Retention()
    assert Retention().count == NOTICE_RETENTION == 100_000
    assert Retention().max_age_seconds == 86_400
    assert Retention().max_bytes == 256 * 1024 * 1024


def test_the_environment_sets_each_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTICE_RETENTION", "500")
    monkeypatch.setenv("NOTICE_MAX_AGE_SECONDS", "60")
    monkeypatch.setenv("NOTICE_MAX_BYTES", "1000000")
    assert Retention.from_env() == Retention(count=500, max_age_seconds=60, max_bytes=1_000_000)


@pytest.mark.parametrize("raw", ["many", "0", "-5", "1.5"])
def test_a_bound_that_is_no_positive_whole_number_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("NOTICE_MAX_BYTES", raw)
    with pytest.raises(SettingError, match="NOTICE_MAX_BYTES"):
        Retention.from_env()


def test_a_document_within_the_bound_goes_whole_and_a_bigger_one_without_its_large_text_fields() -> None:
    small = {"id": "1", "title": "T", "content": "short", "tags": ["a"], "post_version": 2}
    assert json.loads(notice_encode(edit("short"), small, max_document_bytes=1000)["document"]) == small
    big = {**small, "content": "é" * 600}  # 600 characters, over 1,000 bytes as JSON (escaped) and as UTF-8
    bounded = json.loads(notice_encode(edit("é" * 600), big, max_document_bytes=1000)["document"])
    assert bounded == {"id": "1", "title": "T", "tags": ["a"], "post_version": 2, OMITTED_FIELD: ["content"]}
    comment = {"id": "4", "post_id": "1", "body": "b" * 2000, "comment_version": 1}
    assert json.loads(bounded_document(comment, 1000))[OMITTED_FIELD] == ["body"]
    author = {"id": "7", "display_name": "Ada", "bio": "b" * 2000, "user_version": 3}
    expected = {"id": "7", "display_name": "Ada", "user_version": 3, OMITTED_FIELD: ["bio"]}
    assert json.loads(bounded_document(author, 1000)) == expected
    assert notice_encode(edit("x"), None, max_document_bytes=1)["document"] == "null"  # a removal: nothing to bound


def test_the_document_bound_defaults_to_32_kib_and_is_set_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTICE_MAX_DOCUMENT_BYTES", raising=False)
    assert notice_max_document_bytes() == NOTICE_MAX_DOCUMENT_BYTES == 32 * 1024
    monkeypatch.setenv("NOTICE_MAX_DOCUMENT_BYTES", "2048")
    assert notice_max_document_bytes() == 2048
    monkeypatch.setenv("NOTICE_MAX_DOCUMENT_BYTES", "0")
    with pytest.raises(SettingError, match="NOTICE_MAX_DOCUMENT_BYTES"):
        notice_max_document_bytes()


def edit(content: str) -> EventEnvelope:
    return EventEnvelope.create(
        PostEdited("1", "T", content), subject_id="7", aggregate_version=2, correlation_id="c", occurred_at=AT
    )


def test_the_age_bound_is_a_stream_id_time() -> None:
    assert Retention(max_age_seconds=60).oldest_kept_millis(1_000_000) == 940_000


def test_a_notice_is_named_by_its_aggregate_and_version_whatever_its_event_id() -> None:
    first = EventEnvelope.create(
        PostEdited("12", "T", "c"), subject_id="7", aggregate_version=3, correlation_id="a", occurred_at=AT
    )
    again = EventEnvelope.create(
        PostEdited("12", "T", "c"), subject_id="7", aggregate_version=3, correlation_id="b", occurred_at=AT
    )
    assert seen_member(first) == seen_member(again) == "post:12:3"
    deleted = EventEnvelope.create(CommentDeleted("4", "12"), aggregate_version=2, correlation_id="a", occurred_at=AT)
    assert seen_member(deleted) == "comment:4:2"


def test_an_entrys_size_counts_its_encoded_field_names_and_values() -> None:
    assert entry_size({"kind": "gap", "lost": "12"}) == len("kindgaplost12")
    assert entry_size({"é": b"\x00\x01"}) == 4
    event = EventEnvelope.create(
        PostEdited("1", "T", "x" * 1000), subject_id="7", aggregate_version=2, correlation_id="c"
    )
    assert entry_size(notice_encode(event, None)) > 1000
    assert entry_size(gap_encode(3)) < 20
