"""Idempotency records in the admin: view only (a deleted record would let a retried write happen twice)."""

from django.contrib import admin

from command_service.apps.admin_actions import ReadOnlyAdmin
from command_service.apps.idempotency.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("scope", "key", "status_code", "created_at", "expires_at")
    search_fields = ("key",)
