"""`Idempotency-Key` on POST: a retry with the same key and body replays the first response, without a second write.

The first successful response is stored in the same transaction as the write it describes, so either both exist
or neither does: the request holds its unit of work's transaction open around the view (`uow.transaction()`), and
the store writes in it. The same key with a different body is refused with 422. Keys expire after
IDEMPOTENCY_KEY_TTL_SECONDS; an expired key starts afresh. Keys are per caller: a user's, or an anonymous client
address's (`services.idempotency.caller_scope`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from command_service.api.errors import IdempotencyKeyReused
from command_service.api.http import CommandApi, actor_of, client_address
from command_service.services.idempotency import KeyTaken, StoredResponse, caller_scope
from events.consistency import TOKEN_HEADER

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("ETag", "Location", TOKEN_HEADER)
KEY_MAX = 255
# Printable ASCII, no space at either end (a proxy may trim it): the one rule, checked here and stated in the schema.
KEY_PATTERN = rf"^[!-~](?:[ -~]{{0,{KEY_MAX - 2}}}[!-~])?$"
KEY_PROBLEM = f"must be 1 to {KEY_MAX} printable ASCII characters, no space at either end"

type ViewMethod = Callable[..., Response]


def _scope(request: Request) -> str:
    actor = actor_of(request)
    return caller_scope(actor.user_id if actor else None, None if actor else client_address(request))


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(stored: StoredResponse, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    data = json.loads(stored.body) if stored.body else None
    return Response(data, status=stored.status_code, headers={**stored.headers, REPLAYED_HEADER: "true"})


def _stored(response: Response, fingerprint: str, now: datetime) -> StoredResponse:
    return StoredResponse(
        fingerprint=fingerprint,
        status_code=response.status_code,
        body=JSONRenderer().render(response.data) if response.data is not None else b"",
        headers={name: response[name] for name in KEPT_HEADERS if response.has_header(name)},
        created_at=now,
        expires_at=now + timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS),
    )


def idempotent(view_method: ViewMethod) -> ViewMethod:
    """Wrap a view's `post` so that an Idempotency-Key makes it safe to retry."""

    @functools.wraps(view_method)
    def wrapper(view: CommandApi, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        if re.fullmatch(KEY_PATTERN, key) is None:
            raise ValidationError({HEADER: [KEY_PROBLEM]})
        store = view.services.idempotency
        scope, fingerprint, now = _scope(request), _fingerprint(request), datetime.now(UTC)
        try:
            with view.uow.transaction():  # the request's one transaction: the write, its response and the record
                stored = store.find(scope, key)
                if stored is not None and stored.is_live(now):
                    return _replay(stored, fingerprint)
                if stored is not None:
                    store.forget(scope, key)
                response = view_method(view, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    store.remember(scope, key, _stored(response, fingerprint, now))
                return response
        except KeyTaken:
            # A concurrent request with the same key committed first: this one's write was rolled back; replay.
            stored = store.find(scope, key)
            if stored is None:
                raise
            return _replay(stored, fingerprint)

    return wrapper
