"""The command side's subject keys (`events.personal_data`): how their records travel and how to read its own rows.

Key records go through the outbox like events (same transaction, same relay) to the key topic, under their own
aggregate type: version 1 carries a person's key, version 2 the marker that they were erased.
"""

from __future__ import annotations

from command_service.apps.outbox.models import SubjectKey
from events.personal_data import KeyRecord, KeyRing

KEY_RECORD_AGGREGATE = "subject_key"
KEY_ISSUED, KEY_ERASED = ("subject_key.issued", 1), ("subject_key.erased", 2)


def subject_key_ring() -> KeyRing:
    """The keys the command database holds, as a ring: what opens its own sealed outbox rows (an erased person's
    stay shut: their key row is gone)."""
    ring = KeyRing()
    for subject_id, key in SubjectKey.objects.values_list("subject_id", "key"):
        ring.apply(KeyRecord(subject_id, bytes(key)))
    return ring
