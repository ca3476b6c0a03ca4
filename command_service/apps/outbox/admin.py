"""The outbox and the relay's leases and members in the admin: view only (a deleted unsent row is a lost write)."""

from django.contrib import admin

from command_service.apps.admin_actions import ReadOnlyAdmin
from command_service.apps.outbox.models import OutboxEvent, RelayLease, RelayMember


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "event_type", "aggregate_type", "aggregate_id", "aggregate_version", "created_at", "sent_at")
    list_filter = ("event_type", "sent_at")
    search_fields = ("aggregate_id", "event_id")


@admin.register(RelayLease)
class RelayLeaseAdmin(ReadOnlyAdmin):
    list_display = ("shard", "owner", "expires_at")


@admin.register(RelayMember)
class RelayMemberAdmin(ReadOnlyAdmin):
    list_display = ("owner", "seen_at")
