"""Shard leases: which relay publishes which part of the outbox, so that several relays never reorder an aggregate.

The outbox is split into SHARDS by aggregate (see `outbox_shard`); a relay publishes only the shards it leases.
Every lease is taken and renewed with one conditional UPDATE, so two relays can never both win the same shard,
on PostgreSQL and SQLite alike. Relays share the shards evenly: each records a heartbeat (`RelayMember`), aims at
ceil(SHARDS / live relays), releases extras when another relay shows up, and takes over the shards of a relay
whose leases lapsed (it crashed).

A relay that stalls past its lease (a long GC pause, a frozen VM) may publish once more what its successor also
publishes: a duplicate with the same event_id, never a lost event. Consumers de-duplicate by version.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.db.models import Q

from command_service.apps.outbox.models import SHARDS, RelayLease, RelayMember

EPOCH = datetime.fromisoformat("2000-01-01T00:00:00+00:00")


class ShardLeases:
    """The leases one relay (`owner`) holds, renewed on every `refresh`."""

    def __init__(self, owner: str, ttl: timedelta) -> None:
        self.owner = owner
        self.ttl = ttl

    def refresh(self, now: datetime) -> list[int]:
        """Renew what is held, take free or lapsed shards up to a fair share, release extras; return held shards."""
        if RelayLease.objects.count() < SHARDS:
            RelayLease.objects.bulk_create(
                [RelayLease(shard=shard, owner="", expires_at=EPOCH) for shard in range(SHARDS)],
                ignore_conflicts=True,
            )
        expires = now + self.ttl
        RelayMember.objects.update_or_create(owner=self.owner, defaults={"seen_at": now})
        RelayMember.objects.filter(seen_at__lt=now - 10 * self.ttl).delete()
        members = RelayMember.objects.filter(seen_at__gt=now - self.ttl).count()
        share = math.ceil(SHARDS / max(members, 1))
        RelayLease.objects.filter(owner=self.owner).update(expires_at=expires)
        live = RelayLease.objects.filter(expires_at__gt=now).exclude(owner="")
        held = sorted(live.filter(owner=self.owner).values_list("shard", flat=True))
        if len(held) > share:
            for shard in held[share:]:
                RelayLease.objects.filter(shard=shard, owner=self.owner).update(owner="", expires_at=EPOCH)
            held = held[:share]
        free = RelayLease.objects.filter(Q(owner="") | Q(expires_at__lte=now)).order_by("shard")
        for shard in free.values_list("shard", flat=True)[: max(share - len(held), 0)]:
            taken = RelayLease.objects.filter(Q(owner="") | Q(expires_at__lte=now), shard=shard).update(
                owner=self.owner, expires_at=expires
            )
            if taken:
                held.append(shard)
        return sorted(held)

    def release_all(self) -> None:
        """Give every shard back at once (a clean stop), so a peer takes over without waiting for expiry."""
        RelayLease.objects.filter(owner=self.owner).update(owner="", expires_at=EPOCH)
        RelayMember.objects.filter(owner=self.owner).delete()
