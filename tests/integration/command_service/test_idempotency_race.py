"""Two requests with one Idempotency-Key at the same time, on real PostgreSQL: one writes, the other replays it."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import connection, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from command_service.apps.outbox.models import OutboxEvent
from command_service.apps.posts.models import Post
from command_service.apps.users.models import User
from tests.integration.command_service.conftest import Writer

KEY = "race-6f1c0a8e"


def _waiting_inserts() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
            ['INSERT INTO "idempotency_records"%'],
        )
        return cursor.fetchone()[0]


def test_concurrent_requests_with_one_key_write_once_and_the_loser_replays(writer: Writer) -> None:
    author = User.objects.get(pk=writer.user().user_id)
    locked, release = threading.Event(), threading.Event()
    responses: list[Any] = []

    def hold_the_records_table() -> None:
        # Lets both requests do their write and then wait to store their response: a true race for the key.
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("LOCK TABLE idempotency_records IN SHARE ROW EXCLUSIVE MODE")
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    def post() -> None:
        client = APIClient()
        client.force_authenticate(author)
        try:
            data = {"title": "t", "content": "c"}
            responses.append(client.post(reverse("api:post-create"), data, format="json", HTTP_IDEMPOTENCY_KEY=KEY))
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_records_table)
    holder.start()
    assert locked.wait(30)
    requests = [threading.Thread(target=post) for _ in range(2)]
    for thread in requests:
        thread.start()
    deadline = time.monotonic() + 30
    while _waiting_inserts() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _waiting_inserts() == 2, "both requests should be waiting to store their response"
    release.set()
    for thread in [holder, *requests]:
        thread.join(30)

    assert sorted(response.status_code for response in responses) == [201, 201]
    assert sorted(response.has_header("Idempotent-Replayed") for response in responses) == [False, True]
    first, second = (response.json() for response in responses)
    assert first == second
    assert Post.objects.count() == 1  # the loser's write was rolled back with its transaction
    assert OutboxEvent.objects.filter(aggregate_type="post").count() == 1
