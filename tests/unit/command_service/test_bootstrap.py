"""`bootstrap()` wires the real adapters without touching the database; a stored response replays until it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from command_service.bootstrap import bootstrap
from command_service.services.idempotency import StoredResponse
from command_service.services.unit_of_work import EventContext

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_bootstrap_builds_the_adapters_without_a_query() -> None:
    # No `db` fixture here: pytest-django fails any database access, so building must not touch it.
    services = bootstrap()
    context = EventContext(correlation_id="c-1", causation_id="key-1", actor_id="7")

    first, second = services.unit_of_work(context), services.unit_of_work(context)

    assert first is not second  # a unit of work per request
    assert first.context == context
    assert callable(services.queries.post_detail)
    assert callable(services.idempotency.prune)


def test_a_stored_response_replays_until_it_expires() -> None:
    stored = StoredResponse(
        fingerprint="f", status_code=201, body=b"{}", headers={}, created_at=T0, expires_at=T0 + timedelta(hours=1)
    )

    assert stored.is_live(T0)
    assert stored.is_live(T0 + timedelta(minutes=59))
    assert not stored.is_live(T0 + timedelta(hours=1))
    assert not stored.is_live(T0 + timedelta(days=1))
