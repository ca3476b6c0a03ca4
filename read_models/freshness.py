"""A consumer group's progress record, written by the projector and read by the query service, in one place.

After each searchable batch the projector records, per consumer group (a field of `read_models.keys.freshness_key`),
the newest applied event's commit time and when it became searchable; readers turn that into how fresh a list is.
The record is JSON: `{"last_occurred_at": ISO time, "last_applied_at": ISO time}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class FreshnessRecord:
    """A consumer group's progress.

    Attributes:
        last_occurred_at: when the newest applied event was committed by the command service.
        last_applied_at: when the batch that applied it became searchable.
    """

    last_occurred_at: datetime
    last_applied_at: datetime

    def as_dict(self) -> dict[str, str]:
        """The record's JSON object."""
        return {
            "last_occurred_at": self.last_occurred_at.isoformat(),
            "last_applied_at": self.last_applied_at.isoformat(),
        }


def freshness_encode(record: FreshnessRecord) -> str:
    """The record as stored (JSON text)."""
    return json.dumps(record.as_dict())


def freshness_parse(raw: bytes | str) -> FreshnessRecord:
    """The record stored as `raw`; raises ValueError when it is not one."""
    try:
        data = json.loads(raw)
        return FreshnessRecord(
            datetime.fromisoformat(data["last_occurred_at"]), datetime.fromisoformat(data["last_applied_at"])
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"not a freshness record: {error}") from None
