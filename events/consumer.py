"""What a consumer does with each message it reads: one policy, so every consumer behaves the same.

`EventReader.read(raw)` never raises for any bytes; it returns one of:

- `Accepted(envelope)`: decoded, payload at its current schema version. Handle it.
- `Skipped(reason)`: an event type this release does not know. A newer producer added it (producers deploy
  first); no handler here needs it, so the consumer moves on and commits, as for any event it ignores.
- `Erased(reason)`: a sealed payload whose subject was erased (`events.personal_data`): it is gone for good, and the
  deletions that came with the erasure travel in the clear, so the consumer moves on and commits.
- `DeadLetter(reason)`: bytes that are not an event of this contract (no release will read them), a known type
  at a schema version newer than this release knows, or a sealed payload whose subject's key the consumer has not
  received even after reading the key topic to its end. The latter matters to this consumer but cannot be read
  safely, and guessing would corrupt the read model; skipping would lose it. The consumer writes the original
  message (same key and bytes) to its group's dead-letter topic (`events.topics.dead_letter_topic`), commits, and
  goes on; once the consumer is upgraded (or the late key has arrived) the dead letters are replayed.

Each outcome is counted in `EventReader.counts`, for metrics and the logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from events.envelope import EventEnvelope, decode
from events.errors import SubjectErased, SubjectKeyUnknown, UndecodableEvent, UnknownEventType, UnsupportedSchemaVersion
from events.personal_data import KeyRing


@dataclass(frozen=True)
class Accepted:
    """The message is an event this release can handle."""

    envelope: EventEnvelope


@dataclass(frozen=True)
class Skipped:
    """The message is a well-formed event of a type this release does not know; move on."""

    reason: str
    event_type: str


@dataclass(frozen=True)
class Erased:
    """The message's payload is about an erased person and can no longer be read; move on."""

    reason: str
    event_type: str


@dataclass(frozen=True)
class DeadLetter:
    """The message cannot be handled safely; park it in the dead-letter topic and move on."""

    reason: str
    kind: Literal["undecodable", "unsupported_schema_version", "subject_key_unknown"]


type ReadResult = Accepted | Skipped | Erased | DeadLetter


@dataclass
class ReadCounts:
    """How many messages ended in each outcome since the reader was created."""

    accepted: int = 0
    skipped: int = 0
    erased: int = 0
    dead_lettered: int = 0


@dataclass
class EventReader:
    """Decodes messages and applies the policy above; one per consumer (it is not thread-safe).

    `keys` opens sealed payloads; without it every sealed payload is dead-lettered as of an unknown key.
    """

    keys: KeyRing | None = None
    counts: ReadCounts = field(default_factory=ReadCounts)

    def read(self, raw: bytes) -> ReadResult:
        """The outcome for one message's value bytes."""
        try:
            envelope = decode(raw, self.keys)
        except SubjectErased as exc:
            self.counts.erased += 1
            return Erased(exc.reason, exc.event_type)
        except SubjectKeyUnknown as exc:
            self.counts.dead_lettered += 1
            return DeadLetter(f"{exc.reason} ({exc.event_type} {exc.aggregate})", "subject_key_unknown")
        except UnknownEventType as exc:
            self.counts.skipped += 1
            return Skipped(exc.reason, exc.event_type)
        except UnsupportedSchemaVersion as exc:
            self.counts.dead_lettered += 1
            return DeadLetter(exc.reason, "unsupported_schema_version")
        except UndecodableEvent as exc:
            self.counts.dead_lettered += 1
            return DeadLetter(exc.reason, "undecodable")
        self.counts.accepted += 1
        return Accepted(envelope)
