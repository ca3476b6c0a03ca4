"""The backfill's view of the outbox and the aggregate rows (`command_service.services.backfill.EventHistory`)."""

from __future__ import annotations

from django.db.models import Count, Max, Model, Q

from command_service.apps.comments.models import Comment
from command_service.apps.outbox.models import OutboxEvent
from command_service.apps.posts.models import Post
from command_service.apps.users.models import User
from command_service.domain.errors import Conflict
from command_service.services.backfill import CREATION_EVENTS

ROWS: dict[str, type[Model]] = {"user": User, "post": Post, "comment": Comment}


class DjangoEventHistory:
    """Rows and their events in the command database; outbox lookups go through its (type, id, version) index."""

    def without_creation_event(self, aggregate_type: str, *, after_id: int, limit: int) -> tuple[list[int], int]:
        rows = ROWS[aggregate_type].objects.filter(pk__gt=after_id).order_by("pk")
        looked = list(rows.values_list("pk", "announced")[:limit])
        if not looked:
            return [], after_id
        unannounced = [pk for pk, announced in looked if not announced]
        created = OutboxEvent.objects.filter(
            aggregate_type=aggregate_type, event_type=CREATION_EVENTS[aggregate_type],
            aggregate_id__in=[str(pk) for pk in unannounced],
        ).values_list("aggregate_id", flat=True)  # fmt: skip
        have = {int(aggregate_id) for aggregate_id in created}
        return [pk for pk in unannounced if pk not in have], looked[-1][0]

    def lock_and_look(self, aggregate_type: str, aggregate_id: int) -> tuple[bool, int]:
        # The row lock (a no-op on SQLite, whose writers are serialized anyway) makes a concurrent backfill of the
        # same row wait here, and then see the events this one wrote.
        locked = ROWS[aggregate_type].objects.select_for_update().filter(pk=aggregate_id)
        announced = any(locked.values_list("announced", flat=True))
        seen = OutboxEvent.objects.filter(aggregate_type=aggregate_type, aggregate_id=str(aggregate_id)).aggregate(
            created=Count("pk", filter=Q(event_type=CREATION_EVENTS[aggregate_type])), last=Max("aggregate_version")
        )
        return announced or bool(seen["created"]), seen["last"] or 0

    def mark_announced(self, aggregate_type: str, aggregate_id: int, *, read_version: int, version: int) -> None:
        rows = ROWS[aggregate_type].objects.filter(pk=aggregate_id, version=read_version)
        if rows.update(version=version, announced=True) != 1:
            raise Conflict(f"{aggregate_type} {aggregate_id} was changed concurrently: run the backfill again")
