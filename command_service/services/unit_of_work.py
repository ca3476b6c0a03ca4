"""What the services need from storage: repositories per aggregate, one transaction, and the event outbox."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self

from command_service.domain.comments import Comment
from command_service.domain.posts import Post
from command_service.domain.users import User
from events.envelope import EventEnvelope
from events.types import spec_of


class UserRepository(Protocol):
    """Users by id."""

    def get(self, user_id: int, *, include_inactive: bool = False) -> User:
        """The user (raises NotFound); a deactivated one only with `include_inactive`."""

    def add(self, user: User, *, password: str) -> None:
        """Store a new user, setting its id (raises Conflict when the username is taken)."""

    def password_problems(self, password: str, *, username: str, display_name: str) -> list[str]:
        """What the deployment's password rules say against a new user's password (called only on a password
        within the domain's bounds); [] when it is acceptable."""

    def save(self, user: User) -> None:
        """Store a change made on the version that was read (raises Conflict if it changed meanwhile)."""


class PostRepository(Protocol):
    """Posts by id."""

    def get(self, post_id: int) -> Post:
        """The post, deleted ones included (raises NotFound)."""

    def add(self, post: Post) -> None:
        """Store a new post, setting its id."""

    def save(self, post: Post) -> None:
        """Store a change made on the version that was read (raises Conflict if it changed meanwhile)."""


class CommentRepository(Protocol):
    """Comments by id."""

    def get(self, comment_id: int) -> Comment:
        """The comment, deleted ones included (raises NotFound)."""

    def add(self, comment: Comment) -> None:
        """Store a new comment, setting its id."""

    def save(self, comment: Comment) -> None:
        """Store a change made on the version that was read (raises Conflict if it changed meanwhile)."""


@dataclass(frozen=True)
class EventContext:
    """Where a command came from, stamped on every event it causes."""

    correlation_id: str
    causation_id: str | None = None
    actor_id: str | None = None


@dataclass(frozen=True)
class Written:
    """What a write changed: the aggregate and its new version (the consistency token of the response)."""

    aggregate_type: str
    aggregate_id: int
    version: int


class UnitOfWork(ABC):
    """One transaction over the repositories; events recorded in it are stored with the changes or not at all.

    Use as `with uow: ...; uow.commit()`; leaving the block without commit rolls everything back.
    """

    users: UserRepository
    posts: PostRepository
    comments: CommentRepository

    def __init__(self, context: EventContext) -> None:
        self.context = context
        self._now: datetime | None = None

    def now(self) -> datetime:
        """The time of this unit of work: read once, so a row's updated_at equals its event's occurred_at."""
        if self._now is None:
            self._now = datetime.now(UTC)
        return self._now

    def record(self, payload: object, *, aggregate_version: int, occurred_at: datetime | None = None) -> Written:
        """Put the event of a change into the outbox of this transaction; returns what it changed.

        `occurred_at` is this unit's time unless given: the backfill (services/backfill.py) stamps the events it
        writes for an old row with the time of the row's last change, which the read models show as `updated_at`.
        """
        envelope = EventEnvelope.create(
            payload,
            aggregate_version=aggregate_version,
            correlation_id=self.context.correlation_id,
            causation_id=self.context.causation_id,
            actor_id=self.context.actor_id,
            occurred_at=self.now() if occurred_at is None else occurred_at,
        )
        self._add_to_outbox(envelope)
        spec = spec_of(payload)
        return Written(spec.aggregate_type, int(envelope.aggregate_id), aggregate_version)

    @abstractmethod
    def _add_to_outbox(self, envelope: EventEnvelope) -> None:
        """Store the event in the same transaction as the changes."""

    @abstractmethod
    def commit(self) -> None:
        """Make the changes and their events durable together."""

    @abstractmethod
    def rollback(self) -> None:
        """Drop every change and event of this unit."""

    def __enter__(self) -> Self:
        self._now = None
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.rollback()  # a no-op after commit
