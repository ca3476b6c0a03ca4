"""Events for rows that never had any: accounts made before registration emitted `user.registered`, rows of an
existing database inserted directly. Without their events such rows never reach the read models.

A row "has events" when it is marked `announced` (the service's own writes mark every row they create, and the
backfill marks the rows it writes events for), or, for rows written before that mark existed, when the outbox still
holds its creation event (`user.registered`, `post.created`, `comment.added`). The mark is what keeps a second run
from writing anything once the relay has pruned the outbox's sent rows (`OUTBOX_RETENTION_SECONDS`).
One that lacks it gets, in one transaction with a lock on the row, the events that bring a read model from nothing
to the row as it is now: its creation with the current fields, then what its status needs (`post.published` when
it has a publication time; `post.unpublished`, `post.archived` or `post.deleted` after it; `comment.deleted`).
That is what the API would have written for the same result, so the projector needs nothing new.

Versions: the events end at the row's version, so the projector's guards and `verify` agree with the row. A row
whose version is too low for its events (a post inserted at version 1 as published needs two) is moved to the
version of its last event in the same transaction; a row that has later events but no creation event (changed
through the API after it was inserted) gets its events after the ones it has. The projector writes each field at
the version that last set it, so the result is the row's state in whatever order the events arrive.

Times: every event of a post or comment occurs at the row's `updated_at` (when it was last changed), which the
read models show as `updated_at`; a registration, whose row keeps no such time, occurs now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from command_service.domain.comments import Comment
from command_service.domain.errors import DomainError, InvalidTransition
from command_service.domain.posts import Post, PostStatus
from command_service.services.unit_of_work import UnitOfWork
from events.types import CommentDeleted, PostArchived, PostDeleted, PostPublished, PostUnpublished, spec_of

AGGREGATE_TYPES = ("user", "post", "comment")  # authors first: content events snapshot their current version
CREATION_EVENTS = {"user": "user.registered", "post": "post.created", "comment": "comment.added"}


class EventHistory(Protocol):
    """What the backfill reads of the events already written, and the one row change it makes."""

    def without_creation_event(self, aggregate_type: str, *, after_id: int, limit: int) -> tuple[list[int], int]:
        """Of the next `limit` rows after `after_id` in id order, the ids of those without events (neither announced
        nor with a creation event in the outbox), and the last id looked at (`after_id` when no row is left)."""

    def lock_and_look(self, aggregate_type: str, aggregate_id: int) -> tuple[bool, int]:
        """Lock the row for this transaction, then say whether it has events (announced, or its creation event in
        the outbox) and the highest version of its events in the outbox (0: none)."""

    def mark_announced(self, aggregate_type: str, aggregate_id: int, *, read_version: int, version: int) -> None:
        """Mark the row announced, moving it from `read_version` to `version` (raises Conflict when it is no longer
        at `read_version`)."""


@dataclass(frozen=True)
class History:
    """The events that bring a read model to one row's current state, and when they occurred (None: now)."""

    events: tuple[object, ...]
    row_version: int
    occurred_at: datetime | None


@dataclass
class BackfillResult:
    """What a backfill emitted (or, on a dry run, would emit), and the rows it had to leave as they are."""

    events: Counter[str] = field(default_factory=Counter)
    rows: Counter[str] = field(default_factory=Counter)
    refused: list[tuple[str, int, str]] = field(default_factory=list)


def post_history_events(post: Post, creation: object) -> tuple[object, ...]:
    """`creation` (the post's `post.created`) and the status events that lead from a draft to the post's status.

    Raises:
        InvalidTransition: a published post without a publication time, which no sequence of events gives.
    """
    post_id = str(post.id)
    events: list[object] = [creation]
    if post.published_at is not None:  # published once: a hidden, archived or deleted post keeps that time
        events.append(PostPublished(post_id=post_id, published_at=post.published_at))
    elif post.status == PostStatus.PUBLISHED:
        raise InvalidTransition(
            f"post {post_id} is published without a publication time: no events give that state",
            {"published_at": ["is null on a published post"]},
        )
    if post.status == PostStatus.DRAFT and post.published_at is not None:
        events.append(PostUnpublished(post_id=post_id))
    elif post.status == PostStatus.ARCHIVED:
        events.append(PostArchived(post_id=post_id))
    elif post.status == PostStatus.DELETED:
        events.append(PostDeleted(post_id=post_id))
    return tuple(events)


