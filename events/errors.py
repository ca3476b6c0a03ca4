"""The few errors of the event contract, kept apart so that each caller can choose its own policy.

Reading a message can fail in two different ways and consumers must be able to tell them apart:

- `UndecodableEvent`: the bytes are not an event of this contract at all (bad JSON, missing or mistyped field,
  unknown envelope version, oversize message ...). No release will ever read them; they go to a dead-letter topic.
- `UnsupportedEvent`: a well-formed envelope naming an event this release does not know, either a type it has
  never heard of (`UnknownEventType`) or a schema version newer than it knows (`UnsupportedSchemaVersion`).
  A newer release can read it; `events.consumer` decides whether to skip it or dead-letter it.

A sealed payload (`events.personal_data`) adds two more, both carrying the envelope's identity so that a consumer
can act on the event without its payload:

- `SubjectErased`: the person the payload is about was erased; the payload is gone for good. Consumers skip it.
- `SubjectKeyUnknown`: the person's key has not reached this consumer (yet); a later read may succeed.

Writing has its own errors, which are `ValueError`s because they are the producer's bug: `MessageTooLarge`, and
plain `ValueError` for a field that does not fit the contract. `TopicSetupError` is a start-up error of
`events.topics.ensure_topics`.
"""

from __future__ import annotations


class UndecodableEvent(Exception):
    """The input cannot be read as an event of this contract; `reason` says why, for logs and dead letters."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnsupportedEvent(Exception):
    """A well-formed envelope whose event this release cannot read; a newer release may."""

    def __init__(self, reason: str, *, event_type: str, schema_version: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_type = event_type
        self.schema_version = schema_version


class UnknownEventType(UnsupportedEvent):
    """The event type is not registered in this release (a newer producer added it)."""


class UnsupportedSchemaVersion(UnsupportedEvent):
    """The event type is known but its schema version is newer than the newest this release knows."""


class SealedPayloadUnreadable(Exception):
    """A sealed payload this reader cannot open; `subject_id`, `event_type` and `aggregate` say whose and what."""

    def __init__(self, reason: str, *, subject_id: str, event_type: str, aggregate: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.subject_id = subject_id
        self.event_type = event_type
        self.aggregate = aggregate  # "<aggregate_type>:<aggregate_id>@<aggregate_version>"


class SubjectErased(SealedPayloadUnreadable):
    """The payload is about a person who was erased: their key is gone, and so is the payload, for good."""


class SubjectKeyUnknown(SealedPayloadUnreadable):
    """The payload's subject key is not known to this reader yet (late on the key topic, or no key ring given)."""


class MessageTooLarge(ValueError):
    """An envelope encodes to more than `events.envelope.MAX_MESSAGE_BYTES`; the producer must not send it."""


class TopicSetupError(RuntimeError):
    """An event topic is missing and could not be created, or exists with fewer partitions than defined."""
