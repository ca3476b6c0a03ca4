"""Rows written before the `announced` mark existed: those whose creation event the outbox still holds are marked.

Rows whose creation event the relay had already pruned (`OUTBOX_RETENTION_SECONDS`) cannot be told from rows that
never had events; `backfill_events` would write their events again (see the README's backfill section).
"""

from django.db import migrations
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast

CREATED_BY = {("users", "User"): "user.registered", ("posts", "Post"): "post.created",
              ("comments", "Comment"): "comment.added"}  # fmt: skip


def mark_announced(apps, schema_editor) -> None:
    outbox = apps.get_model("outbox", "OutboxEvent")
    for (app, model), event_type in CREATED_BY.items():
        rows = apps.get_model(app, model)
        created = outbox.objects.filter(
            event_type=event_type, aggregate_id=Cast(OuterRef("pk"), output_field=CharField())
        )
        rows.objects.filter(Exists(created), announced=False).update(announced=True)


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0002_relaymember"),
        ("users", "0004_user_announced"),
        ("posts", "0003_post_announced"),
        ("comments", "0003_comment_announced"),
    ]

    operations = [migrations.RunPython(mark_announced, migrations.RunPython.noop)]
