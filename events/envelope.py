"""The envelope every event travels in, and its JSON bytes: `encode` for producers, `decode` for consumers.

On the wire an event is one UTF-8 JSON object: the envelope fields, `"envelope_version"` (how to read the envelope
itself) and the event's own fields at `schema_version`: in the clear as `payload`, or, for a personal event
(`events.personal_data`), sealed under its subject's key as `sealed_payload` (base64 text). Producers write
version 2; version 1 (no `subject_id`, payloads always in the clear) is what earlier releases wrote, still read.
Any other envelope version is undecodable.

`decode` is the only way in. It raises `UndecodableEvent` (with a reason) for anything that is not an event of this
contract, whatever the bytes, `UnsupportedEvent` for a well-formed event this release does not know, and
`SealedPayloadUnreadable` for a sealed payload whose key the given ring does not hold (or holds as erased); nothing
else. It returns the payload lifted to the current version of its type (see `events.upcasters`), so
`schema_version` of the result is always the current one. `encode` writes current versions only, seals a personal
payload when given its subject's key, and raises `ValueError` for a field that does not fit the contract,
`MessageTooLarge` (a ValueError) above `MAX_MESSAGE_BYTES`: 1 MiB, within Kafka's default `max.message.bytes`, and
far above any sane post.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from events.codec import Id, ShapeError, Uuid, Version, hints_of, reader_of, to_json
from events.errors import MessageTooLarge, SubjectKeyUnknown, UndecodableEvent
from events.personal_data import KeyRing, seal, sealing_context, unseal
from events.types import SPECS, AggregateType, current_spec, event_spec, spec_of
from events.upcasters import payload_lift

ENVELOPE_VERSION = 2
READABLE_ENVELOPE_VERSIONS = (1, 2)
MAX_MESSAGE_BYTES = 1024 * 1024
_IDENTITY = ("event_type", "schema_version")  # read first: they decide whether the rest can be read at all


@dataclasses.dataclass(frozen=True)
class EventEnvelope:
    """One domain event: what happened (`payload`) to which aggregate, when, why and by whom.

    Attributes:
        event_type: what happened, `<aggregate_type>.<past tense>`, e.g. `post.published`.
        schema_version: the version of the payload's shape for this event type.
        aggregate_type: the kind of thing that changed; it names the Kafka topic.
        aggregate_id: the id of the thing that changed; the Kafka message key.
        event_id: unique per event (a UUID); consumers de-duplicate on it.
        aggregate_version: 1, 2, 3 ... per aggregate, the order of its events; read models keep the newest.
        occurred_at: when the command side decided the change, timezone-aware UTC.
        correlation_id: shared by every event that one outside request caused, end to end.
        causation_id: the id of the command, request or event that caused this one, if any.
        actor_id: the user who acted, null for the system itself.
        subject_id: the person whose data the payload carries (a personal event's key is theirs), else null.
        payload: an instance of the class registered for (`event_type`, `schema_version`).
    """

    event_id: Uuid
    event_type: str
    schema_version: Version
    aggregate_type: AggregateType
    aggregate_id: Id
    aggregate_version: Version
    occurred_at: datetime
    correlation_id: Id
    causation_id: Id | None
    actor_id: Id | None
    subject_id: Id | None
    payload: Any

    def __post_init__(self) -> None:
        if not isinstance(self.occurred_at, datetime) or self.occurred_at.utcoffset() != timedelta(0):
            raise ValueError("occurred_at must be a timezone-aware UTC datetime")
        object.__setattr__(self, "occurred_at", self.occurred_at.astimezone(UTC))
        spec = SPECS.get((self.event_type, self.schema_version))
        if spec is None or type(self.payload) is not spec.payload_class:
            raise ValueError(f"payload {type(self.payload).__name__} is not {self.event_type} v{self.schema_version}")
        if self.aggregate_type != spec.aggregate_type:
            raise ValueError(f"{self.event_type} belongs to aggregate type {spec.aggregate_type!r}")
        if getattr(self.payload, spec.aggregate_id_field) != self.aggregate_id:
            raise ValueError(f"aggregate_id differs from payload.{spec.aggregate_id_field}")

    @classmethod
    def create(
        cls,
        payload: object,
        *,
        aggregate_version: int,
        correlation_id: str,
        causation_id: str | None = None,
        actor_id: str | None = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
        subject_id: str | None = None,
    ) -> EventEnvelope:
        """The way to build an envelope: type, version, aggregate type and id come from the registry and payload.

        A personal event's `subject_id` defaults to the person its payload names (`EventSpec.subject_in`); an edit,
        which does not name its author, must be given it (ValueError otherwise). Other events have no subject.
        """
        spec = spec_of(payload)
        subject_id = (subject_id or spec.subject_in(payload)) if spec.personal else None
        if spec.personal and subject_id is None:
            raise ValueError(f"{spec.event_type} carries personal data: give its subject_id")
        return cls(
            event_id=event_id or str(uuid.uuid4()),
            event_type=spec.event_type,
            schema_version=spec.schema_version,
            aggregate_type=spec.aggregate_type,
            aggregate_id=getattr(payload, spec.aggregate_id_field),
            aggregate_version=aggregate_version,
            occurred_at=occurred_at or datetime.now(UTC),
            correlation_id=correlation_id,
            causation_id=causation_id,
            actor_id=actor_id,
            subject_id=subject_id,
            payload=payload,
        )

    @property
    def personal(self) -> bool:
        """Whether the payload carries a person's data (sealed on the wire when encoded with their key)."""
        return SPECS[(self.event_type, self.schema_version)].personal


_FIELDS = [f.name for f in dataclasses.fields(EventEnvelope) if f.name != "payload"]
_V1_FIELDS = [name for name in _FIELDS if name != "subject_id"]


def envelope_to_dict(envelope: EventEnvelope, key: bytes | None = None) -> dict[str, Any]:
    """The JSON object of `envelope`, its payload sealed under `key` when personal and a key is given.

    Raises:
        ValueError: a field does not fit the contract.
    """
    hints = hints_of(EventEnvelope)
    data: dict[str, Any] = {"envelope_version": ENVELOPE_VERSION}
    data.update((name, to_json(getattr(envelope, name), hints[name], name)) for name in _FIELDS)
    spec = event_spec(envelope.event_type, envelope.schema_version)
    payload = to_json(envelope.payload, spec.payload_class, "payload")
    if key is None or not spec.personal:
        data["payload"] = payload
    else:
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        data["sealed_payload"] = seal(text, key, _context(data))
    return data


def envelope_from_dict(data: Any, keys: KeyRing | None = None) -> EventEnvelope:
    """The envelope a parsed JSON value stands for, a sealed payload opened with its subject's key from `keys`.

    Raises:
        UndecodableEvent, UnsupportedEvent, SealedPayloadUnreadable; nothing else.
    """
    if not isinstance(data, dict):
        raise UndecodableEvent(f"an event is a JSON object, got {type(data).__name__}")
    version = data.get("envelope_version")
    if type(version) is not int or version not in READABLE_ENVELOPE_VERSIONS:
        raise UndecodableEvent(f"unknown envelope_version {json.dumps(version)[:40]} (this release reads 1 and 2)")
    try:
        fields = {name: _field(data, name) for name in _IDENTITY}
        spec = event_spec(fields["event_type"], fields["schema_version"])
        names = _FIELDS if version == 2 else _V1_FIELDS
        fields.update((name, _field(data, name)) for name in names if name not in _IDENTITY)
        payload = payload_lift(spec, _payload_json(data, fields, spec.personal, keys))
        if version == 1:  # written before subjects: the payload names its person, or no one
            fields["subject_id"] = spec.subject_in(payload)
        fields["schema_version"] = current_spec(spec.event_type).schema_version
        return EventEnvelope(**fields, payload=payload)
    except ValueError as exc:  # ShapeError, and the envelope's own consistency checks
        raise UndecodableEvent(str(exc)) from None


def _payload_json(data: dict[str, Any], fields: dict[str, Any], personal: bool, keys: KeyRing | None) -> Any:
    """The payload's JSON: as written, or opened (raises SealedPayloadUnreadable, ShapeError, UndecodableEvent)."""
    if "sealed_payload" not in data:
        if "payload" not in data:
            raise ShapeError("payload", "is missing")
        return data["payload"]
    sealed, subject_id = data["sealed_payload"], fields.get("subject_id")
    if "payload" in data or not isinstance(sealed, str) or not personal or subject_id is None:
        raise ShapeError("sealed_payload", "is a personal event's only payload, a string, beside its subject_id")
    aggregate = f"{fields['aggregate_type']}:{fields['aggregate_id']}@{fields['aggregate_version']}"
    if keys is None:
        raise SubjectKeyUnknown(
            "a sealed payload needs a key ring", subject_id=subject_id, event_type=fields["event_type"],
            aggregate=aggregate,
        )  # fmt: skip
    key = keys.key_of(subject_id, event_type=fields["event_type"], aggregate=aggregate)
    try:
        return json.loads(unseal(sealed, key, _context(data)))
    except (ValueError, RecursionError) as exc:
        raise UndecodableEvent(f"sealed payload is not JSON: {str(exc)[:200]}") from None


def _context(data: dict[str, Any]) -> bytes:
    return sealing_context(data["event_id"], data["aggregate_type"], data["aggregate_id"], data["aggregate_version"])


@functools.cache
def _reader(name: str) -> Callable[[Any, str], Any]:
    return reader_of(hints_of(EventEnvelope)[name])


def _field(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise ShapeError(name, "is missing")
    return _reader(name)(data[name], name)


def encode(envelope: EventEnvelope, key: bytes | None = None) -> bytes:
    """The message bytes of `envelope`, compact UTF-8 JSON (raises ValueError, MessageTooLarge).

    A personal payload is sealed under `key`, its subject's key; without one it is written in the clear, which is
    for copies kept in process or in the notice stream (which erasure purges), never for the log: the outbox seals
    every personal event (`command_service.apps.unit_of_work`).
    """
    if envelope.schema_version != current_spec(envelope.event_type).schema_version:
        raise ValueError(f"producers write the current version of {envelope.event_type} only")
    if envelope.personal and envelope.subject_id is None:
        raise ValueError(f"{envelope.event_type} carries personal data: its subject_id is required")
    try:
        text = json.dumps(envelope_to_dict(envelope, key), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except TypeError as exc:  # a non-JSON value inside a free-form object
        raise ValueError(str(exc)) from None
    data = text.encode("utf-8")
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"event {envelope.event_id} is {len(data)} bytes, over {MAX_MESSAGE_BYTES}")
    return data


def decode(data: bytes, keys: KeyRing | None = None) -> EventEnvelope:
    """The envelope in a message's bytes, payload opened with `keys` when sealed and lifted to the current version.

    Raises:
        UndecodableEvent: not an event of this contract; `reason` says why.
        UnsupportedEvent: an unknown event type or a newer schema version than this release knows.
        SubjectErased: a sealed payload whose subject was erased: the payload is gone.
        SubjectKeyUnknown: a sealed payload whose subject's key `keys` does not hold (or no `keys`).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UndecodableEvent(f"a message is bytes, got {type(data).__name__}")
    if len(data) > MAX_MESSAGE_BYTES:
        raise UndecodableEvent(f"message of {len(data)} bytes is over the {MAX_MESSAGE_BYTES}-byte limit")
    try:
        parsed = json.loads(bytes(data).decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise UndecodableEvent(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError; so are NaN and huge integers
        raise UndecodableEvent(f"not JSON: {str(exc)[:200]}") from None
    return envelope_from_dict(parsed, keys)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
