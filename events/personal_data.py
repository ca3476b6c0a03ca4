"""Personal data in a log kept forever, and its erasure: crypto-shredding, one key per person.

The event topics keep every event (rebuilds replay them), yet a person may have their personal data erased
(GDPR art. 17). So no personal data is written to them in the clear: the payload of an event whose type is
registered `personal` (`events.types.EventSpec.personal`: registrations, profiles, post and comment text and
tags, author snapshots) is *sealed*: encrypted with AES-256-GCM (`cryptography`) under the key of the person the
data is about, the envelope's `subject_id`. Ids, versions, times and statuses stay in the clear, so every consumer
can still order, route and count events without any key.

Keys travel beside the events on their own compacted topic (`events.topics.SUBJECT_KEYS`), one record per person,
keyed by user id (`KeyRecord`). Erasing a person replaces their record by an *erased marker* (same Kafka key, no
key material). Compaction then drops the key record from the topic (the topic's compaction settings bound when:
`events.topics.subject_keys_spec`), the command service drops its copy at once, and from then on every copy of that
person's events, in every topic, replica and backup, is ciphertext that nobody can read.

The marker, unlike a Kafka tombstone, stays: compaction keeps the newest record of each key, so a reader that starts
years later still learns that a person was erased rather than finding no key at all. That is how a consumer tells
the two cases apart (`KeyRing.key_of`):

- erased: the payload is gone for good; skip the event (`events.errors.SubjectErased`);
- unknown: the key is not on the topic yet (the relay publishes outbox shards independently, so a post's event can
  overtake its author's key record): read the key topic to its end and try again; still unknown means the key record
  is late or lost, which a consumer treats like any message it cannot read yet (`events.errors.SubjectKeyUnknown`).

Tick records (`tick_record`) only append to the key topic: Kafka rolls a segment, and so can compact it, only when a
record is appended after the roll time, so the command service appends one per partition on a schedule.

The associated data of each seal is the envelope's identity (`sealing_context`): a sealed payload copied into
another envelope does not open.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from events.errors import SubjectErased, SubjectKeyUnknown, UndecodableEvent

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's standard nonce; random per seal (2^32 seals per key stay far below the collision bound)
RECORD_VERSION = 1
TICK_PREFIX = "~tick/"  # Kafka keys of tick records; never a user id (ids are digits)


def new_key() -> bytes:
    """A fresh random subject key."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def seal(plaintext: bytes, key: bytes, context: bytes) -> str:
    """`plaintext` encrypted under `key`, bound to `context`: base64 of nonce, ciphertext and tag."""
    nonce = os.urandom(NONCE_BYTES)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, context)).decode("ascii")


def unseal(sealed: str, key: bytes, context: bytes) -> bytes:
    """The plaintext of `seal`'s output; raises UndecodableEvent when it is not base64, too short, or does not open
    under this key and context (tampered, moved to another envelope, or sealed under another key)."""
    try:
        raw = base64.b64decode(sealed, validate=True)
    except (binascii.Error, ValueError):
        raise UndecodableEvent("sealed_payload is not base64") from None
    if len(raw) < NONCE_BYTES + 16:
        raise UndecodableEvent("sealed_payload is too short to be sealed")
    try:
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context)
    except InvalidTag:
        raise UndecodableEvent("sealed_payload does not open under its subject's key") from None


def sealing_context(event_id: str, aggregate_type: str, aggregate_id: str, aggregate_version: int) -> bytes:
    """The associated data of an envelope's seal: what the ciphertext is bound to."""
    return f"{event_id}|{aggregate_type}|{aggregate_id}|{aggregate_version}".encode()


@dataclass(frozen=True)
class KeyRecord:
    """One record of the key topic: a person's key, or (`key` None) the marker that they were erased."""

    subject_id: str
    key: bytes | None

    @property
    def erased(self) -> bool:
        """Whether this is an erased marker."""
        return self.key is None

    def kafka_key(self) -> bytes:
        """The Kafka key: the subject id, so compaction keeps one record per person."""
        return self.subject_id.encode()

    def encode(self) -> bytes:
        """The record's value: `{"record_version": 1, "subject_id": ..., "key": base64 | null}`."""
        key = None if self.key is None else base64.b64encode(self.key).decode("ascii")
        return json.dumps({"record_version": RECORD_VERSION, "subject_id": self.subject_id, "key": key}).encode()


def key_record_decode(kafka_key: bytes | None, value: bytes | None) -> KeyRecord | None:
    """The key record in a message of the key topic, None for a tick; raises UndecodableEvent for anything else."""
    name = (kafka_key or b"").decode(errors="replace")
    if name.startswith(TICK_PREFIX):
        return None
    try:
        data = json.loads(value or b"")
        subject_id, key = data["subject_id"], data["key"]
        if data.get("record_version") != RECORD_VERSION or not isinstance(subject_id, str) or subject_id != name:
            raise ValueError("not a key record of this release, or its subject differs from its Kafka key")
        raw = None if key is None else base64.b64decode(key, validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise UndecodableEvent(f"not a key record: {str(exc)[:200]}") from None
    if raw is not None and len(raw) != KEY_BYTES:
        raise UndecodableEvent(f"a subject key has {KEY_BYTES} bytes, got {len(raw)}")
    return KeyRecord(subject_id, raw)


def tick_record(partition: int) -> tuple[bytes, bytes]:
    """The (Kafka key, value) of partition `partition`'s tick: one key per partition, so compaction keeps one each."""
    return f"{TICK_PREFIX}{partition}".encode(), b"{}"


class KeyRing:
    """The subject keys one consumer knows, fed record by record (`apply`); `refresh` reads more when it can.

    A ring fed from Kafka (`projector.consumer.subject_keys`) overrides `refresh` to read the key topic to its end.
    """

    def __init__(self) -> None:
        self._keys: dict[str, bytes | None] = {}

    def apply(self, record: KeyRecord) -> None:
        """Take a record in topic order: a key, or an erasure (which stays, whatever comes later)."""
        if self._keys.get(record.subject_id, b"") is None:
            return  # erased is final: a key re-published late (a relay retry) must not bring it back
        self._keys[record.subject_id] = record.key

    def refresh(self) -> None:
        """Learn the records published since the last refresh; a ring fed by hand has nothing more to read."""

    def close(self) -> None:
        """Release what the ring reads from; a ring fed by hand holds nothing."""

    def key_of(self, subject_id: str, *, event_type: str = "", aggregate: str = "") -> bytes:
        """The subject's key, after one `refresh` when it is not known yet.

        Raises:
            SubjectErased: the subject was erased.
            SubjectKeyUnknown: no record of the subject, even after a refresh.
        """
        if subject_id not in self._keys:
            self.refresh()
        about = {"subject_id": subject_id, "event_type": event_type, "aggregate": aggregate}
        if subject_id not in self._keys:
            raise SubjectKeyUnknown(f"no key for subject {subject_id} yet", **about)
        key = self._keys[subject_id]
        if key is None:
            raise SubjectErased(f"subject {subject_id} was erased", **about)
        return key

    def erased(self, subject_id: str) -> bool:
        """Whether the ring has seen the subject's erased marker."""
        return subject_id in self._keys and self._keys[subject_id] is None

    def __len__(self) -> int:
        return len(self._keys)