def comment_history_events(comment: Comment, creation: object) -> tuple[object, ...]:
    """`creation` (the comment's `comment.added`), then `comment.deleted` for a deleted comment."""
    if not comment.is_deleted:
        return (creation,)
    return creation, CommentDeleted(comment_id=str(comment.id), post_id=str(comment.post_id))


def backfill_versions(*, row_version: int, last_event_version: int, count: int) -> range:
    """The versions of `count` backfilled events: ending at the row's version when there is room below it and
    above the aggregate's events already written, else right after both (the row then moves to the last one)."""
    last = max(row_version, count, last_event_version + count)
    return range(last - count + 1, last + 1)


def history_of(aggregate_type: str, aggregate_id: int, uow: UnitOfWork) -> History:
    """The row's current state as events (authors read as they are now, deactivated ones included)."""
    if aggregate_type == "user":
        user = uow.users.get(aggregate_id, include_inactive=True)
        return History((user.registered_event(),), user.version, None)
    if aggregate_type == "post":
        post = uow.posts.get(aggregate_id)
        author = uow.users.get(post.author_id, include_inactive=True)
        return History(post_history_events(post, post.created_event(author)), post.version, post.updated_at)
    comment = uow.comments.get(aggregate_id)
    author = uow.users.get(comment.author_id, include_inactive=True)
    events = comment_history_events(comment, comment.added_event(author))
    return History(events, comment.version, comment.updated_at)


def aggregate_backfill(
    *, aggregate_type: str, aggregate_id: int, dry_run: bool, history: EventHistory, uow: UnitOfWork
) -> tuple[str, ...]:
    """Write the events of one row that lacks its creation event, in one transaction; returns their types.

    Returns () when the row has its creation event by the time its lock is held (a concurrent backfill wrote it).
    A dry run writes nothing and returns what it would have written.
    """
    with uow:
        has_creation, last_event_version = history.lock_and_look(aggregate_type, aggregate_id)
        if has_creation:
            return ()
        state = history_of(aggregate_type, aggregate_id, uow)
        types = tuple(spec_of(event).event_type for event in state.events)
        if dry_run:
            return types
        versions = backfill_versions(
            row_version=state.row_version, last_event_version=last_event_version, count=len(state.events)
        )
        history.mark_announced(aggregate_type, aggregate_id, read_version=state.row_version, version=versions[-1])
        for event, version in zip(state.events, versions, strict=True):
            uow.record(event, aggregate_version=version, occurred_at=state.occurred_at)
        uow.commit()
    return types


def events_backfill(
    *,
    history: EventHistory,
    unit_of_work: Callable[[], UnitOfWork],
    batch_size: int = 500,
    dry_run: bool = False,
    on_batch: Callable[[str, int], None] | None = None,
) -> BackfillResult:
    """Backfill every row of every aggregate type that lacks its creation event, `batch_size` rows at a time.

    Args:
        history: the outbox and the rows, as the backfill reads them.
        unit_of_work: a fresh unit of work per row (each row is its own transaction).
        batch_size: rows looked at per query; memory stays bounded by it, whatever the table's size.
        dry_run: count what would be written, write nothing.
        on_batch: called with (aggregate type, last id looked at) after each batch, for progress.
    """
    result = BackfillResult()
    for aggregate_type in AGGREGATE_TYPES:
        after = 0
        while True:
            ids, last = history.without_creation_event(aggregate_type, after_id=after, limit=batch_size)
            if last == after:
                break
            for aggregate_id in ids:
                try:
                    types = aggregate_backfill(
                        aggregate_type=aggregate_type, aggregate_id=aggregate_id, dry_run=dry_run, history=history,
                        uow=unit_of_work(),
                    )  # fmt: skip
                except DomainError as refused:  # a state no events give, or a concurrent change: left as it is
                    result.refused.append((aggregate_type, aggregate_id, refused.message))
                    continue
                result.events.update(types)
                result.rows[aggregate_type] += bool(types)
            if on_batch is not None:
                on_batch(aggregate_type, last)
            after = last
    return result
