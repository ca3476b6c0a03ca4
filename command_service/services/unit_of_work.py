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

    def password_matches(self, user_id: int, password: str) -> bool:
        """Whether `password` is the user's current password."""

    def erase(self, user: User) -> None:
        """Store an erasure (`User.erase`, on the version that was read): the account keeps only its id and version,
        its sign-in tokens and stored responses go, and the text of its posts and comments is blanked."""


class PostRepository(Protocol):
    """Posts by id."""

    def get(self, post_id: int) -> Post:
        """The post, deleted ones included (raises NotFound)."""

    def add(self, post: Post) -> None:
        """Store a new post, setting its id."""

    def of_author(self, author_id: int) -> list[Post]:
        """The author's posts, deleted ones included, by id."""

    def save(self, post: Post) -> None:
        """Store a change made on the version that was read (raises Conflict if it changed meanwhile)."""


class CommentRepository(Protocol):
    """Comments by id."""

    def get(self, comment_id: int) -> Comment:
        """The comment, deleted ones included (raises NotFound)."""

    def add(self, comment: Comment) -> None:
        """Store a new comment, setting its id."""

    def of_author(self, author_id: int) -> list[Comment]:
        """The author's comments, deleted ones included, by id."""

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

    def record(
        self,
        payload: object,
        *,
        aggregate_version: int,
        occurred_at: datetime | None = None,
        subject_id: int | None = None,
    ) -> Written:
        """Put the event of a change into the outbox of this transaction; returns what it changed.

        `occurred_at` is this unit's time unless given: the backfill (services/backfill.py) stamps the events it
        writes for an old row with the time of the row's last change, which the read models show as `updated_at`.
        `subject_id` is the person whose data a personal event carries, when its payload does not name them (an
        edit: its author); the outbox seals such a payload under that person's key (`events.personal_data`).
        """
        envelope = EventEnvelope.create(
            payload,
            aggregate_version=aggregate_version,
            correlation_id=self.context.correlation_id,
            causation_id=self.context.causation_id,
            actor_id=self.context.actor_id,
            occurred_at=self.now() if occurred_at is None else occurred_at,
            subject_id=None if subject_id is None else str(subject_id),
        )
        self._add_to_outbox(envelope)
        spec = spec_of(payload)
        return Written(spec.aggregate_type, int(envelope.aggregate_id), aggregate_version)

    @abstractmethod
    def _add_to_outbox(self, envelope: EventEnvelope) -> None:
        """Store the event in the same transaction as the changes, a personal payload sealed under its subject's
        key (issued, and published on the key topic, the first time the person has one)."""

    @abstractmethod
    def forget_subject(self, subject_id: int) -> None:
        """Erase a person's key in this transaction: every sealed copy of their data becomes unreadable for good,
        and the erased marker goes to the key topic through the outbox (`events.personal_data`)."""

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
