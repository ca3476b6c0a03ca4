"""The WebSocket routes: `/stream`, behind an origin check."""

from __future__ import annotations

from typing import Any

from channels.routing import URLRouter
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import path

from query_service.stream.consumers import StreamConsumer

STREAM_PATH = "/stream"  # Channels routes sit outside Django's URLconf: pages take the path from here


class BrowserOriginValidator(OriginValidator):
    """Refuses browsers on foreign origins (cross-site WebSocket hijacking); clients that send no Origin are no
    browsers and pass, since any such client could claim any origin anyway."""

    def valid_origin(self, parsed_origin: Any) -> bool:
        """Whether the handshake's origin may connect."""
        return parsed_origin is None or self.validate_origin(parsed_origin)


def allowed_origins() -> list[str]:
    """The query service's own hosts (ALLOWED_HOSTS) and STREAM_ALLOWED_ORIGINS (host or scheme://host:port)."""
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = ["localhost", "127.0.0.1", "[::1]"]
    return [*hosts, *settings.STREAM_ALLOWED_ORIGINS]


def websocket_application() -> OriginValidator:
    """The WebSocket side of the ASGI application."""
    routes = URLRouter([path(STREAM_PATH.removeprefix("/"), StreamConsumer.as_asgi(), name="stream")])
    return BrowserOriginValidator(routes, allowed_origins())
