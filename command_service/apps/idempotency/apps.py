from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "command_service.apps.idempotency"
    label = "idempotency"
