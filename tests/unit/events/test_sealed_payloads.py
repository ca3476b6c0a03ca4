"""Crypto-shredding in the contract (`events.personal_data`): sealing, opening, key records, rings, the reader."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime

import pytest

from events.consumer import DeadLetter, Erased, EventReader
from events.envelope import EventEnvelope, decode, encode
from events.errors import SubjectErased, SubjectKeyUnknown, UndecodableEvent
from events.personal_data import (
    KeyRecord,
    KeyRing,
    key_record_decode,
    new_key,
    seal,
    sealing_context,
    tick_record,
    unseal,
)
from events.topics import subject_keys_erasure_bound_seconds, subject_keys_spec
from events.types import AuthorSnapshot, PostCreated, PostEdited, PostPublished, UserErased

AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
KEY = new_key()
AUTHOR = AuthorSnapshot(user_id="7", username="marguerite", display_name="Marguerite M.", avatar_url=None,
                        user_version=1)  # fmt: skip


def _created(post_id: str = "12") -> EventEnvelope:
    payload = PostCreated(post_id=post_id, author=AUTHOR, title="Moth season", content="Seen tonight", tags=("moths",),
                          created_at=AT)  # fmt: skip
    return EventEnvelope.create(payload, aggregate_version=1, correlation_id="c", occurred_at=AT)


def _ring(*records: KeyRecord) -> KeyRing:
    ring = KeyRing()
    for record in records:
        ring.apply(record)
    return ring


def test_seal_and_unseal_round_trip_under_the_same_key_and_context() -> None:
    sealed = seal(b"secret", KEY, b"ctx")
    assert unseal(sealed, KEY, b"ctx") == b"secret"
    assert seal(b"secret", KEY, b"ctx") != sealed  # a fresh nonce each time


@pytest.mark.parametrize(
    ("key", "context", "mangle"),
    [(new_key(), b"ctx", None), (KEY, b"other", None), (KEY, b"ctx", "flip"), (KEY, b"ctx", "short"),
     (KEY, b"ctx", "not base64")],
)  # fmt: skip
def test_a_seal_opens_under_nothing_else(key: bytes, context: bytes, mangle: str | None) -> None:
    sealed = seal(b"secret", KEY, b"ctx")
    if mangle == "flip":
        raw = bytearray(base64.b64decode(sealed))
        raw[-1] ^= 1
        sealed = base64.b64encode(bytes(raw)).decode()
    elif mangle == "short":
        sealed = base64.b64encode(b"x" * 20).decode()
    elif mangle == "not base64":
        sealed = "%%%"
    with pytest.raises(UndecodableEvent):
        unseal(sealed, key, context)


def test_a_personal_event_goes_sealed_and_opens_with_its_subjects_key() -> None:
    event = _created()
    data = encode(event, KEY)

    message = json.loads(data)
    assert "payload" not in message
    assert (message["envelope_version"], message["subject_id"]) == (2, "7")
    for text in ("marguerite", "Marguerite M.", "Moth season", "Seen tonight", "moths"):
        assert text.encode() not in data
    assert decode(data, _ring(KeyRecord("7", KEY))) == event


def test_a_sealed_payload_copied_into_another_envelope_does_not_open() -> None:
    message = json.loads(encode(_created("12"), KEY))
    other = json.loads(encode(_created("13"), KEY))
    other["sealed_payload"] = message["sealed_payload"]

    with pytest.raises(UndecodableEvent, match="does not open"):
        decode(json.dumps(other).encode(), _ring(KeyRecord("7", KEY)))


def test_an_erased_subject_is_skipped_and_an_unknown_one_is_parked() -> None:
    data = encode(_created(), KEY)

    with pytest.raises(SubjectErased):
        decode(data, _ring(KeyRecord("7", KEY), KeyRecord("7", None)))
    with pytest.raises(SubjectKeyUnknown):
        decode(data, KeyRing())
    assert isinstance(EventReader(keys=_ring(KeyRecord("7", None))).read(data), Erased)
    parked = EventReader(keys=KeyRing()).read(data)
    assert isinstance(parked, DeadLetter)
    assert parked.kind == "subject_key_unknown"
    assert EventReader().read(data).kind == "subject_key_unknown"  # no ring at all


def test_erased_is_final_and_an_unknown_subject_refreshes_once() -> None:
    class CountingRing(KeyRing):
        refreshes = 0

        def refresh(self) -> None:
            self.refreshes += 1
            self.apply(KeyRecord("8", KEY))

    ring = CountingRing()
    ring.apply(KeyRecord("7", None))
    ring.apply(KeyRecord("7", KEY))  # a relay's late retry of the old key record

    assert ring.erased("7")
    with pytest.raises(SubjectErased):
        ring.key_of("7")
    assert ring.key_of("8") == KEY
    assert ring.refreshes == 1
    assert ring.key_of("8") == KEY
    assert ring.refreshes == 1


def test_non_personal_events_stay_in_the_clear_even_given_a_key() -> None:
    for payload in (PostPublished(post_id="12", published_at=AT), UserErased(user_id="7")):
        event = EventEnvelope.create(payload, aggregate_version=2, correlation_id="c", occurred_at=AT)
        message = json.loads(encode(event, KEY))
        assert "sealed_payload" not in message
        assert message["subject_id"] is None
        assert decode(encode(event, KEY)) == event


def test_a_personal_edit_needs_its_subject() -> None:
    edit = PostEdited(post_id="12", title="t", content="c")
    with pytest.raises(ValueError, match="give its subject_id"):
        EventEnvelope.create(edit, aggregate_version=2, correlation_id="c")
    assert EventEnvelope.create(edit, aggregate_version=2, correlation_id="c", subject_id="7").subject_id == "7"


def test_a_v1_envelope_is_still_read_with_its_subject_derived() -> None:
    message = json.loads(encode(_created()))  # no key: in the clear
    message["envelope_version"] = 1
    del message["subject_id"]

    assert decode(json.dumps(message).encode()) == dataclasses.replace(_created(), event_id=message["event_id"])


def test_key_records_round_trip_and_ticks_are_none() -> None:
    for record in (KeyRecord("7", KEY), KeyRecord("7", None)):
        assert key_record_decode(record.kafka_key(), record.encode()) == record
    assert key_record_decode(*tick_record(3)) is None
    assert tick_record(3)[0] == b"~tick/3"


@pytest.mark.parametrize(
    ("kafka_key", "value"),
    [(b"8", KeyRecord("7", KEY).encode()),
     (b"7", b'{"record_version": 1, "subject_id": "7", "key": "%%%"}'),
     (b"7", json.dumps({"record_version": 1, "subject_id": "7", "key": base64.b64encode(b"x" * 16).decode()}).encode()),
     (b"7", b'{"record_version": 2, "subject_id": "7", "key": null}'),
     (b"7", b"not json")],
)  # fmt: skip
def test_what_is_not_a_key_record_is_refused(kafka_key: bytes, value: bytes) -> None:
    with pytest.raises(UndecodableEvent):
        key_record_decode(kafka_key, value)


def test_the_key_topic_is_compacted_within_the_configured_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUBJECT_KEYS_COMPACTION_LAG_SECONDS", "20")
    monkeypatch.setenv("SUBJECT_KEYS_TICK_SECONDS", "2")
    configs = subject_keys_spec().configs

    assert (configs["cleanup.policy"], configs["max.compaction.lag.ms"], configs["segment.ms"]) == (
        "compact", "20000", "20000",
    )  # fmt: skip
    assert subject_keys_erasure_bound_seconds() == 20 + 2 + 15 + 1
    for name, bad in (("SUBJECT_KEYS_COMPACTION_LAG_SECONDS", "0"), ("SUBJECT_KEYS_TICK_SECONDS", "soon")):
        monkeypatch.setenv(name, bad)
        with pytest.raises(ValueError, match=name):
            subject_keys_erasure_bound_seconds()
        monkeypatch.setenv(name, "5")


def test_the_sealing_context_is_the_envelopes_identity() -> None:
    assert sealing_context("e", "post", "12", 3) == b"e|post|12|3"
