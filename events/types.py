"""Every domain event's payload, one frozen dataclass per (event type, schema version), and the registry.

The class is the single definition of a payload: `events.codec` reads and writes it from its type hints and
`events.schemas` publishes its JSON Schema from the same hints. The registry maps (event type, schema version) to
the class and its aggregate type; the newest version of a type is what producers write and what `decode` returns.

A payload always carries its aggregate's id under `<aggregate_type>_id` (`post_id` for post events ...), which
`EventEnvelope` checks against `aggregate_id`, so the key a message is partitioned by can't disagree with its body.
Old versions stay here (named `...V<N>`) for as long as events of that shape may still be read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Literal, get_args

from events.codec import Id, Version
from events.errors import UnknownEventType, UnsupportedSchemaVersion

AggregateType = Literal["user", "post", "comment"]
AGGREGATE_TYPES: tuple[str, ...] = get_args(AggregateType)


@dataclass(frozen=True)
class EventSpec:
    """What the registry knows about one (event type, schema version)."""

    event_type: str
    schema_version: int
    aggregate_type: str
    payload_class: type
    personal: bool = False  # the payload carries a person's data: sealed under their key (events.personal_data)

    @property
    def aggregate_id_field(self) -> str:
        """The payload field holding the aggregate id."""
        return f"{self.aggregate_type}_id"

    def subject_in(self, payload: object) -> str | None:
        """The person a personal payload names itself: a user event's user, or a content event's author snapshot.

        Other personal payloads (an edit) do not name their author; their producer gives the subject.
        """
        if not self.personal:
            return None
        author = getattr(payload, "author", None)
        if isinstance(author, AuthorSnapshot):
            return author.user_id
        return getattr(payload, "user_id", None) if self.aggregate_type == "user" else None


_SPECS: dict[tuple[str, int], EventSpec] = {}
SPECS = MappingProxyType(_SPECS)


def _event[T: type](
    event_type: str, aggregate_type: str, version: int = 1, *, personal: bool = False
) -> Callable[[T], T]:
    def register(cls: T) -> T:
        if (event_type, version) in _SPECS or aggregate_type not in AGGREGATE_TYPES:
            raise RuntimeError(f"bad registration of {event_type} v{version} for {aggregate_type}")
        _SPECS[(event_type, version)] = EventSpec(event_type, version, aggregate_type, cls, personal)
        return cls

    return register


@dataclass(frozen=True)
class AuthorSnapshot:
    """The author as the command side saw them when the content was written.

    `user_version` is the author's aggregate version at that moment, so a reader holding both this snapshot and
    the user's own events keeps whichever is newer.
    """

    user_id: Id
    username: str
    display_name: str
    avatar_url: str | None
    user_version: Version


@_event("user.registered", "user", version=1, personal=True)
@dataclass(frozen=True)
class UserRegisteredV1:
    """A user signed up (shape of an earlier release: one `name`, avatar and bio optional)."""

    user_id: Id
    username: str
    name: str
    avatar_url: str | None = None
    bio: str = ""


@_event("user.registered", "user", version=2, personal=True)
@dataclass(frozen=True)
class UserRegistered:
    """A user signed up."""

    user_id: Id
    username: str
    display_name: str
    avatar_url: str | None
    bio: str


@_event("user.profile_changed", "user", personal=True)
@dataclass(frozen=True)
class UserProfileChanged:
    """A user's public profile changed; carries the full new values, not a diff, so applying it is idempotent."""

    user_id: Id
    display_name: str
    avatar_url: str | None
    bio: str


@_event("user.deactivated", "user")
@dataclass(frozen=True)
class UserDeactivated:
    """Staff deactivated an account: it can no longer sign in; its profile and content stay as they are."""

    user_id: Id


@_event("user.reactivated", "user")
@dataclass(frozen=True)
class UserReactivated:
    """Staff reactivated a deactivated account: it can sign in again."""

    user_id: Id


