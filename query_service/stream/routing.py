"""The WebSocket routes (placeholder until the stream consumer lands)."""

from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator


def websocket_application() -> AllowedHostsOriginValidator:
    """The WebSocket side of the ASGI application."""
    return AllowedHostsOriginValidator(URLRouter([]))
