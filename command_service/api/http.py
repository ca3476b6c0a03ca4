"""What every view needs: its adapters (from bootstrap), the actor, the event context, If-Match, the write headers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.http import HttpResponseBase
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from command_service.apps.unit_of_work import DjangoUnitOfWork
from command_service.bootstrap import CommandService
from command_service.domain.actors import Actor
from command_service.services.queries import DetailQueries
from command_service.services.unit_of_work import EventContext, Written
from events.consistency import TOKEN_HEADER, ConsistencyToken

CORRELATION_HEADER = "X-Correlation-ID"
ETAG_PATTERN = r'^(?:W/)?"(\d{1,12})"$'  # one entity tag, as ETag sends it (the schema states it too)
_ETAG = re.compile(ETAG_PATTERN)
_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def actor_of(request: Request) -> Actor | None:
    """The authenticated caller, or None for an anonymous one."""
    user = request.user
    if user is None or not user.is_authenticated:
        return None
    return Actor(user_id=user.pk, is_staff=user.is_staff)


def require_actor(request: Request) -> Actor:
    """The authenticated caller (views that call this are behind IsAuthenticated)."""
    actor = actor_of(request)
    assert actor is not None, "view must require authentication"
    return actor


def client_address(request: Request) -> str | None:
    """The caller's address as DRF's throttles see it: REMOTE_ADDR, or X-Forwarded-For as `NUM_PROXIES` says."""
    return BaseThrottle().get_ident(request)


def correlation_id(request: Request) -> str:
    """The caller's X-Correlation-ID when well-formed, else a new one."""
    given = request.headers.get(CORRELATION_HEADER, "")
    return given if _CORRELATION.match(given) else str(uuid.uuid4())


def event_context(request: Request) -> EventContext:
    """What the events of this request carry: its correlation id, Idempotency-Key and actor."""
    actor = actor_of(request)
    return EventContext(
        correlation_id=correlation_id(request),
        causation_id=request.headers.get("Idempotency-Key") or None,
        actor_id=str(actor.user_id) if actor else None,
    )


class CommandApi(APIView):
    """A view of the command API, routed with the command service's adapters: `as_view(services=bootstrap())`."""

    services: CommandService | None = None  # always given by as_view, which requires it (see api/urls.py)

    @classmethod
    def as_view(cls, *, services: CommandService, **initkwargs: Any) -> Callable[..., HttpResponseBase]:
        """The view function, every instance of which gets `services`."""
        return super().as_view(services=services, **initkwargs)

    @cached_property
    def uow(self) -> DjangoUnitOfWork:
        """This request's one unit of work (a view object serves one request), its events stamped from the request."""
        return self.services.unit_of_work(event_context(self.request))

    @property
    def queries(self) -> DetailQueries:
        """The detail reads."""
        return self.services.queries


def expected_version(request: Request) -> int | None:
    """The version an If-Match header names (`"3"`), None without the header; 400 for anything else."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header.strip())
    if match is None:
        raise ValidationError({"If-Match": ['must be one entity tag such as "3", as sent in ETag']})
    return int(match.group(1))


def etag(version: int) -> str:
    """The entity tag of an aggregate version."""
    return f'"{version}"'


def consistency_token(written: Written) -> str:
    """The token of the written version, which the query service accepts to read its own writes."""
    return ConsistencyToken(written.aggregate_type, str(written.aggregate_id), written.version).encode()


def written_response(written: Written, data: Any = None, *, status: int = 200, location: str | None = None) -> Response:
    """A write's response: body, ETag of the new version, and the consistency token."""
    headers = {"ETag": etag(written.version), TOKEN_HEADER: consistency_token(written)}
    if location:
        headers["Location"] = location
    return Response(data, status=status, headers=headers)


def detail_response(data: dict[str, Any]) -> Response:
    """A detail read's response, with the ETag of the version it shows."""
    return Response(data, headers={"ETag": etag(data["version"])})
