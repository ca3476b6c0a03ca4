"""The Django idempotency store keeps what services/idempotency.py promises, and the relay prunes it on its schedule.

Real transactions (`transactional_db`): a second record under a key fails at the database's unique constraint.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from command_service.apps.idempotency.store import DjangoIdempotencyStore
from command_service.relay.relay import OutboxRelay, RelaySettings
from command_service.relay.wake_up import SleepWakeUp
from command_service.services.idempotency import KeyTaken, StoredResponse

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime.now(UTC)
STORE = DjangoIdempotencyStore()


def _response(*, expires_in: timedelta = timedelta(hours=1), fingerprint: str = "f1") -> StoredResponse:
    return StoredResponse(
        fingerprint=fingerprint, status_code=201, body=b'{"id":1}', headers={"ETag": '"1"'},
        created_at=NOW - timedelta(seconds=1), expires_at=NOW + expires_in,
    )  # fmt: skip


def test_a_remembered_response_is_found_as_stored() -> None:
    STORE.remember("user:1", "k", _response())

    assert STORE.find("user:1", "k") == _response()
    assert STORE.find("user:2", "k") is None  # keys are per caller
    assert STORE.find("user:1", "other") is None


def test_a_second_response_under_a_key_is_key_taken_and_the_first_stays() -> None:
    STORE.remember("user:1", "k", _response())

    with pytest.raises(KeyTaken), transaction.atomic():
        STORE.remember("user:1", "k", _response(fingerprint="f2"))

    assert STORE.find("user:1", "k") == _response()


def test_forget_deletes_the_response_under_the_key_only() -> None:
    STORE.remember("user:1", "k", _response())
    STORE.remember("user:2", "k", _response())

    STORE.forget("user:1", "k")

    assert STORE.find("user:1", "k") is None
    assert STORE.find("user:2", "k") == _response()


def test_prune_deletes_the_expired_responses_only() -> None:
    STORE.remember("user:1", "old", _response(expires_in=-timedelta(seconds=1)))
    STORE.remember("user:1", "live", _response())

    assert STORE.prune(NOW) == 1
    assert STORE.find("user:1", "old") is None
    assert STORE.find("user:1", "live") is not None


class _NoKafka:
    def publish(self, rows: list) -> list[int]:
        return []

    def close(self) -> None:
        pass


def test_the_relay_runs_the_stores_prune_with_its_own() -> None:
    STORE.remember("user:1", "old", _response(expires_in=-timedelta(seconds=1)))
    relay = OutboxRelay(_NoKafka(), "test-relay", SleepWakeUp(), RelaySettings(), also_prune=[STORE.prune])

    assert relay.prune(NOW) == 1
    assert STORE.find("user:1", "old") is None
