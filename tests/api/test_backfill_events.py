"""`python -m command_service backfill_events` on SQLite: rows inserted without events get the events that bring a
read model to their current state, through the outbox, once; accounts made by `createsuperuser`, the admin's add
form or the API already have theirs and are left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from command_service.apps.comments.models import Comment
from command_service.apps.outbox.models import OutboxEvent
from command_service.apps.outbox.subject_keys import KEY_RECORD_AGGREGATE, subject_key_ring
from command_service.apps.posts.models import Post, Tag
from command_service.apps.users.models import User
from command_service.bootstrap import unit_of_work_outside_a_request
from command_service.domain.actors import Actor
from command_service.services.posts import post_edit
from events.envelope import EventEnvelope, decode
from tests.api.helpers import PASSWORD, Account

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def backfill(*args: str) -> str:
    out = StringIO()
    call_command("backfill_events", *args, stdout=out)
    return out.getvalue()


def events(after_id: int = 0) -> list[EventEnvelope]:
    rows = OutboxEvent.objects.filter(id__gt=after_id).exclude(aggregate_type=KEY_RECORD_AGGREGATE).order_by("id")
    ring = subject_key_ring()
    return [decode(bytes(row.payload), ring) for row in rows]


def last_outbox_id() -> int:
    return OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def history(found: list[EventEnvelope], aggregate_type: str, pk: int) -> list[tuple[str, int]]:
    """(event type, version) of one aggregate's events, in outbox order."""
    key = (aggregate_type, str(pk))
    return [(e.event_type, e.aggregate_version) for e in found if (e.aggregate_type, e.aggregate_id) == key]


def raw_user(username: str, **fields: Any) -> User:
    """A user row written straight to the table, as an old database or a script would have: no event."""
    return User.objects.create(username=username, display_name=username.title(), **fields)


def raw_post(author: User, title: str, status: str, *, tags: tuple[str, ...] = (), **fields: Any) -> Post:
    at = {"created_at": T0, "updated_at": T0 + timedelta(hours=1), **fields}
    post = Post.objects.create(author=author, title=title, content=f"{title} text", status=status, **at)
    post.tags.set([Tag.objects.get_or_create(name=name)[0] for name in tags])
    return post


def raw_comment(post: Post, author: User, **fields: Any) -> Comment:
    at = {"created_at": T0 + timedelta(hours=2), "updated_at": T0 + timedelta(hours=3), **fields}
    return Comment.objects.create(post=post, author=author, body="raw comment", **at)


@pytest.fixture
def old_rows() -> dict[str, Any]:
    """Rows of every state, none with an event."""
    ann = raw_user("ann", avatar_url="https://img.example/ann.png", bio="Old hand", version=3)
    ben = raw_user("ben", is_active=False)
    posts = {
        "draft": raw_post(ann, "Draft", "draft", tags=("python", "django")),
        "published": raw_post(ann, "Published", "published", published_at=T0 + timedelta(minutes=30)),
        "hidden": raw_post(ann, "Hidden", "draft", published_at=T0, version=7),
        "archived": raw_post(ben, "Archived", "archived"),
        "deleted": raw_post(ben, "Deleted", "deleted", published_at=T0),
    }
    comments = {
        "live": raw_comment(posts["published"], ben),
        "deleted": raw_comment(posts["published"], ann, is_deleted=True),
    }
    return {"ann": ann, "ben": ben, "posts": posts, "comments": comments}


