"""`backfill_events` on PostgreSQL, end to end: rows inserted without events reach the read models and `verify` is
clean, beside rows written through the services; a second run writes nothing.

The story with events is the shared scenario (services + the Django unit of work); the old rows are inserted with
the ORM's plain `create`, which writes no event. The real relay publishes, the projector's own loop projects
(private group, indices and topics), and `verify` reads the database over its own connection.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

from django.core.management import call_command

from command_service.apps.comments.models import Comment
from command_service.apps.outbox.models import OutboxEvent
from command_service.apps.posts.models import Post, Tag
from command_service.apps.users.models import User
from command_service.bootstrap import unit_of_work_outside_a_request
from command_service.domain.actors import Actor
from command_service.services.users import user_profile_change
from projector.consumer.app import ProjectorConfig, bootstrap
from projector.operations.source import CommandSource
from projector.operations.verify import verify
from tests.integration.conftest import run_database_url
from tests.integration.projector.conftest import record_scenario
from tests.integration.projector.test_consumer_loop import publish_outbox

T0 = datetime(2023, 11, 5, 12, 0, tzinfo=UTC)


def insert_old_rows(scenario_post: Post) -> dict[str, Any]:
    """Rows of every state with no event, some of them commenting on a post that has its events."""
    ann = User.objects.create(username="old_ann", display_name="Ann", bio="From the old site", version=2)
    ben = User.objects.create(username="old_ben", display_name="Ben", is_active=False)
    python = Tag.objects.get_or_create(name="python")[0]

    def post(author: User, title: str, status: str, **fields: Any) -> Post:
        at = {"created_at": T0, "updated_at": T0 + timedelta(days=1), **fields}
        row = Post.objects.create(author=author, title=title, content=f"{title}. " * 40, status=status, **at)
        row.tags.set([python])
        return row

    posts = [
        post(ann, "Old draft", "draft"),
        published := post(ann, "Old published", "published", published_at=T0 + timedelta(hours=1)),
        post(ann, "Old hidden", "draft", published_at=T0, version=4),
        post(ben, "Old archived", "archived"),
        doomed := post(ben, "Old deleted", "deleted", published_at=T0),
    ]

    def comment(on: Post, author: User, **fields: Any) -> Comment:
        at = {"created_at": T0 + timedelta(hours=2), "updated_at": T0 + timedelta(hours=3), **fields}
        return Comment.objects.create(post=on, author=author, body=f"{author.username} on {on.title}", **at)

    comments = [
        comment(published, ben),
        comment(published, ann, is_deleted=True),
        comment(doomed, ann),
        comment(scenario_post, ben),  # counts on a post projected from its own events
    ]
    # Registered without an event, then changed through the service: a later event, no creation event.
    user_profile_change(user_id=ann.pk, actor=Actor(ann.pk), bio="Back again", uow=unit_of_work_outside_a_request(None))
    return {"users": [ann, ben], "posts": posts, "comments": comments}


def backfill() -> str:
    out = StringIO()
    call_command("backfill_events", stdout=out)
    return out.getvalue()


def test_rows_inserted_without_events_reach_the_read_models_and_verify_clean(
    transactional_db: None, private_projector: ProjectorConfig, kafka_bootstrap_servers: str
) -> None:
    scenario = record_scenario()
    old = insert_old_rows(Post.objects.get(pk=scenario.post_ids["first"]))

    printed = backfill()

    assert printed.splitlines()[0] == "emitted 18 events for rows without events (2 users, 5 posts, 4 comments)"
    publish_outbox(kafka_bootstrap_servers)
    live = bootstrap(private_projector)
    try:
        live.catch_up(timeout=300)
        with CommandSource(run_database_url()) as source:
            report = verify(live.writer.client, live.writer.targets, source)
        assert report.ok, report.text()
        counts = {model: (c.rows, c.matched) for model, c in report.counts.items()}
        assert counts == {"posts": (10, 10), "comments": (9, 9), "authors": (4, 4)}

        ann = live.writer.client.get(index=live.writer.targets["authors"], id=str(old["users"][0].pk))["_source"]
        assert (ann["username"], ann["bio"], ann["user_version"]) == ("old_ann", "Back again", 4)
    finally:
        live.close()

    written = OutboxEvent.objects.count()
    assert backfill().splitlines()[0] == "emitted 0 events for rows without events (0 users, 0 posts, 0 comments)"
    assert OutboxEvent.objects.count() == written
