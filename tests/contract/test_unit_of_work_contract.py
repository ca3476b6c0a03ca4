"""One set of tests, run against the in-memory fake and the Django unit of work, so the fake cannot drift.

Each backend is a unit of work plus a way to read what it committed to the outbox: the fake's list, or the Django
outbox rows decoded with `events.envelope.decode`. The Django backend runs on the test database (SQLite by default)
with real transactions (`transactional_db`), since rollback and commit are what is under test.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from command_service.apps.outbox.models import OutboxEvent, SubjectKey
from command_service.apps.outbox.subject_keys import KEY_RECORD_AGGREGATE, subject_key_ring
from command_service.apps.unit_of_work import DjangoUnitOfWork
from command_service.domain.comments import Comment
from command_service.domain.errors import Conflict, NotFound
from command_service.domain.posts import Post, PostStatus
from command_service.domain.users import User
from command_service.services.unit_of_work import EventContext, UnitOfWork, Written
from events.envelope import EventEnvelope, decode
from events.errors import SubjectKeyUnknown
from events.personal_data import KeyRecord, key_record_decode
from events.topics import subject_keys_spec, topic_for
from tests.unit.command_service.fakes import FakeUnitOfWork

CONTEXT = EventContext(correlation_id="corr-contract", causation_id="req-1", actor_id="7")
PASSWORD = "correct horse"
T0 = datetime(2025, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
T1 = datetime(2025, 5, 7, 8, 9, 10, 654321, tzinfo=UTC)


class FakeBackend:
    def __init__(self) -> None:
        self.uow: UnitOfWork = FakeUnitOfWork(CONTEXT)

    def committed_outbox(self) -> list[EventEnvelope]:
        return list(self.uow.outbox)


class DjangoBackend:
    def __init__(self) -> None:
        self.uow: UnitOfWork = DjangoUnitOfWork(CONTEXT)

    def committed_outbox(self) -> list[EventEnvelope]:
        ring = subject_key_ring()
        rows = OutboxEvent.objects.exclude(aggregate_type=KEY_RECORD_AGGREGATE).order_by("id")
        return [decode(bytes(row.payload), ring) for row in rows]


Backend = FakeBackend | DjangoBackend


@pytest.fixture(params=["fake", "django"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "django":
        request.getfixturevalue("transactional_db")
        return DjangoBackend()
    return FakeBackend()


def new_user(uow: UnitOfWork, username: str = "alice") -> User:
    user = User.register(username=username, password=PASSWORD, display_name=username.title())
    uow.users.add(user, password=PASSWORD)
    return user


def new_post(uow: UnitOfWork, author: User) -> Post:
    post = Post(None, author.id, "Hello", "Some words.", ("django", "python"), PostStatus.PUBLISHED, T0, T0, T0)
    uow.posts.add(post)
    return post


def new_comment(uow: UnitOfWork, post: Post, author: User) -> Comment:
    comment = Comment(None, post.id, author.id, "Nice post.", T0, T0)
    uow.comments.add(comment)
    return comment


def committed(backend: Backend, count: int = 1) -> dict[str, list]:
    """`count` users, posts (by the first user) and comments (on the first post), added and committed."""
    uow = backend.uow
    with uow:
        users = [new_user(uow, f"user{n}") for n in range(count)]
        posts = [new_post(uow, users[0]) for _ in range(count)]
        comments = [new_comment(uow, posts[0], users[0]) for _ in range(count)]
        uow.commit()
    return {"users": users, "posts": posts, "comments": comments}


# Adding and getting.


def test_a_user_round_trips(backend: Backend) -> None:
    user = committed(backend)["users"][0]

    assert isinstance(user.id, int)
    assert backend.uow.users.get(user.id) == user


def test_a_post_round_trips(backend: Backend) -> None:
    post = committed(backend)["posts"][0]

    assert backend.uow.posts.get(post.id) == post


def test_a_comment_round_trips(backend: Backend) -> None:
    comment = committed(backend)["comments"][0]

    assert backend.uow.comments.get(comment.id) == comment


def test_ids_increase(backend: Backend) -> None:
    made = committed(backend, 2)

    for kind in ("users", "posts", "comments"):
        first, second = made[kind]
        assert 0 < first.id < second.id


@pytest.mark.parametrize(("repository", "kind"), [("users", "user"), ("posts", "post"), ("comments", "comment")])
def test_get_of_a_missing_id_raises_not_found(backend: Backend, repository: str, kind: str) -> None:
    committed(backend)

    with pytest.raises(NotFound, match=f"^{kind} 999 not found$"):
        getattr(backend.uow, repository).get(999)


def test_a_deactivated_user_is_found_only_when_asked_for(backend: Backend) -> None:
    uow = backend.uow
    user = committed(backend)["users"][0]
    with uow:
        user.deactivate()
        uow.users.save(user)
        uow.commit()

    with pytest.raises(NotFound, match=f"^user {user.id} not found$"):
        uow.users.get(user.id)
    assert uow.users.get(user.id, include_inactive=True) == user
    assert user.is_active is False


@pytest.mark.parametrize("username", ["alice", "ALICE", "aLiCe"])
def test_a_username_is_taken_whatever_its_case(backend: Backend, username: str) -> None:
    uow = backend.uow
    with uow:
        new_user(uow, "alice")
        uow.commit()

    with uow, pytest.raises(Conflict) as caught:
        new_user(uow, username)

    assert caught.value.fields == {"username": ["is taken"]}


def test_a_username_added_in_the_same_unit_is_taken(backend: Backend) -> None:
    uow = backend.uow
    with uow:
        new_user(uow, "alice")
        with pytest.raises(Conflict):
            new_user(uow, "Alice")


# Saving with optimistic concurrency.


def changed(obj: User | Post | Comment) -> User | Post | Comment:
    """`obj` changed the way its aggregate changes (one version up)."""
    if isinstance(obj, User):
        obj.change_profile(display_name="Changed", avatar_url="https://example.com/a.png", bio="New bio.")
    elif isinstance(obj, Post):
        obj.edit(title="Changed", content="Changed.", now=T1)
        obj.tags = ("orm", "python", "web")  # title, content and tags in one save
    else:
        obj.edit(body="Changed.", now=T1)
    return obj


@pytest.mark.parametrize("repository", ["users", "posts", "comments"])
def test_a_saved_change_round_trips(backend: Backend, repository: str) -> None:
    obj = committed(backend)[repository][0]
    repo = getattr(backend.uow, repository)
    with backend.uow:
        saved = changed(repo.get(obj.id))
        repo.save(saved)
        backend.uow.commit()

    assert repo.get(obj.id) == saved
    assert saved.version == 2


@pytest.mark.parametrize("repository", ["users", "posts", "comments"])
def test_saving_over_a_newer_version_raises_conflict(backend: Backend, repository: str) -> None:
    obj = committed(backend)[repository][0]
    repo = getattr(backend.uow, repository)
    with backend.uow:
        first, second = repo.get(obj.id), repo.get(obj.id)
        repo.save(changed(first))
        with pytest.raises(Conflict):
            repo.save(changed(second))
        backend.uow.commit()

    assert repo.get(obj.id) == first


@pytest.mark.parametrize("repository", ["users", "posts", "comments"])
@pytest.mark.parametrize("skip", [0, 2])
def test_saving_anything_but_the_next_version_raises_conflict(backend: Backend, repository: str, skip: int) -> None:
    obj = committed(backend)[repository][0]
    repo = getattr(backend.uow, repository)

    with backend.uow, pytest.raises(Conflict):
        repo.save(replace(repo.get(obj.id), version=obj.version + skip))


@pytest.mark.parametrize("repository", ["users", "posts", "comments"])
def test_saving_a_missing_id_raises_conflict(backend: Backend, repository: str) -> None:
    obj = committed(backend)[repository][0]
    repo = getattr(backend.uow, repository)

    with backend.uow, pytest.raises(Conflict):
        repo.save(replace(obj, id=999, version=2))


# Transactions and the outbox.


def test_leaving_without_commit_keeps_no_row_and_no_event(backend: Backend) -> None:
    uow = backend.uow
    with uow:
        user = new_user(uow)
        post = new_post(uow, user)
        comment = new_comment(uow, post, user)
        uow.record(user.registered_event(), aggregate_version=1)

    for repository, obj in (("users", user), ("posts", post), ("comments", comment)):
        with pytest.raises(NotFound):
            getattr(uow, repository).get(obj.id)
    assert backend.committed_outbox() == []


def test_an_exception_rolls_back_everything(backend: Backend) -> None:
    uow = backend.uow
    user = committed(backend)["users"][0]

    def failing_unit() -> None:
        with uow:
            saved = changed(uow.users.get(user.id))
            uow.users.save(saved)
            uow.record(new_post(uow, saved).created_event(saved), aggregate_version=1)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_unit()

    assert uow.users.get(user.id) == user
    assert backend.committed_outbox() == []


def test_a_rolled_back_change_is_not_seen_by_the_next_unit(backend: Backend) -> None:
    uow = backend.uow
    user = committed(backend)["users"][0]
    with uow:
        uow.users.save(changed(uow.users.get(user.id)))

    with uow:
        again = uow.users.get(user.id)
        event = again.change_profile(display_name="Again", avatar_url=None, bio="")
        uow.users.save(again)  # a Conflict if the rolled-back version 2 had stayed
        uow.record(event, aggregate_version=again.version)
        uow.commit()

    assert uow.users.get(user.id) == again
    assert [(event.aggregate_id, event.aggregate_version) for event in backend.committed_outbox()] == [
        (str(user.id), 2)
    ]


def test_commit_stores_the_recorded_events_in_order(backend: Backend) -> None:
    uow = backend.uow
    before = uow.now()
    with uow:
        user = new_user(uow)
        post = new_post(uow, user)
        payloads = [(user.registered_event(), 1), (post.created_event(user), 1)]
        written = [uow.record(payload, aggregate_version=version) for payload, version in payloads]
        uow.commit()
    after = uow.now()

    assert written == [Written("user", user.id, 1), Written("post", post.id, 1)]
    events = backend.committed_outbox()
    assert len(events) == 2
    assert len({event.event_id for event in events}) == 2
    for event, (payload, version) in zip(events, payloads, strict=True):
        assert str(uuid.UUID(event.event_id)) == event.event_id
        assert before <= event.occurred_at <= after
        assert event == EventEnvelope.create(
            payload, aggregate_version=version, correlation_id="corr-contract", causation_id="req-1", actor_id="7",
            occurred_at=event.occurred_at, event_id=event.event_id,
        )  # fmt: skip


def test_events_of_a_rolled_back_unit_are_not_committed_later(backend: Backend) -> None:
    uow = backend.uow
    user = committed(backend)["users"][0]
    with uow:
        uow.record(user.registered_event(), aggregate_version=1)

    with uow:
        uow.record(replace(user.registered_event(), display_name="Again"), aggregate_version=1)
        uow.commit()

    assert [event.payload.display_name for event in backend.committed_outbox()] == ["Again"]


# The real adapter's own columns.


@pytest.mark.django_db(transaction=True)
def test_django_outbox_rows_carry_their_envelope() -> None:
    backend = DjangoBackend()
    with backend.uow:
        user = new_user(backend.uow)
        backend.uow.record(user.registered_event(), aggregate_version=1)
        backend.uow.commit()

    row = OutboxEvent.objects.exclude(aggregate_type=KEY_RECORD_AGGREGATE).get()
    event = decode(bytes(row.payload), subject_key_ring())
    assert (str(row.event_id), row.event_type, row.aggregate_type, row.aggregate_id, row.aggregate_version) == (
        event.event_id, "user.registered", "user", str(user.id), 1,
    )  # fmt: skip
    assert user.username.encode() not in bytes(row.payload)  # sealed under the person's key
    with pytest.raises(SubjectKeyUnknown):
        decode(bytes(row.payload))
    key_row = OutboxEvent.objects.get(aggregate_type=KEY_RECORD_AGGREGATE)
    assert (key_row.topic, key_row.key, key_row.aggregate_id) == (subject_keys_spec().name, str(user.id), str(user.id))
    assert key_record_decode(key_row.key.encode(), bytes(key_row.payload)) == KeyRecord(
        str(user.id), bytes(SubjectKey.objects.get(subject_id=str(user.id)).key)
    )
    assert (row.topic, row.key, row.created_at, row.sent_at) == (
        topic_for("user"),
        str(user.id),
        event.occurred_at,
        None,
    )