def test_rows_without_events_get_the_events_of_their_current_state_once(old_rows: dict[str, Any]) -> None:
    ann, ben, posts, comments = old_rows["ann"], old_rows["ben"], old_rows["posts"], old_rows["comments"]

    printed = backfill()

    found = events()
    assert printed.splitlines()[0] == "emitted 16 events for rows without events (2 users, 5 posts, 2 comments)"
    assert "  post.created       5" in printed
    assert history(found, "user", ann.pk) == [("user.registered", 3)]  # at the row's version
    assert history(found, "user", ben.pk) == [("user.registered", 1)]  # deactivated: not public, still an author
    assert history(found, "post", posts["draft"].pk) == [("post.created", 1)]
    assert history(found, "post", posts["published"].pk) == [("post.created", 1), ("post.published", 2)]
    assert history(found, "post", posts["hidden"].pk) == [
        ("post.created", 5), ("post.published", 6), ("post.unpublished", 7)
    ]  # fmt: skip
    assert history(found, "post", posts["archived"].pk) == [("post.created", 1), ("post.archived", 2)]
    assert history(found, "post", posts["deleted"].pk) == [
        ("post.created", 1), ("post.published", 2), ("post.deleted", 3)
    ]  # fmt: skip
    assert history(found, "comment", comments["live"].pk) == [("comment.added", 1)]
    assert history(found, "comment", comments["deleted"].pk) == [("comment.added", 1), ("comment.deleted", 2)]

    # A row whose version was too low for its events now stands at its last event's version; the others kept theirs.
    versions = dict(Post.objects.values_list("title", "version"))
    assert versions == {"Draft": 1, "Published": 2, "Hidden": 7, "Archived": 2, "Deleted": 3}
    assert dict(Comment.objects.values_list("pk", "version")) == {comments["live"].pk: 1, comments["deleted"].pk: 2}
    assert User.objects.get(pk=ann.pk).version == 3

    by_key = {(e.event_type, e.aggregate_id): e for e in found}
    registered = by_key["user.registered", str(ann.pk)].payload
    assert (registered.username, registered.display_name, registered.avatar_url, registered.bio) == (
        "ann", "Ann", "https://img.example/ann.png", "Old hand"
    )  # fmt: skip
    created = by_key["post.created", str(posts["draft"].pk)]
    assert (created.payload.tags, created.payload.created_at, created.occurred_at) == (
        ("django", "python"), T0, T0 + timedelta(hours=1)
    )  # fmt: skip  # occurred when the row last changed: the read model's updated_at
    assert (created.payload.author.user_id, created.payload.author.user_version) == (str(ann.pk), 3)
    assert by_key["post.published", str(posts["hidden"].pk)].payload.published_at == T0
    added = by_key["comment.added", str(comments["live"].pk)]
    assert (added.payload.post_id, added.payload.body, added.occurred_at) == (
        str(posts["published"].pk), "raw comment", T0 + timedelta(hours=3)
    )  # fmt: skip
    assert {e.actor_id for e in found} == {None}

    before = last_outbox_id()
    again = backfill()
    assert again.splitlines() == ["emitted 0 events for rows without events (0 users, 0 posts, 0 comments)"]
    assert last_outbox_id() == before


def test_a_dry_run_counts_and_writes_nothing(old_rows: dict[str, Any]) -> None:
    versions = sorted(Post.objects.values_list("pk", "version"))

    printed = backfill("--dry-run")

    assert printed.splitlines()[0] == "would emit 16 events for rows without events (2 users, 5 posts, 2 comments)"
    assert "  post.published     3" in printed
    assert OutboxEvent.objects.count() == 0
    assert sorted(Post.objects.values_list("pk", "version")) == versions
    assert backfill().splitlines()[0].startswith("emitted 16 events")  # the dry run left the work to do


def test_small_batches_reach_every_row(old_rows: dict[str, Any]) -> None:
    printed = backfill("--batch-size", "2")

    assert printed.splitlines()[0] == "emitted 16 events for rows without events (2 users, 5 posts, 2 comments)"


