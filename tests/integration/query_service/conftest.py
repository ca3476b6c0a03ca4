"""Fixtures for the query service on a real OpenSearch and Redis.

Read models are built by the projector's own code (its Writer and Notices) from events the command service's own
services produce. Those services are pure Python; they run here on the in-memory unit of work of the unit tests,
because this process has the query service's Django settings (no database at all).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from opensearchpy import OpenSearch
from rest_framework.test import APIClient

from command_service.domain.actors import Actor
from command_service.services import comments, posts, users
from command_service.services.unit_of_work import Written
from projector.consumer.live_indices import ensure_live_indices
from projector.consumer.notices import Notices
from projector.consumer.scripts import install_scripts
from projector.consumer.writer import Applied, Writer
from query_service.adapters import opensearch, redis_client
from tests.unit.command_service.fakes import FakeUnitOfWork

GROUP = "projector"


@dataclass
class Story:
    """Writes through the command service's services, projected on demand into the test's private read models."""

    uow: FakeUnitOfWork
    writer: Writer
    notices: Notices
    prefix: str
    users: dict[str, Actor] = field(default_factory=dict)

    def register(self, name: str, display_name: str | None = None) -> Actor:
        written = users.user_register(
            username=name, password="correct-horse", display_name=display_name or name.title(), uow=self.uow
        )
        self.users[name] = Actor(written.aggregate_id)
        return self.users[name]

    def post(
        self,
        author: Actor,
        title: str,
        content: str = "Some words.",
        tags: tuple[str, ...] = (),
        *,
        publish: bool = True,
    ) -> int:
        post_id = posts.post_create(
            actor=author, title=title, content=content, tags=list(tags), uow=self.uow
        ).aggregate_id
        if publish:
            self.uow.advance(minutes=1)
            posts.post_publish(post_id=post_id, actor=author, uow=self.uow)
        return post_id

    def comment(self, post_id: int, author: Actor, body: str = "Nice.") -> int:
        self.uow.advance(seconds=10)
        return comments.comment_add(post_id=post_id, actor=author, body=body, uow=self.uow).aggregate_id

    def last_written(self) -> Written:
        """The aggregate and version of the newest event (what a command's consistency token names)."""
        event = self.uow.outbox[-1]
        return Written(event.aggregate_type, int(event.aggregate_id), event.aggregate_version)

    def project(self) -> list[Applied]:
        """Apply every event written since the last call, searchable on return, and announce it."""
        pending = list(self.uow.outbox)
        self.uow.outbox.clear()
        applied, failed = self.writer.apply(pending)
        assert not failed, failed
        self.notices.publish(applied)
        return applied


@pytest.fixture
def story(opensearch_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Story]:
    """A private namespace (read models, notice stream, freshness) and a story writing into it."""
    prefix = f"qtest-{uuid.uuid4().hex[:10]}-"
    monkeypatch.setenv("PROJECTOR_INDEX_PREFIX", prefix)
    monkeypatch.setenv("OPENSEARCH_URL", opensearch_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    opensearch.cache_clear()
    redis_client.cache_clear()
    client = OpenSearch(opensearch_url, timeout=60)
    targets = ensure_live_indices(client, prefix)
    install_scripts(client)
    yield Story(FakeUnitOfWork(), Writer(client, targets), Notices(redis.Redis.from_url(redis_url), GROUP), prefix)
    client.indices.delete(index=f"{prefix}*")
    leftovers = redis.Redis.from_url(redis_url)
    keys = list(leftovers.scan_iter(f"{prefix}*"))
    if keys:
        leftovers.delete(*keys)
    client.close()


@pytest.fixture
def api() -> APIClient:
    """A client of the query API (in process)."""
    return APIClient()


@pytest.fixture
def get(api: APIClient) -> Callable[..., Any]:
    """GET a named route with query parameters (lists become repeated parameters) and optionally a consistency
    token; returns the response."""
    from django.urls import reverse

    def call(name: str, params: dict[str, Any] | None = None, *, kwargs: dict[str, Any] | None = None, token=None):
        headers = {} if token is None else {"X-Consistency-Token": token}
        return api.get(reverse(f"api:{name}", kwargs=kwargs), params or {}, headers=headers)

    return call
