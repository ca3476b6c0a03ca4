"""DELETE /api/v1/users/{id}/: who may erase an account, what the answer is, and what the command database keeps.

The read channels, Kafka and Redis are the end-to-end tests' (tests/e2e/test_erasure.py); here, every table and
outbox row of the command database is searched for the person's strings after the erasure.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from command_service.apps.outbox.models import OutboxEvent, SubjectKey
from command_service.apps.outbox.subject_keys import KEY_RECORD_AGGREGATE
from command_service.apps.unit_of_work import DjangoUnitOfWork
from command_service.apps.users.models import User
from command_service.services.unit_of_work import EventContext
from events.personal_data import key_record_decode
from events.types import UserProfileChanged
from tests.api.helpers import PASSWORD, Account, assert_error

BIO = "Collects rare moths in Tallinn"
TITLE = "Moth season notes"
BODY = "A comment about moths by Marguerite"


def _detail(user_id: int) -> str:
    return reverse("api:user-detail", kwargs={"user_id": user_id})


def _erase(account: Account, user_id: int | None = None, **body: object) -> object:
    return account.client.delete(_detail(account.id if user_id is None else user_id), body, format="json")


@pytest.fixture
def marguerite(make_user: Callable[..., Account], bob: Account) -> Account:
    """A person with a profile, a post, a comment on Bob's post and one on her own, and an admin log entry."""
    person = make_user("marguerite")
    person.client.patch(_detail(person.id), {"bio": BIO, "avatar_url": "https://img.example/moth.png"}, format="json")
    post = person.client.post(reverse("api:post-create"), {"title": TITLE, "content": "Moths.", "tags": ["moths"]},
                              format="json").json()  # fmt: skip
    person.client.post(reverse("api:post-publish", kwargs={"post_id": post["id"]}), format="json")
    bobs = bob.client.post(reverse("api:post-create"), {"title": "Bob's", "content": "B.", "tags": []}, format="json")
    bob.client.post(reverse("api:post-publish", kwargs={"post_id": bobs.json()["id"]}), format="json")
    for post_id in (post["id"], bobs.json()["id"]):
        added = person.client.post(reverse("api:comment-add", kwargs={"post_id": post_id}), {"body": BODY},
                                   format="json")  # fmt: skip
        assert added.status_code == 201, added.json()
    LogEntry.objects.create(
        user_id=bob.id,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(person.id),
        object_repr="marguerite",
        action_flag=ADDITION,
    )  # what the admin writes when staff change her account
    return person


def _traces(*needles: str) -> list[str]:
    """Every (table, column) of the command database where one of `needles` occurs, in any text or bytes value."""
    found = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table, quote = model._meta.db_table, connection.ops.quote_name
            columns = [field.column for field in model._meta.concrete_fields]
            cursor.execute(f"SELECT {', '.join(quote(column) for column in columns)} FROM {quote(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
                    text = raw.decode(errors="replace").lower()
                    found += [f"{table}.{column}: {needle}" for needle in needles if needle.lower() in text]
    return found


def test_a_user_erases_their_account_with_their_password(marguerite: Account, anon: APIClient) -> None:
    old_hash = User.objects.get(pk=marguerite.id).password
    assert _traces("marguerite", BIO, TITLE, BODY, old_hash)  # the search finds what is there

    response = _erase(marguerite, password=PASSWORD)

    assert response.status_code == 204, response.content
    assert_error(anon.get(_detail(marguerite.id)), 404)
    assert _traces("marguerite", BIO, TITLE, BODY, "moth.png", old_hash) == []
    assert not SubjectKey.objects.filter(subject_id=str(marguerite.id)).exists()
    key_rows = OutboxEvent.objects.filter(aggregate_type=KEY_RECORD_AGGREGATE, aggregate_id=str(marguerite.id))
    assert [key_record_decode(row.key.encode(), bytes(row.payload)).erased for row in key_rows] == [True]
    events = OutboxEvent.objects.exclude(aggregate_type=KEY_RECORD_AGGREGATE).order_by("-id")
    assert [row.event_type for row in events[:5]] == [
        "user.erased", "comment.deleted", "comment.deleted", "post.deleted", "comment.added",
    ]  # fmt: skip


def test_an_erased_account_signs_in_no_more_and_answers_404(marguerite: Account, anon: APIClient) -> None:
    _erase(marguerite, password=PASSWORD)

    assert_error(_erase(marguerite, password=PASSWORD), 401)  # its token was revoked with it
    signing_in = anon.post(reverse("api:auth-token"), {"username": "marguerite", "password": PASSWORD}, format="json")
    assert signing_in.status_code == 401, signing_in.json()
    assert_error(_erase(Account(anon, marguerite.id, "")), 401)


def test_erasing_twice_is_404(marguerite: Account, staff: Account) -> None:
    assert _erase(staff, marguerite.id).status_code == 204

    assert_error(_erase(staff, marguerite.id), 404)


def test_the_username_is_free_at_once(marguerite: Account, anon: APIClient) -> None:
    _erase(marguerite, password=PASSWORD)

    again = anon.post(reverse("api:user-register"),
                      {"username": "Marguerite", "password": PASSWORD, "display_name": "Someone else"},
                      format="json")  # fmt: skip

    assert again.status_code == 201, again.json()
    assert again.json()["id"] != marguerite.id


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "password"), ({"password": "wrong horse battery"}, "password"), ({"password": 12}, "password"),
     ({"password": PASSWORD, "reason": "x"}, "reason")],
)  # fmt: skip
def test_erasing_oneself_without_the_right_password_is_400(marguerite: Account, body: dict, field: str) -> None:
    before = OutboxEvent.objects.count()

    assert_error(marguerite.client.delete(_detail(marguerite.id), body, format="json"), 400, fields=(field,))

    assert OutboxEvent.objects.count() == before
    assert User.objects.get(pk=marguerite.id).username == "marguerite"


def test_someone_else_may_not_erase_an_account(marguerite: Account, bob: Account) -> None:
    assert_error(_erase(bob, marguerite.id, password=PASSWORD), 403)
    assert User.objects.get(pk=marguerite.id).is_active


def test_staff_erase_anyone_without_a_password(marguerite: Account, staff: Account) -> None:
    assert _erase(staff, marguerite.id).status_code == 204
    assert _traces("marguerite", BIO, TITLE, BODY) == []


def test_an_erasure_with_a_stale_if_match_is_412(marguerite: Account, staff: Account) -> None:
    response = staff.client.delete(_detail(marguerite.id), {}, format="json", HTTP_IF_MATCH='"1"')

    assert_error(response, 412)
    assert User.objects.get(pk=marguerite.id).is_active


def test_an_erasure_of_nobody_is_404(staff: Account) -> None:
    assert_error(_erase(staff, 999_999), 404)


def test_no_key_is_issued_again_for_an_erased_person(marguerite: Account, staff: Account) -> None:
    _erase(staff, marguerite.id)
    uow = DjangoUnitOfWork(EventContext(correlation_id="after-erasure"))

    with uow, pytest.raises(ValueError, match="was erased"):  # say a backfill found a row of hers
        uow.record(UserProfileChanged(user_id=str(marguerite.id), display_name="Back", avatar_url=None, bio=""),
                   aggregate_version=9)  # fmt: skip

    assert not SubjectKey.objects.filter(subject_id=str(marguerite.id)).exists()