def test_accounts_made_by_createsuperuser_the_admin_or_the_api_already_have_their_event(
    monkeypatch: pytest.MonkeyPatch, staff: Account, make_post: Any
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", interactive=False, username="root_admin", display_name="Site admin")
    User.objects.filter(pk=staff.id).update(is_superuser=True)
    admin = Client()
    assert admin.login(username=staff.username, password=PASSWORD)
    form = {"username": "dora", "display_name": "Dora", "password1": PASSWORD, "password2": PASSWORD}
    assert admin.post(reverse("admin:users_user_add"), form).status_code == 302
    make_post(staff.client)
    registered = {e.aggregate_id for e in events() if e.event_type == "user.registered"}
    assert registered == {str(pk) for pk in User.objects.values_list("pk", flat=True)}
    before = last_outbox_id()

    printed = backfill()

    assert printed.splitlines()[0] == "emitted 0 events for rows without events (0 users, 0 posts, 0 comments)"
    assert last_outbox_id() == before


def test_a_row_changed_through_the_service_before_its_backfill_gets_its_events_after_the_ones_it_has() -> None:
    """Its creation event is missing, but a later one is there: the backfill writes past it, never on its version."""
    ann = raw_user("ann")
    post = raw_post(ann, "Old", "draft")
    post_edit(post_id=post.pk, actor=Actor(ann.pk), title="Edited", uow=unit_of_work_outside_a_request(None))
    start = last_outbox_id()
    registered_first = events()

    backfill()

    assert history(registered_first, "post", post.pk) == [("post.edited", 2)]
    assert history(events(start), "post", post.pk) == [("post.created", 3)]
    assert Post.objects.get(pk=post.pk).version == 3
    assert history(events(start), "user", ann.pk) == [("user.registered", 1)]


def test_a_state_no_events_give_is_reported_and_the_other_rows_are_done() -> None:
    ann = raw_user("ann")
    odd = raw_post(ann, "Odd", "published")  # published, but never a publication time
    fine = raw_post(ann, "Fine", "draft")
    err = StringIO()

    with pytest.raises(CommandError, match="1 rows were left without events"):
        call_command("backfill_events", stdout=StringIO(), stderr=err)

    assert f"left without events: post {odd.pk}: post {odd.pk} is published without a publication time" in (
        err.getvalue()
    )
    assert history(events(), "post", odd.pk) == []
    assert history(events(), "post", fine.pk) == [("post.created", 1)]
    assert Post.objects.get(pk=odd.pk).version == 1


def test_rows_the_service_wrote_stay_announced_after_the_outbox_is_pruned(staff: Account, make_post: Any) -> None:
    """The relay deletes sent rows after OUTBOX_RETENTION_SECONDS: the rows' own mark still says they had events."""
    make_post(staff.client)
    assert set(Post.objects.values_list("announced", flat=True)) == {True}
    assert set(User.objects.values_list("announced", flat=True)) == {True}
    OutboxEvent.objects.all().delete()  # every sent row past its retention, as the relay's pruning leaves it

    printed = backfill()

    assert printed.splitlines()[0] == "emitted 0 events for rows without events (0 users, 0 posts, 0 comments)"
    assert OutboxEvent.objects.count() == 0


def test_backfilled_rows_are_marked_so_a_run_after_pruning_writes_nothing(old_rows: dict[str, Any]) -> None:
    assert backfill().splitlines()[0].startswith("emitted 16 events")
    assert set(Comment.objects.values_list("announced", flat=True)) == {True}
    OutboxEvent.objects.all().delete()

    printed = backfill()

    assert printed.splitlines()[0] == "emitted 0 events for rows without events (0 users, 0 posts, 0 comments)"


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_marks_the_rows_whose_creation_event_the_outbox_still_holds() -> None:
    """Migrating a database of the release before the mark: rows with a creation event in the outbox are announced."""
    before = [("outbox", "0002_relaymember"), ("users", "0003_user_manager_through_the_service"),
              ("posts", "0002_initial"), ("comments", "0002_initial")]  # fmt: skip
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    users, outbox = old.get_model("users", "User"), old.get_model("outbox", "OutboxEvent")
    with_event = users.objects.create(username="had_event", display_name="Had", date_joined=T0)
    without = users.objects.create(username="never_had", display_name="Never", date_joined=T0)
    outbox.objects.create(
        event_id="00000000-0000-4000-8000-000000000001", event_type="user.registered", aggregate_type="user",
        aggregate_id=str(with_event.pk), aggregate_version=1, topic="content.users", key=str(with_event.pk), shard=0,
        payload=b"{}", created_at=T0,
    )  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert dict(User.objects.values_list("pk", "announced")) == {with_event.pk: True, without.pk: False}
