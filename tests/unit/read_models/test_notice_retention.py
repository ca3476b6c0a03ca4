"""The notice stream's retention (count, age, bytes) and the names redelivery's dedupe gives notices; pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.envelope import EventEnvelope
from events.types import CommentDeleted, PostEdited
from read_models.notices import NOTICE_RETENTION, Retention, entry_size, gap_encode, notice_encode, seen_member
from runtime.settings import SettingError

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


def test_the_byte_budget_shortens_the_length_bound_by_the_average_entry_size() -> None:
    retention = Retention(count=1000, max_age_seconds=60, max_bytes=100_000)
    assert retention.max_length(None) == 1000  # nothing written yet: the count alone
    assert retention.max_length(50) == 1000  # 2,000 entries of 50 bytes fit: the count binds first
    assert retention.max_length(1000) == 100
    assert retention.max_length(400.5) == 249
    assert retention.max_length(10_000_000) == 1  # the newest entry is always kept


def test_the_age_bound_is_a_stream_id_time() -> None:
    assert Retention(max_age_seconds=60).oldest_kept_millis(1_000_000) == 940_000


def test_a_notice_is_named_by_its_aggregate_and_version_whatever_its_event_id() -> None:
    first = EventEnvelope.create(PostEdited("12", "T", "c"), aggregate_version=3, correlation_id="a", occurred_at=AT)
    again = EventEnvelope.create(PostEdited("12", "T", "c"), aggregate_version=3, correlation_id="b", occurred_at=AT)
    assert seen_member(first) == seen_member(again) == "post:12:3"
    deleted = EventEnvelope.create(CommentDeleted("4", "12"), aggregate_version=2, correlation_id="a", occurred_at=AT)
    assert seen_member(deleted) == "comment:4:2"


def test_an_entrys_size_counts_its_encoded_field_names_and_values() -> None:
    assert entry_size({"kind": "gap", "lost": "12"}) == len("kindgaplost12")
    assert entry_size({"é": b"\x00\x01"}) == 4
    event = EventEnvelope.create(PostEdited("1", "T", "x" * 1000), aggregate_version=2, correlation_id="c")
    assert entry_size(notice_encode(event, None)) > 1000
    assert entry_size(gap_encode(3)) < 20
