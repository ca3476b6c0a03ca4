"""Two registrations of one username in different cases at the same time, on real PostgreSQL: exactly one wins,
through the API and through the admin's add form alike.

Both pass the repository's case-insensitive check before either inserts (the users table is held locked against
inserts until both wait to insert); only the database's unique index on LOWER(username) can then refuse the loser,
which must get the same 409 as a registration of a name already taken.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from command_service.apps.outbox.models import OutboxEvent
from command_service.apps.users.models import User


def _waiting_inserts() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
            ['INSERT INTO "users"%'],
        )
        return cursor.fetchone()[0]


def _race(register: Callable[[str], Any]) -> dict[str, Any]:
    """Run `register("Alice")` and `register("alice")` at the same time, both past their check before either inserts;
    their answers by name."""
    locked, release = threading.Event(), threading.Event()
    responses: dict[str, Any] = {}

    def hold_the_users_table() -> None:
        # SHARE ROW EXCLUSIVE lets both registrations read (their check finds nobody) but not insert.
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    def run(username: str) -> None:
        try:
            responses[username] = register(username)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_users_table)
    holder.start()
    assert locked.wait(30)
    registrations = [threading.Thread(target=run, args=(name,)) for name in ("Alice", "alice")]
    for thread in registrations:
        thread.start()
    deadline = time.monotonic() + 30
    while _waiting_inserts() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _waiting_inserts() == 2, "both registrations should have passed their check and be waiting to insert"
    release.set()
    for thread in [holder, *registrations]:
        thread.join(30)
    return responses


def test_concurrent_registrations_of_one_name_in_two_cases_create_one_user_and_the_loser_gets_409(
    transactional_db: None,
) -> None:
    def register(username: str) -> Any:
        data = {"username": username, "password": "correct-horse-battery", "display_name": username}
        return APIClient().post(reverse("api:user-register"), data, format="json")

    responses = _race(register)

    assert sorted(response.status_code for response in responses.values()) == [201, 409]
    [loser] = [response for response in responses.values() if response.status_code == 409]
    assert loser.json()["fields"] == {"username": ["is taken"]}
    assert User.objects.filter(username__iexact="alice").count() == 1
    assert OutboxEvent.objects.filter(aggregate_type="user").count() == 1  # the loser's event rolled back with it


def test_the_admin_add_form_that_loses_the_race_says_so_on_the_form_instead_of_a_500(transactional_db: None) -> None:
    staff = User.objects.create_superuser(username="moderator", password="Mod-pass-7731", display_name="Mod")
    add_url = reverse("admin:users_user_add")
    clients = {name: Client() for name in ("Alice", "alice")}
    for client in clients.values():  # before the race: signing in writes the users table (last_login)
        client.force_login(staff)

    def register(username: str) -> Any:
        client = clients[username]
        data = {"username": username, "display_name": username, "password1": "Race-pass-9917",
                "password2": "Race-pass-9917"}  # fmt: skip
        return client.post(add_url, data), client

    responses = _race(register)

    answers = {name: response for name, (response, _) in responses.items()}
    assert sorted(response.status_code for response in answers.values()) == [302, 302]
    [(_, client)] = [pair for pair in responses.values() if pair[0]["Location"] == add_url]
    shown = [str(message) for message in client.get(add_url).context["messages"]]
    assert shown == ["Not registered: username: is taken"], shown
    assert User.objects.filter(username__iexact="alice").count() == 1
    assert OutboxEvent.objects.filter(aggregate_type="user").count() == 2  # the moderator's and the winner's
