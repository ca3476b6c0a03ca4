from django.apps import AppConfig


class RelayConfig(AppConfig):
    """No models: registered for the `outbox_relay` management command."""

    name = "command_service.relay"
    label = "relay"
