"""The ASGI application: HTTP through Django's WSGI handler on a thread pool, the WebSocket `/stream` through
Channels (origins checked).

Every HTTP view here is synchronous (a blocking OpenSearch or Redis call). Django's own ASGI handler runs each
request's synchronous middleware and view in a thread-sensitive context of its own (a new single-thread executor per
request), hopping between the event loop and that thread along the middleware chain; on one worker that capped the
lists at about 130 requests/s whether 1 or 16 clients asked (issue 15). a2wsgi runs Django's WSGI handler on a fixed
pool of `QUERY_HTTP_THREADS` threads instead: one hop to a thread and one back per request, no thread started per
request.
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
