"""What the API tests share besides fixtures: the account type, the error body shape, the outbox."""

from __future__ import annotations

from typing import Any, NamedTuple

from rest_framework.test import APIClient

from command_service.apps.outbox.models import OutboxEvent
from command_service.apps.outbox.subject_keys import KEY_RECORD_AGGREGATE

PASSWORD = "correct horse battery"


class Account(NamedTuple):
    """A registered user and a client that sends their token."""

    client: APIClient
    id: int
    username: str


def assert_error(response: Any, status: int, *, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The response is an error of `status` with the one body shape; `fields`, if given, are exactly the fields named.

    Returns the body, for further checks of its messages.
    """
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    body = response.json()
    assert set(body) == {"message", "fields"}, body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    assert isinstance(body["fields"], dict), body
    for name, messages in body["fields"].items():
        assert isinstance(name, str), body
        assert isinstance(messages, list), body
        assert messages, body
        assert all(isinstance(message, str) and message for message in messages), body
        assert not any("ErrorDetail" in message for message in messages), body
    if fields is not None:
        assert set(body["fields"]) == set(fields), body
    return body


def outbox_count() -> int:
    """How many events the outbox holds (key records are no events: `apps.outbox.subject_keys`)."""
    return OutboxEvent.objects.exclude(aggregate_type=KEY_RECORD_AGGREGATE).count()


def last_event() -> OutboxEvent:
    """The newest outbox event."""
    event = OutboxEvent.objects.order_by("-id").first()
    assert event is not None, "the outbox is empty"
    return event


def assert_one_event(before: int, event_type: str, aggregate_type: str, aggregate_id: int, version: int) -> None:
    """Exactly one event was added since `before` outbox rows, and it is this one."""
    assert outbox_count() == before + 1
    event = last_event()
    assert (event.event_type, event.aggregate_type, event.aggregate_id, event.aggregate_version) == (
        event_type,
        aggregate_type,
        str(aggregate_id),
        version,
    )