@_event("user.erased", "user")
@dataclass(frozen=True)
class UserErased:
    """A person closed their account and had their personal data erased (or staff did it for them).

    Their key is gone (`events.personal_data`): every sealed payload about them, in every copy of the log, is
    unreadable from now on. Their posts and comments were deleted just before, each with its own `post.deleted` or
    `comment.deleted`; a consumer that keeps anything else about the person (a copy of a profile, a cache) drops it.
    """

    user_id: Id


@_event("post.created", "post", personal=True)
@dataclass(frozen=True)
class PostCreated:
    """A draft post was created."""

    post_id: Id
    author: AuthorSnapshot
    title: str
    content: str
    tags: tuple[str, ...]
    created_at: datetime


@_event("post.edited", "post", personal=True)
@dataclass(frozen=True)
class PostEdited:
    """A post's title and content were replaced."""

    post_id: Id
    title: str
    content: str


@_event("post.tags_changed", "post", personal=True)
@dataclass(frozen=True)
class PostTagsChanged:
    """A post's tags were replaced by `tags` (the full new set)."""

    post_id: Id
    tags: tuple[str, ...]


@_event("post.published", "post")
@dataclass(frozen=True)
class PostPublished:
    """A post became publicly visible."""

    post_id: Id
    published_at: datetime


@_event("post.unpublished", "post")
@dataclass(frozen=True)
class PostUnpublished:
    """A published post went back to draft."""

    post_id: Id


@_event("post.archived", "post")
@dataclass(frozen=True)
class PostArchived:
    """A post was archived: no longer listed, kept for its author."""

    post_id: Id


@_event("post.deleted", "post")
@dataclass(frozen=True)
class PostDeleted:
    """A post was deleted; read models drop it and its comments."""

    post_id: Id


@_event("comment.added", "comment", personal=True)
@dataclass(frozen=True)
class CommentAdded:
    """A comment was added to a post."""

    comment_id: Id
    post_id: Id
    author: AuthorSnapshot
    body: str
    created_at: datetime


@_event("comment.edited", "comment", personal=True)
@dataclass(frozen=True)
class CommentEdited:
    """A comment's body was replaced."""

    comment_id: Id
    post_id: Id
    body: str


@_event("comment.deleted", "comment")
@dataclass(frozen=True)
class CommentDeleted:
    """A comment was deleted."""

    comment_id: Id
    post_id: Id


def event_types() -> list[str]:
    """Every registered event type, in registration order."""
    return list(dict.fromkeys(event_type for event_type, _ in _SPECS))


def current_spec(event_type: str) -> EventSpec:
    """The newest registered version of `event_type` (raises UnknownEventType)."""
    versions = [spec for (name, _), spec in _SPECS.items() if name == event_type]
    if not versions:
        raise UnknownEventType(f"unknown event type {event_type!r}", event_type=event_type, schema_version=0)
    return max(versions, key=lambda spec: spec.schema_version)


def event_spec(event_type: str, schema_version: int) -> EventSpec:
    """The spec of one (type, version); raises UnknownEventType, or UnsupportedSchemaVersion when not registered."""
    spec = _SPECS.get((event_type, schema_version))
    if spec is not None:
        return spec
    if event_type not in event_types():
        raise UnknownEventType(
            f"unknown event type {event_type!r}", event_type=event_type, schema_version=schema_version
        )
    raise UnsupportedSchemaVersion(
        f"{event_type} schema version {schema_version} is not supported "
        f"(newest known: {current_spec(event_type).schema_version})",
        event_type=event_type,
        schema_version=schema_version,
    )


def spec_of(payload: object) -> EventSpec:
    """The spec whose payload class `payload` is an instance of (raises ValueError for anything else)."""
    for spec in _SPECS.values():
        if type(payload) is spec.payload_class:
            return spec
    raise ValueError(f"{type(payload).__name__} is not a registered event payload")
