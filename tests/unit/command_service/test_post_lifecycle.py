"""The post status machine and who may drive it: every change from every status, by author, stranger and staff."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from command_service.domain.actors import Actor
from command_service.domain.errors import DomainError, InvalidTransition, NotFound, PermissionDenied
from command_service.domain.posts import PostStatus
from command_service.services.posts import (
    post_archive,
    post_delete,
    post_edit,
    post_publish,
    post_tags_set,
    post_unpublish,
)
from command_service.services.unit_of_work import Written
from events.types import PostArchived, PostDeleted, PostPublished, PostUnpublished
from tests.unit.command_service.fakes import FakeUnitOfWork
from tests.unit.command_service.scenario import STATUSES, only_event, post_in

Change = Callable[..., Written]
CHANGES: dict[str, Change] = {
    "edit": lambda **kw: post_edit(title="Changed", content="Changed.", **kw),
    "tags_set": lambda **kw: post_tags_set(tags=["changed"], **kw),
    "publish": post_publish,
    "unpublish": post_unpublish,
    "archive": post_archive,
    "delete": post_delete,
}
AUTHOR_ONLY = ("edit", "tags_set", "publish")

EVENT_TYPES = {
    "edit": "post.edited",
    "tags_set": "post.tags_changed",
    "publish": "post.published",
    "unpublish": "post.unpublished",
    "archive": "post.archived",
    "delete": "post.deleted",
}
VERSIONS = {"draft": 1, "published": 2, "archived": 3, "deleted": 3}  # as `post_in` reaches them

# What the author gets for each (change, starting status): the new status, or the error.
AUTHOR_OUTCOMES: dict[tuple[str, str], str | type[DomainError]] = {
    ("edit", "draft"): "draft",
    ("edit", "published"): "published",
    ("edit", "archived"): InvalidTransition,
    ("edit", "deleted"): NotFound,
    ("tags_set", "draft"): "draft",
    ("tags_set", "published"): "published",
    ("tags_set", "archived"): InvalidTransition,
    ("tags_set", "deleted"): NotFound,
    ("publish", "draft"): "published",
    ("publish", "published"): InvalidTransition,
    ("publish", "archived"): InvalidTransition,
    ("publish", "deleted"): NotFound,
    ("unpublish", "draft"): InvalidTransition,
    ("unpublish", "published"): "draft",
    ("unpublish", "archived"): InvalidTransition,
    ("unpublish", "deleted"): NotFound,
    ("archive", "draft"): "archived",
    ("archive", "published"): "archived",
    ("archive", "archived"): InvalidTransition,
    ("archive", "deleted"): NotFound,
    ("delete", "draft"): "deleted",
    ("delete", "published"): "deleted",
    ("delete", "archived"): "deleted",
    ("delete", "deleted"): NotFound,
}
ALLOWED = [key for key, outcome in AUTHOR_OUTCOMES.items() if isinstance(outcome, str)]
REFUSED = [key for key, outcome in AUTHOR_OUTCOMES.items() if not isinstance(outcome, str)]


def apply(uow: FakeUnitOfWork, change: str, post_id: int, actor: Actor) -> Written:
    return CHANGES[change](post_id=post_id, actor=actor, uow=uow)


def refused(uow: FakeUnitOfWork, change: str, post_id: int, actor: Actor, error: type[DomainError]) -> DomainError:
    """The error of a refused change, after checking that it wrote nothing."""
    before = uow.committed_state()
    with pytest.raises(error) as caught:
        apply(uow, change, post_id, actor)
    assert uow.committed_state() == before
    return caught.value


def test_the_table_covers_every_change_from_every_status() -> None:
    assert set(AUTHOR_OUTCOMES) == {(change, status) for change in CHANGES for status in STATUSES}


@pytest.mark.parametrize(("change", "start"), ALLOWED)
def test_allowed_changes_by_the_author(uow: FakeUnitOfWork, alice: Actor, change: str, start: str) -> None:
    post_id = post_in(uow, alice, start)

    written = apply(uow, change, post_id, alice)

    assert written == Written("post", post_id, VERSIONS[start] + 1)
    post = uow.posts.get(post_id)
    assert (post.status, post.version) == (AUTHOR_OUTCOMES[change, start], VERSIONS[start] + 1)
    event = only_event(uow)
    assert (event.event_type, event.aggregate_id, event.aggregate_version) == (
        EVENT_TYPES[change], str(post_id), VERSIONS[start] + 1,
    )  # fmt: skip


@pytest.mark.parametrize(("change", "start"), REFUSED)
def test_refused_changes_by_the_author(uow: FakeUnitOfWork, alice: Actor, change: str, start: str) -> None:
    post_id = post_in(uow, alice, start)

    error = refused(uow, change, post_id, alice, AUTHOR_OUTCOMES[change, start])

    if isinstance(error, InvalidTransition):
        assert error.fields == {"status": [f"is {start}"]}


# The events of the status changes, exactly.


def test_publish_stamps_the_time(uow: FakeUnitOfWork, alice: Actor) -> None:
    post_id = post_in(uow, alice, "draft")
    when = uow.advance(hours=1)

    post_publish(post_id=post_id, actor=alice, uow=uow)

    assert only_event(uow).payload == PostPublished(post_id=str(post_id), published_at=when)
    assert (uow.posts.get(post_id).published_at, uow.posts.get(post_id).updated_at) == (when, when)


def test_a_post_can_be_published_again_after_unpublishing(uow: FakeUnitOfWork, alice: Actor) -> None:
    post_id = post_in(uow, alice, "published")
    post_unpublish(post_id=post_id, actor=alice, uow=uow)
    when = uow.advance(days=1)

    written = post_publish(post_id=post_id, actor=alice, uow=uow)

    assert written == Written("post", post_id, 4)
    assert uow.outbox[-1].payload == PostPublished(post_id=str(post_id), published_at=when)


@pytest.mark.parametrize(
    ("change", "start", "payload_class"),
    [("unpublish", "published", PostUnpublished), ("archive", "draft", PostArchived), ("delete", "draft", PostDeleted)],
)
def test_status_events_name_the_post(
    uow: FakeUnitOfWork, alice: Actor, change: str, start: str, payload_class: type
) -> None:
    post_id = post_in(uow, alice, start)

    apply(uow, change, post_id, alice)

    assert only_event(uow).payload == payload_class(post_id=str(post_id))


# Who may.


@pytest.mark.parametrize("change", CHANGES)
def test_a_stranger_is_denied_a_published_post(uow: FakeUnitOfWork, alice: Actor, bob: Actor, change: str) -> None:
    post_id = post_in(uow, alice, "published")

    refused(uow, change, post_id, bob, PermissionDenied)


@pytest.mark.parametrize("start", ["draft", "archived", "deleted"])
@pytest.mark.parametrize("change", CHANGES)
def test_a_stranger_is_not_told_an_unpublished_post_exists(
    uow: FakeUnitOfWork, alice: Actor, bob: Actor, change: str, start: str
) -> None:
    post_id = post_in(uow, alice, start)

    error = refused(uow, change, post_id, bob, NotFound)

    assert str(error) == f"post {post_id} not found"


@pytest.mark.parametrize("change", CHANGES)
def test_a_missing_post_is_not_found(uow: FakeUnitOfWork, alice: Actor, change: str) -> None:
    refused(uow, change, 404, alice, NotFound)


@pytest.mark.parametrize(("change", "target"), [("unpublish", "draft"), ("archive", "archived"), ("delete", "deleted")])
def test_staff_moderate_a_published_post(
    uow: FakeUnitOfWork, alice: Actor, staff: Actor, change: str, target: str
) -> None:
    post_id = post_in(uow, alice, "published")

    written = apply(uow, change, post_id, staff)

    assert written.version == 3
    assert uow.posts.get(post_id).status == PostStatus(target)
    assert only_event(uow).event_type == EVENT_TYPES[change]


def test_staff_delete_an_archived_post(uow: FakeUnitOfWork, alice: Actor, staff: Actor) -> None:
    post_id = post_in(uow, alice, "archived")

    post_delete(post_id=post_id, actor=staff, uow=uow)

    assert uow.posts.get(post_id).status == PostStatus.DELETED


@pytest.mark.parametrize("change", AUTHOR_ONLY)
def test_staff_do_not_write_for_the_author(uow: FakeUnitOfWork, alice: Actor, staff: Actor, change: str) -> None:
    post_id = post_in(uow, alice, "published")

    refused(uow, change, post_id, staff, PermissionDenied)


@pytest.mark.parametrize("change", AUTHOR_ONLY)
def test_staff_do_not_see_someone_elses_draft_to_write_it(
    uow: FakeUnitOfWork, alice: Actor, staff: Actor, change: str
) -> None:
    post_id = post_in(uow, alice, "draft")

    refused(uow, change, post_id, staff, NotFound)


@pytest.mark.parametrize("change", CHANGES)
def test_a_deleted_post_is_not_found_even_for_staff(
    uow: FakeUnitOfWork, alice: Actor, staff: Actor, change: str
) -> None:
    post_id = post_in(uow, alice, "deleted")

    refused(uow, change, post_id, staff, NotFound)
