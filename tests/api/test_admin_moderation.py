"""The admin changes aggregates only through the services: moderation actions emit events, every form is read-only.

Each test drives the admin as a signed-in browser session does (Django's test client) and checks the row, its
version and the outbox. tests/e2e/test_admin_moderation.py does it over real HTTP with CSRF, on the whole system.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from command_service.apps.comments.models import Comment
from command_service.apps.idempotency.models import IdempotencyRecord
from command_service.apps.outbox.models import OutboxEvent, RelayLease, RelayMember
from command_service.apps.outbox.subject_keys import subject_key_ring
from command_service.apps.posts.models import Post, Tag
from command_service.apps.users.models import User
from events.envelope import decode
from tests.api.helpers import PASSWORD, Account, assert_one_event, last_event, outbox_count


@pytest.fixture
def moderator(staff: Account) -> Client:
    """A browser session of a staff superuser ("mod", who wrote nothing)."""
    User.objects.filter(pk=staff.id).update(is_superuser=True)
    client = Client()
    assert client.login(username=staff.username, password=PASSWORD)
    return client


def changelist(model: type) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def change_page(model: type, pk: int) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])


def run_action(client: Client, model: type, action: str, *pks: int) -> list[str]:
    """Run an admin action on rows from the changelist; the messages the next page shows."""
    response = client.post(changelist(model), {"action": action, "_selected_action": list(pks)}, follow=True)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def event_of(event: OutboxEvent) -> Any:
    return decode(bytes(event.payload), subject_key_ring())


@pytest.mark.parametrize(
    ("action", "publish", "event_type", "status"),
    [
        ("hide", True, "post.unpublished", "draft"),
        ("archive", True, "post.archived", "archived"),
        ("archive", False, "post.archived", "archived"),
        ("delete", True, "post.deleted", "deleted"),
    ],
)
def test_a_post_action_changes_the_post_through_its_service(
    moderator: Client, staff: Account, alice: Account, make_post: Callable[..., dict[str, Any]],
    action: str, publish: bool, event_type: str, status: str,
) -> None:  # fmt: skip
    post = make_post(alice.client, publish=publish)
    before = outbox_count()

    shown = run_action(moderator, Post, action, post["id"])

    row = Post.objects.get(pk=post["id"])
    assert (row.status, row.version) == (status, post["version"] + 1)
    assert_one_event(before, event_type, "post", post["id"], post["version"] + 1)
    assert event_of(last_event()).actor_id == str(staff.id)
    assert shown == [f"Post {post['id']}: {run_label(action)}: done, now version {post['version'] + 1}"]


def run_label(action: str) -> str:
    return {
        "hide": "hide (unpublish) selected posts",
        "archive": "archive selected posts",
        "delete": "delete selected posts",
        "restore": "restore (republish) selected hidden posts",
    }[action]


def test_restore_republishes_a_hidden_post_as_of_its_first_publication(
    moderator: Client, alice: Account, make_post: Callable[..., dict[str, Any]], anon: APIClient
) -> None:
    post = make_post(alice.client)
    published_at = Post.objects.get(pk=post["id"]).published_at
    run_action(moderator, Post, "hide", post["id"])
    before = outbox_count()

    run_action(moderator, Post, "restore", post["id"])

    row = Post.objects.get(pk=post["id"])
    assert (row.status, row.version, row.published_at) == ("published", 4, published_at)
    assert_one_event(before, "post.published", "post", post["id"], 4)
    assert event_of(last_event()).payload.published_at == published_at
    assert anon.get(reverse("api:post-detail", kwargs={"post_id": post["id"]})).status_code == 200


def test_a_refused_rule_is_a_message_per_row_and_changes_nothing(
    moderator: Client, alice: Account, make_post: Callable[..., dict[str, Any]]
) -> None:
    published = make_post(alice.client)
    draft = make_post(alice.client, publish=False)
    before = outbox_count()

    shown = run_action(moderator, Post, "hide", published["id"], draft["id"])

    assert Post.objects.get(pk=draft["id"]).version == draft["version"]
    assert_one_event(before, "post.unpublished", "post", published["id"], published["version"] + 1)
    assert shown == [
        f"Post {published['id']}: hide (unpublish) selected posts: done, now version {published['version'] + 1}",
        f"Post {draft['id']}: refused: cannot unpublish a draft post",
    ]
    assert run_action(moderator, Post, "restore", draft["id"]) == [
        f"Post {draft['id']}: refused: cannot restore a draft never published: "
        "only a hidden post (published, then unpublished) can be restored"
    ]
    assert outbox_count() == before + 1


def test_delete_a_comment_through_its_service(
    moderator: Client, staff: Account, alice: Account, bob: Account,
    make_post: Callable[..., dict[str, Any]], make_comment: Callable[..., dict[str, Any]],
) -> None:  # fmt: skip
    comment = make_comment(bob.client, make_post(alice.client)["id"])
    before = outbox_count()

    shown = run_action(moderator, Comment, "delete", comment["id"])

    row = Comment.objects.get(pk=comment["id"])
    assert (row.is_deleted, row.version) == (True, 2)
    assert_one_event(before, "comment.deleted", "comment", comment["id"], 2)
    assert event_of(last_event()).actor_id == str(staff.id)
    assert shown == [f"Comment {comment['id']}: delete selected comments: done, now version 2"]
    assert run_action(moderator, Comment, "delete", comment["id"]) == [
        f"Comment {comment['id']}: refused: comment {comment['id']} not found"
    ]


def test_deactivate_stops_a_user_signing_in_and_reactivate_lets_them_back(
    moderator: Client, staff: Account, alice: Account, anon: APIClient
) -> None:
    me = reverse("api:user-detail", kwargs={"user_id": alice.id})
    token = {"username": alice.username, "password": PASSWORD}
    before = outbox_count()

    assert run_action(moderator, User, "deactivate", alice.id) == [
        f"User {alice.id}: deactivate selected users: done, now version 2"
    ]

    assert_one_event(before, "user.deactivated", "user", alice.id, 2)
    assert event_of(last_event()).actor_id == str(staff.id)
    assert User.objects.get(pk=alice.id).is_active is False
    assert alice.client.patch(me, {"bio": "still here?"}, format="json").status_code == 401  # the token is refused
    assert anon.post(reverse("api:auth-token"), token, format="json").status_code == 401

    assert run_action(moderator, User, "reactivate", alice.id) == [
        f"User {alice.id}: reactivate selected users: done, now version 3"
    ]

    assert_one_event(before + 1, "user.reactivated", "user", alice.id, 3)
    assert anon.post(reverse("api:auth-token"), token, format="json").status_code == 200


def test_user_actions_refuse_a_wrong_state_and_the_moderator_themselves(
    moderator: Client, staff: Account, alice: Account
) -> None:
    before = outbox_count()

    assert sorted(run_action(moderator, User, "reactivate", alice.id, staff.id)) == sorted(
        [
            f"User {alice.id}: refused: user {alice.id} is active",
            f"User {staff.id}: refused: staff may not deactivate or reactivate their own account",
        ]
    )
    assert outbox_count() == before


def test_without_the_change_permission_a_staff_member_has_no_moderation_action(
    staff: Account, alice: Account, make_post: Callable[..., dict[str, Any]]
) -> None:
    post = make_post(alice.client)
    user = User.objects.get(pk=staff.id)
    user.user_permissions.add(Permission.objects.get(codename="view_post"))
    client = Client()
    client.force_login(user)

    page = client.get(changelist(Post))

    assert page.status_code == 200
    assert 'value="hide"' not in page.content.decode()
    run_action(client, Post, "hide", post["id"])
    assert Post.objects.get(pk=post["id"]).version == post["version"]


def test_post_comment_and_tag_pages_are_read_only(
    moderator: Client, alice: Account, bob: Account,
    make_post: Callable[..., dict[str, Any]], make_comment: Callable[..., dict[str, Any]],
) -> None:  # fmt: skip
    post = make_post(alice.client, tags=["python"])
    comment = make_comment(bob.client, post["id"])
    tag = Tag.objects.get(name="python")
    before = outbox_count()

    changed = moderator.post(change_page(Post, post["id"]), {"title": "Edited", "status": "draft", "content": "x"})
    assert changed.status_code == 403
    assert moderator.post(change_page(Comment, comment["id"]), {"body": "x", "is_deleted": "on"}).status_code == 403
    assert moderator.post(change_page(Tag, tag.pk), {"name": "renamed"}).status_code == 403
    for model in (Post, Comment, Tag):
        opts = model._meta
        assert moderator.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403
    assert moderator.post(reverse("admin:posts_post_delete", args=[post["id"]]), {"post": "yes"}).status_code == 403

    row = Post.objects.get(pk=post["id"])
    assert (row.title, row.status, row.version) == (post["title"], "published", post["version"])
    assert (Comment.objects.get(pk=comment["id"]).body, Tag.objects.get(pk=tag.pk).name) == (comment["body"], "python")
    assert outbox_count() == before
    assert "delete_selected" not in moderator.get(changelist(Post)).content.decode()


def test_a_user_change_page_keeps_event_fields_and_saves_staff_flags(moderator: Client, alice: Account) -> None:
    row = User.objects.get(pk=alice.id)
    before = outbox_count()
    form = {
        "username": "mallory", "display_name": "Not Alice", "bio": "edited", "is_active": "",  # read-only: ignored
        "first_name": "", "last_name": "", "email": "alice@example.org", "is_staff": "on",
        "last_login_0": "", "last_login_1": "", "date_joined_0": "2025-01-01", "date_joined_1": "00:00:00",
    }  # fmt: skip

    response = moderator.post(change_page(User, alice.id), form)

    assert response.status_code == 302, response.content.decode()[:2000]
    after = User.objects.get(pk=alice.id)
    assert (after.username, after.display_name, after.bio, after.is_active, after.version) == (
        row.username, row.display_name, row.bio, True, row.version,
    )  # fmt: skip
    assert (after.is_staff, after.email) == (True, "alice@example.org")
    assert outbox_count() == before
    assert moderator.post(reverse("admin:users_user_delete", args=[alice.id]), {"post": "yes"}).status_code == 403


def test_a_password_set_in_the_admin_revokes_every_api_token_of_the_user(
    moderator: Client, alice: Account, anon: APIClient
) -> None:
    me = reverse("api:user-detail", kwargs={"user_id": alice.id})
    second = APIClient()
    signed_in = anon.post(reverse("api:auth-token"), {"username": alice.username, "password": PASSWORD}, format="json")
    second.credentials(HTTP_AUTHORIZATION=f"Token {signed_in.json()['token']}")
    assert second.patch(me, {"bio": "from my second device"}, format="json").status_code == 200
    before = outbox_count()

    new_password = "Staff-chosen-4471"
    form = {"password1": new_password, "password2": new_password}
    response = moderator.post(reverse("admin:auth_user_password_change", args=[alice.id]), form)

    assert response.status_code == 302, response.content.decode()[:2000]
    for client in (alice.client, second):  # both tokens are revoked
        assert client.patch(me, {"bio": "still in?"}, format="json").status_code == 401
    login = {"username": alice.username, "password": new_password}
    assert anon.post(reverse("api:auth-token"), login, format="json").status_code == 200
    assert outbox_count() == before  # a password is in no event


def test_the_admin_add_form_registers_through_the_service(moderator: Client, staff: Account) -> None:
    before = outbox_count()
    form = {"username": "dora", "display_name": "Dora", "password1": PASSWORD, "password2": PASSWORD}

    response = moderator.post(reverse("admin:users_user_add"), form)

    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="dora")
    assert_one_event(before, "user.registered", "user", user.pk, 1)
    event = event_of(last_event())
    assert (event.payload.username, event.payload.display_name, event.actor_id) == ("dora", "Dora", str(staff.id))
    assert user.check_password(PASSWORD)


def test_the_admin_add_form_shows_the_domain_rules_as_field_errors(moderator: Client, alice: Account) -> None:
    before = outbox_count()
    form = {"username": "has space", "display_name": "", "password1": "12345678901", "password2": "12345678901"}

    response = moderator.post(reverse("admin:users_user_add"), form)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"username", "display_name"} <= set(errors)
    taken = moderator.post(reverse("admin:users_user_add"), {**form, "username": alice.username.upper()})
    assert "username" in taken.context["adminform"].form.errors
    assert outbox_count() == before


def test_createsuperuser_registers_through_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    before = outbox_count()

    call_command("createsuperuser", interactive=False, username="root_admin", display_name="Site admin")

    user = User.objects.get(username="root_admin")
    assert (user.is_staff, user.is_superuser, user.version) == (True, True, 1)
    assert user.check_password(PASSWORD)
    assert_one_event(before, "user.registered", "user", user.pk, 1)
    event = event_of(last_event())
    assert (event.payload.username, event.payload.display_name, event.payload.bio, event.actor_id) == (
        "root_admin", "Site admin", "", None,
    )  # fmt: skip


@pytest.mark.parametrize(
    "model", [OutboxEvent, RelayLease, RelayMember, IdempotencyRecord], ids=lambda model: model.__name__
)
def test_outbox_relay_and_idempotency_rows_cannot_be_added_changed_or_deleted(
    moderator: Client, alice: Account, make_post: Callable[..., dict[str, Any]], model: type
) -> None:
    now = datetime.now(UTC)
    alice.client.post(
        reverse("api:post-create"), {"title": "t", "content": "c"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    RelayLease.objects.create(shard=0, owner="relay-1", expires_at=now)
    RelayMember.objects.create(owner="relay-1", seen_at=now)
    row = model._default_manager.first()
    opts = model._meta
    count = model._default_manager.count()

    assert moderator.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403
    assert moderator.post(change_page(model, row.pk), {"owner": "x", "key": "x"}).status_code == 403
    delete = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[row.pk])
    assert moderator.post(delete, {"post": "yes"}).status_code == 403
    listing = moderator.get(changelist(model))
    assert listing.status_code == 200
    assert "delete_selected" not in listing.content.decode()
    moderator.post(changelist(model), {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert model._default_manager.count() == count
    assert moderator.get(change_page(model, row.pk)).status_code == 200  # view only
