"""`python -m command_service backfill_events [--dry-run]`: write the events of rows that never had any.

The rule (which rows, which events, which versions) is `command_service.services.backfill`; this command wires it
to the database and prints what it wrote, counted per event type.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from command_service.apps.outbox.history import DjangoEventHistory
from command_service.bootstrap import unit_of_work_outside_a_request
from command_service.services.backfill import CREATION_EVENTS, BackfillResult, events_backfill


class Command(BaseCommand):
    help = (
        "Write the events of users, posts and comments whose creation event is not in the outbox (rows inserted "
        "without events), through the outbox like any change; idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would be written, write nothing")
        parser.add_argument("--batch-size", type=int, default=500, help="rows looked at per query")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        result = events_backfill(
            history=DjangoEventHistory(),
            unit_of_work=lambda: unit_of_work_outside_a_request(None),
            batch_size=options["batch_size"],
            dry_run=options["dry_run"],
            on_batch=self._progress if options["verbosity"] > 1 else None,
        )
        self.stdout.write(self.summary(result, dry_run=options["dry_run"]))
        for aggregate_type, aggregate_id, why in result.refused:
            self.stderr.write(f"left without events: {aggregate_type} {aggregate_id}: {why}")
        if result.refused:
            raise CommandError(f"{len(result.refused)} rows were left without events (listed above)")

    @staticmethod
    def summary(result: BackfillResult, *, dry_run: bool) -> str:
        """Rows per aggregate type, then events per type; the first line says whether anything was written."""
        verb = "would emit" if dry_run else "emitted"
        rows = ", ".join(f"{result.rows[kind]} {kind}s" for kind in CREATION_EVENTS)
        lines = [f"{verb} {result.events.total()} events for rows without events ({rows})"]
        lines += [f"  {event_type:<18} {count}" for event_type, count in sorted(result.events.items())]
        return "\n".join(lines)

    def _progress(self, aggregate_type: str, last_id: int) -> None:
        self.stderr.write(f"{aggregate_type}s looked at up to id {last_id}")
