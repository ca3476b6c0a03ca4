"""The ASGI application: HTTP through Django's WSGI handler on a thread pool, the WebSocket `/stream` through
Channels (origins checked).

Every HTTP view here is synchronous (a blocking OpenSearch or Redis call). Under Django's own ASGI handler each
request hops to one shared thread (`sync_to_async(thread_sensitive=True)`), so a process served one request at a
time however many arrived together. a2wsgi runs Django's WSGI handler on `QUERY_HTTP_THREADS` threads instead: a
request's blocking calls overlap with the others', and no request hops between the event loop and a thread more
than once each way.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "query_service.config.settings")

from a2wsgi import WSGIMiddleware
from channels.routing import ProtocolTypeRouter
from django.conf import settings
from django.core.wsgi import get_wsgi_application

http_application = WSGIMiddleware(get_wsgi_application(), workers=settings.HTTP_THREADS)

from query_service.stream.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": http_application, "websocket": websocket_application()})
