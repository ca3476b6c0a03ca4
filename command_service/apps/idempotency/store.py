"""The Django idempotency store: responses in the `idempotency_records` table (see services/idempotency.py)."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError

from command_service.apps.idempotency.models import IdempotencyRecord
from command_service.services.idempotency import KeyTaken, StoredResponse


class DjangoIdempotencyStore:
    """Records by (scope, key), one per key (a unique constraint: the loser of a race gets KeyTaken)."""

    def find(self, scope: str, key: str) -> StoredResponse | None:
        record = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if record is None:
            return None
        return StoredResponse(
            fingerprint=record.fingerprint, status_code=record.status_code, body=bytes(record.body),
            headers=record.headers, created_at=record.created_at, expires_at=record.expires_at,
        )  # fmt: skip

    def forget(self, scope: str, key: str) -> None:
        IdempotencyRecord.objects.filter(scope=scope, key=key).delete()

    def remember(self, scope: str, key: str, response: StoredResponse) -> None:
        try:
            IdempotencyRecord.objects.create(
                scope=scope, key=key, fingerprint=response.fingerprint, status_code=response.status_code,
                body=response.body, headers=response.headers, created_at=response.created_at,
                expires_at=response.expires_at,
            )  # fmt: skip
        except IntegrityError:
            raise KeyTaken(f"{scope} {key}") from None

    def prune(self, now: datetime) -> int:
        expired, _ = IdempotencyRecord.objects.filter(expires_at__lt=now).delete()
        return expired
