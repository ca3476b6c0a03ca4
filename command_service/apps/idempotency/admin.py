from django.contrib import admin

from command_service.apps.idempotency.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("scope", "key", "status_code", "created_at", "expires_at")
    search_fields = ("key",)
