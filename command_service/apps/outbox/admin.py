from django.contrib import admin

from command_service.apps.outbox.models import OutboxEvent, RelayLease, RelayMember


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("id", "event_type", "aggregate_type", "aggregate_id", "aggregate_version", "created_at", "sent_at")
    list_filter = ("event_type", "sent_at")
    search_fields = ("aggregate_id", "event_id")
    readonly_fields = [field.name for field in OutboxEvent._meta.fields]


@admin.register(RelayLease)
class RelayLeaseAdmin(admin.ModelAdmin):
    list_display = ("shard", "owner", "expires_at")


@admin.register(RelayMember)
class RelayMemberAdmin(admin.ModelAdmin):
    list_display = ("owner", "seen_at")
