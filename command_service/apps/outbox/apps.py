from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "command_service.apps.outbox"
    label = "outbox"
