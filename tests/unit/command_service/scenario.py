"""Arranging state through the services themselves, and reading what a command wrote.

Arranging helpers commit their changes and then empty the outbox, so a test sees only the events it caused.
"""

from __future__ import annotations

from command_service.domain.actors import Actor
from command_service.services.comments import comment_add
from command_service.services.posts import post_archive, post_create, post_delete, post_publish
from command_service.services.unit_of_work import EventContext
from command_service.services.users import user_register
from events.envelope import EventEnvelope
from tests.unit.command_service.fakes import FakeUnitOfWork

CONTEXT = EventContext(correlation_id="corr-7f3a", causation_id="req-19", actor_id="1")
PASSWORD = "correct horse"
STATUSES = ("draft", "published", "archived", "deleted")


def register(uow: FakeUnitOfWork, username: str, *, is_staff: bool = False) -> Actor:
    """A registered user, as the actor the API would build for them."""
    written = user_register(username=username, password=PASSWORD, display_name=username.title(), uow=uow)
    uow.outbox.clear()
    return Actor(written.aggregate_id, is_staff=is_staff)


def post_in(uow: FakeUnitOfWork, author: Actor, status: str, *, tags: tuple[str, ...] = ("python",)) -> int:
    """The id of a post by `author` brought to `status` the way users do it (archived and deleted from published)."""
    post_id = post_create(actor=author, title="Hello", content="First words.", tags=list(tags), uow=uow).aggregate_id
    if status != "draft":
        post_publish(post_id=post_id, actor=author, uow=uow)
    if status == "archived":
        post_archive(post_id=post_id, actor=author, uow=uow)
    if status == "deleted":
        post_delete(post_id=post_id, actor=author, uow=uow)
    uow.outbox.clear()
    return post_id


def comment_on(uow: FakeUnitOfWork, post_id: int, author: Actor, body: str = "Nice post.") -> int:
    """The id of a new comment by `author` on the (published) post."""
    comment_id = comment_add(post_id=post_id, actor=author, body=body, uow=uow).aggregate_id
    uow.outbox.clear()
    return comment_id


def only_event(uow: FakeUnitOfWork) -> EventEnvelope:
    """The one event committed since the arrangement, stamped with the unit's context and clock."""
    assert len(uow.outbox) == 1, [envelope.event_type for envelope in uow.outbox]
    envelope = uow.outbox[0]
    assert (envelope.correlation_id, envelope.causation_id, envelope.actor_id) == ("corr-7f3a", "req-19", "1")
    assert envelope.occurred_at == uow.clock
    return envelope
