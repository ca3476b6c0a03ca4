"""The command service's one place of wiring: the real adapters behind the views (and the relay's clean-up).

`bootstrap()` only builds objects; nothing here opens a connection, so importing or calling it touches no database.
The URLconf (api/urls.py) calls it once and hands the result to every view; tests and benchmarks may hand a view
another one (`dataclasses.replace(bootstrap(), unit_of_work=...)`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from command_service.apps.idempotency.store import DjangoIdempotencyStore
from command_service.apps.queries import DjangoDetailQueries
from command_service.apps.unit_of_work import DjangoUnitOfWork
from command_service.services.idempotency import IdempotencyStore
from command_service.services.queries import DetailQueries
from command_service.services.unit_of_work import EventContext


@dataclass(frozen=True)
class CommandService:
    """What the views need: a unit of work per request (with its repositories), detail reads, idempotency records."""

    unit_of_work: Callable[[EventContext], DjangoUnitOfWork]
    queries: DetailQueries
    idempotency: IdempotencyStore


def unit_of_work_outside_a_request(actor_id: str | None) -> DjangoUnitOfWork:
    """A unit of work for a change made outside the API (an admin action or form, `createsuperuser`): its events
    carry a fresh correlation id and `actor_id` (the staff member; None for a command or a script)."""
    return bootstrap().unit_of_work(EventContext(correlation_id=str(uuid.uuid4()), actor_id=actor_id))


def bootstrap() -> CommandService:
    """The command service over Django: its ORM unit of work and repositories, detail queries and idempotency store."""
    return CommandService(
        unit_of_work=DjangoUnitOfWork, queries=DjangoDetailQueries(), idempotency=DjangoIdempotencyStore()
    )
