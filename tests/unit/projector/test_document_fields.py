"""The pure field builders of read-model documents: times, previews, reading time, embedded authors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.types import AuthorSnapshot

# Projector imports in one block (its modules are being moved into subpackages).
from projector.consumer.documents import author_fields, content_preview, iso, reading_time, text_fields


def test_iso_writes_utc_with_microseconds_and_z() -> None:
    assert iso(datetime(2025, 3, 1, 12, 30, 5, 123, tzinfo=UTC)) == "2025-03-01T12:30:05.000123Z"
    assert iso(datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == "2024-12-31T23:59:59.999999Z"


def test_iso_of_no_time_is_none() -> None:
    assert iso(None) is None


def test_a_short_preview_is_the_content_with_whitespace_folded() -> None:
    assert content_preview("  Hello,\n\n\tworld  of   words ") == "Hello, world of words"


def test_a_preview_of_exactly_200_characters_is_not_cut() -> None:
    content = "a" * 200

    assert content_preview(content) == content
    assert content_preview(content + "\n  ") == content


def test_a_long_preview_is_cut_at_the_last_word_boundary_near_the_limit() -> None:
    assert content_preview("word " * 100) == " ".join(["word"] * 40) + "…"


def test_a_preview_is_cut_hard_when_no_word_boundary_is_near_the_limit() -> None:
    assert content_preview("x" * 250) == "x" * 200 + "…"
    assert content_preview("a " + "b" * 300) == "a " + "b" * 198 + "…"


@pytest.mark.parametrize(
    ("content", "preview"),
    [
        ("a" * 170 + " " + "b" * 100, "a" * 170 + " " + "b" * 29 + "…"),  # a space at 170 is not near enough
        ("a" * 171 + " " + "b" * 100, "a" * 171 + "…"),  # a space at 171 is
    ],
    ids=["space at 170", "space at 171"],
)
def test_the_word_boundary_must_lie_within_the_last_30_characters(content: str, preview: str) -> None:
    assert content_preview(content) == preview


@pytest.mark.parametrize(
    ("content", "minutes"),
    [("", 1), ("one", 1), ("w " * 200, 1), ("w " * 201, 2), ("w " * 400, 2), ("w " * 401, 3), ("... !!! ---", 1)],
    ids=["empty", "one word", "200 words", "201 words", "400 words", "401 words", "no words"],
)
def test_reading_time_is_whole_minutes_at_200_words_a_minute_and_at_least_one(content: str, minutes: int) -> None:
    assert reading_time(content) == minutes


def test_text_fields_are_title_content_preview_and_reading_time() -> None:
    content = "Kafka  orders\nevents " + "w " * 300

    assert text_fields("On ordering", content) == {
        "title": "On ordering",
        "content": content,
        "content_preview": "Kafka orders events " + " ".join(["w"] * 90) + "…",
        "reading_time": 2,
    }


def test_an_embedded_author_is_the_snapshot_without_its_version() -> None:
    snapshot = AuthorSnapshot(user_id="u7", username="grace", display_name="Grace", avatar_url=None, user_version=12)

    assert author_fields(snapshot) == {"id": "u7", "username": "grace", "display_name": "Grace", "avatar_url": None}
