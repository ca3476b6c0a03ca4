"""Fixtures for the projector on a real OpenSearch: private read models per test, and event streams recorded from
the command service's own code (services + the Django unit of work + the outbox), never hand-written documents."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient
from opensearchpy import OpenSearch

from command_service.apps.outbox.models import OutboxEvent
from command_service.apps.outbox.subject_keys import KEY_RECORD_AGGREGATE, subject_key_ring
from command_service.apps.unit_of_work import DjangoUnitOfWork
from command_service.domain.actors import Actor
from command_service.services import comments, posts, users
from command_service.services.unit_of_work import EventContext
from events.envelope import EventEnvelope, decode
from events.topics import ensure_topics
from projector.consumer.app import ProjectorConfig
from projector.consumer.live_indices import ensure_live_indices
from projector.consumer.scripts import install_scripts
from projector.consumer.writer import Writer
from read_models.documents import public_document

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class ReadModels:
    """One private set of read-model indices."""

    client: OpenSearch
    targets: dict[str, str]
    prefix: str

    def writer(self) -> Writer:
        return Writer(self.client, self.targets)

    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every document of every read model, by id."""
        out = {}
        for model, target in self.targets.items():
            self.client.indices.refresh(index=target)
            hits = self.client.search(index=target, body={"size": 10_000, "query": {"match_all": {}}})["hits"]["hits"]
            # the bookkeeping records which event (or recount) last wrote each field: equal documents may differ there
            out[model] = {hit["_id"]: public_document(hit["_source"]) for hit in hits}
        return out

    def doc(self, model: str, doc_id: str) -> dict[str, Any]:
        return self.client.get(index=self.targets[model], id=doc_id)["_source"]


def _without(document: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != key}


@pytest.fixture
def new_read_models(opensearch_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], ReadModels]]:
    """Returns a factory of fresh read models (a new index prefix each call), all deleted at the end."""
    client = OpenSearch(opensearch_url, timeout=60)
    prefixes: list[str] = []

    def make() -> ReadModels:
        prefix = f"test-{uuid.uuid4().hex[:10]}-"
        prefixes.append(prefix)
        monkeypatch.setenv("PROJECTOR_INDEX_PREFIX", prefix)
        targets = ensure_live_indices(client, prefix)
        install_scripts(client)
        return ReadModels(client, targets, prefix)

    yield make
    for prefix in prefixes:
        client.indices.delete(index=f"{prefix}*")
    client.close()


def uow() -> DjangoUnitOfWork:
    return DjangoUnitOfWork(EventContext(correlation_id=str(uuid.uuid4())))


@dataclass
class Scenario:
    """What the recorded story did, for assertions."""

    ada: Actor
    bob: Actor
    post_ids: dict[str, int]
    comment_ids: dict[str, int]
    events: list[EventEnvelope]


def register(name: str) -> Actor:
    """A new user, through the real service."""
    written = users.user_register(username=name, password="correct-horse", display_name=name.title(), uow=uow())
    return Actor(written.aggregate_id)


def record_scenario() -> Scenario:
    """A story touching every event type: renames mid-way, a deleted post with comments, a deleted comment."""
    ada, bob = register("ada"), register("bob")
    ids: dict[str, int] = {}

    def create(name: str, author: Actor, *tags: str) -> int:
        ids[name] = posts.post_create(
            actor=author, title=name.title(), content=f"{name} " * 300, tags=list(tags), uow=uow()
        ).aggregate_id
        return ids[name]

    first = create("first", ada, "python")
    posts.post_edit(post_id=first, actor=ada, title="First, edited", content="Running words. " * 50, uow=uow())
    posts.post_publish(post_id=first, actor=ada, uow=uow())
    comment_ids = {
        "kept": comments.comment_add(post_id=first, actor=bob, body="Nice", uow=uow()).aggregate_id,
        "edited": comments.comment_add(post_id=first, actor=bob, body="Typo", uow=uow()).aggregate_id,
        "removed": comments.comment_add(post_id=first, actor=ada, body="Oops", uow=uow()).aggregate_id,
    }
    comments.comment_edit(comment_id=comment_ids["edited"], actor=bob, body="Fixed", uow=uow())
    comments.comment_delete(comment_id=comment_ids["removed"], actor=ada, uow=uow())
    users.user_profile_change(
        user_id=ada.user_id, actor=ada, display_name="Ada L.", avatar_url="https://img.example/ada.png", uow=uow()
    )
    posts.post_tags_set(post_id=first, actor=ada, tags=["python", "django"], uow=uow())
    second = create("second", ada)
    posts.post_publish(post_id=second, actor=ada, uow=uow())
    posts.post_unpublish(post_id=second, actor=ada, uow=uow())
    third = create("third", bob)
    posts.post_archive(post_id=third, actor=bob, uow=uow())
    doomed = create("doomed", bob, "gone")
    posts.post_publish(post_id=doomed, actor=bob, uow=uow())
    comment_ids["orphan"] = comments.comment_add(post_id=doomed, actor=ada, body="Soon gone", uow=uow()).aggregate_id
    posts.post_delete(post_id=doomed, actor=bob, uow=uow())
    later = create("later", ada, "news")
    posts.post_publish(post_id=later, actor=ada, uow=uow())
    comment_ids["late"] = comments.comment_add(post_id=later, actor=bob, body="First!", uow=uow()).aggregate_id
    users.user_profile_change(user_id=bob.user_id, actor=bob, bio="Writes things", uow=uow())
    rows = OutboxEvent.objects.exclude(aggregate_type=KEY_RECORD_AGGREGATE).order_by("id")
    events = [decode(bytes(row.payload), subject_key_ring()) for row in rows]
    return Scenario(ada, bob, ids, comment_ids, events)


@pytest.fixture
def scenario(transactional_db: None) -> Scenario:
    return record_scenario()


@pytest.fixture
def private_projector(
    monkeypatch: pytest.MonkeyPatch, opensearch_url: str, kafka_bootstrap_servers: str
) -> Iterator[ProjectorConfig]:
    """A projector of the test's own (group, indices) over topics of its own: it sees only the test's events."""
    group = f"projector-private-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PROJECTOR_INDEX_PREFIX", f"{group}-")
    monkeypatch.setenv("EVENTS_TOPIC_PREFIX", f"{group}.")
    ensure_topics(kafka_bootstrap_servers)
    yield ProjectorConfig(group=group, batch_size=200, batch_timeout=0.2, metrics_port=0)
    OpenSearch(opensearch_url).indices.delete(index=f"{group}-*")
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
    admin.delete_topics([topic for topic in admin.list_topics() if topic.startswith(f"{group}.")])
    admin.close()


@pytest.fixture
def start_projector(private_projector: ProjectorConfig, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    """Starts `python -m projector run` for the private projector; stops what is left at the end."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        env = {
            **os.environ, "PROJECTOR_GROUP": private_projector.group, "PROJECTOR_BATCH_SIZE": "25",
            "PROJECTOR_METRICS_PORT": "0",
        }  # fmt: skip
        log = (tmp_path / f"projector-{len(started)}.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "projector", "run"], cwd=REPO_ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)  # fmt: skip
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)
