"""In-memory fakes of the services' unit of work, behaving like the Django ones (the contract tests keep them so).

A repository keeps committed objects and the objects staged by the open unit of work; `get` sees staged over
committed, and every object crosses the boundary as a copy, so changing a loaded object changes nothing stored
until it is saved and committed. `commit()` applies what was staged, anything else discards it.
"""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from command_service.domain.comments import Comment
from command_service.domain.errors import Conflict, NotFound
from command_service.domain.posts import Post
from command_service.domain.users import User, erased_username
from command_service.services.unit_of_work import EventContext, UnitOfWork
from events.envelope import EventEnvelope

START = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


class _FakeRepository[T: User | Post | Comment]:
    """Objects of one aggregate type by id."""

    kind = "object"

    def __init__(self) -> None:
        self.committed: dict[int, T] = {}
        self.staged: dict[int, T] = {}
        self._ids = itertools.count(1)  # never reused, like a database sequence

    def _current(self, obj_id: int) -> T | None:
        return self.staged.get(obj_id, self.committed.get(obj_id))

    def get(self, obj_id: int) -> T:
        stored = self._current(obj_id)
        if stored is None:
            raise NotFound(f"{self.kind} {obj_id} not found")
        return copy.deepcopy(stored)

    def _add(self, obj: T) -> None:
        obj.id = next(self._ids)
        self.staged[obj.id] = copy.deepcopy(obj)

    def save(self, obj: T) -> None:
        stored = self._current(obj.id)
        if stored is None or stored.version != obj.version - 1:
            raise Conflict(f"{self.kind} {obj.id} was changed concurrently: read it again and retry")
        self.staged[obj.id] = copy.deepcopy(obj)

    def commit(self) -> None:
        self.committed.update(self.staged)
        self.staged.clear()

    def rollback(self) -> None:
        self.staged.clear()

    def _all(self) -> list[T]:
        return [self._current(obj_id) for obj_id in sorted({*self.committed, *self.staged})]


class FakeUsers(_FakeRepository[User]):
    kind = "user"

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[int, str] = {}  # the fake keeps passwords; the real repository, hashes

    def get(self, obj_id: int, *, include_inactive: bool = False) -> User:
        user = super().get(obj_id)
        if user.username == erased_username(obj_id) or not (user.is_active or include_inactive):
            raise NotFound(f"user {obj_id} not found")
        return user

    def add(self, user: User, *, password: str) -> None:
        stored = [*self.committed.values(), *self.staged.values()]
        if any(other.username.lower() == user.username.lower() for other in stored):
            raise Conflict("the username is taken", {"username": ["is taken"]})
        self._add(user)
        self.passwords[user.id] = password

    def password_matches(self, user_id: int, password: str) -> bool:
        stored = self._current(user_id)
        erased = stored is None or stored.username == erased_username(user_id)
        return not erased and self.passwords.get(user_id) == password

    def erase(self, user: User) -> None:
        self.save(user)  # the erased fields are the user's own; blanking content rows is the Django repository's

    def password_problems(self, password: str, *, username: str, display_name: str) -> list[str]:
        """Django's validators are the real rule (tests/api checks them); the fake accepts what the domain accepts."""
        return []


class FakePosts(_FakeRepository[Post]):
    kind = "post"

    def add(self, post: Post) -> None:
        self._add(post)

    def of_author(self, author_id: int) -> list[Post]:
        return [copy.deepcopy(post) for post in self._all() if post.author_id == author_id]


class FakeComments(_FakeRepository[Comment]):
    kind = "comment"

    def add(self, comment: Comment) -> None:
        self._add(comment)

    def of_author(self, author_id: int) -> list[Comment]:
        return [copy.deepcopy(comment) for comment in self._all() if comment.author_id == author_id]


class FakeUnitOfWork(UnitOfWork):
    """The store and the transaction in one object; `outbox` lists the committed events in order.

    `clock` is what `now()` returns: set it, or move it with `advance()`.
    `fail_outbox_with`, when set, is raised by the next event recorded: a failure after the change was staged.
    """

    def __init__(self, context: EventContext | None = None, *, now: datetime = START) -> None:
        super().__init__(context or EventContext(correlation_id="test-correlation"))
        self.users = FakeUsers()
        self.posts = FakePosts()
        self.comments = FakeComments()
        self.clock = now
        self.outbox: list[EventEnvelope] = []
        self._pending: list[EventEnvelope] = []
        self.forgotten: list[int] = []  # the subjects whose keys committed erasures forgot, in order
        self._pending_forgotten: list[int] = []
        self.fail_outbox_with: Exception | None = None

    def now(self) -> datetime:
        return self.clock

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by a `timedelta(**delta)`; returns the new time."""
        self.clock += timedelta(**delta)
        return self.clock

    def _repositories(self) -> tuple[_FakeRepository[Any], ...]:
        return (self.users, self.posts, self.comments)

    def _add_to_outbox(self, envelope: EventEnvelope) -> None:
        if self.fail_outbox_with is not None:
            raise self.fail_outbox_with
        self._pending.append(envelope)

    def forget_subject(self, subject_id: int) -> None:
        self._pending_forgotten.append(subject_id)

    def commit(self) -> None:
        for repository in self._repositories():
            repository.commit()
        self.outbox.extend(self._pending)
        self.forgotten.extend(self._pending_forgotten)
        self._pending.clear()
        self._pending_forgotten.clear()

    def rollback(self) -> None:
        for repository in self._repositories():
            repository.rollback()
        self._pending.clear()
        self._pending_forgotten.clear()

    def committed_state(self) -> dict[str, Any]:
        """A deep copy of everything committed, to compare before and after a command."""
        state = {repository.kind: repository.committed for repository in self._repositories()}
        return copy.deepcopy({**state, "outbox": self.outbox})
