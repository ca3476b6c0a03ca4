"""The Django admin: a staff superuser loads the list (and a row's page) of every registered model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from knox.models import AuthToken
from rest_framework.test import APIClient

from command_service.apps.outbox.models import RelayLease, RelayMember
from command_service.apps.users.models import User
from command_service.config.urls import admin_routes
from tests.api.helpers import Account

REQUIRED = {
    "users.user", "posts.post", "posts.tag", "comments.comment",
    "outbox.outboxevent", "outbox.relaylease", "idempotency.idempotencyrecord",
}  # fmt: skip
REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label_lower)


@pytest.fixture
def admin_client(alice: Account) -> Client:
    """A browser session of a staff superuser."""
    User.objects.filter(pk=alice.id).update(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(User.objects.get(pk=alice.id))
    return client


@pytest.fixture
def content(
    alice: Account, make_post: Callable[..., dict[str, Any]], make_comment: Callable[..., dict[str, Any]]
) -> None:
    """A row in every table: users, a post with tags, a comment, events, an idempotency record, a lease, a relay
    member, a group (users' tokens come with their login)."""
    post = make_post(alice.client, tags=["python", "django"])
    make_comment(alice.client, post["id"])
    alice.client.post(
        reverse("api:post-create"), {"title": "t", "content": "c"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    RelayLease.objects.create(shard=0, owner="relay-1", expires_at=datetime.now(UTC))
    RelayMember.objects.create(owner="relay-1", seen_at=datetime.now(UTC))
    Group.objects.create(name="moderators")


def test_every_required_model_is_registered() -> None:
    assert {model._meta.label_lower for model in REGISTERED} >= REQUIRED


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label_lower)
def test_the_changelist_and_a_change_page_load(
    admin_client: Client, content: None, anon: APIClient, model: type[Model]
) -> None:
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")

    assert admin_client.get(changelist).status_code == 200
    assert admin_client.get(changelist, {"q": "x"}).status_code == 200
    row = model._default_manager.first()
    assert row is not None, f"the content fixture made no {opts.label_lower} row: its change page goes untested"
    page = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))
    assert page.status_code == 200
    assert escape(str(row)) in page.content.decode()  # the page of that row, not an empty form
    assert anon.get(changelist).status_code == 302  # to the login page


def test_api_tokens_are_listed_and_revoked_in_the_admin_never_minted_or_edited(
    admin_client: Client, alice: Account, bob: Account
) -> None:
    token = AuthToken.objects.filter(user_id=bob.id).first()
    assert token is not None  # bob's sign-in made it
    change = reverse("admin:knox_authtoken_change", args=[token.pk])

    assert admin_client.get(reverse("admin:knox_authtoken_add")).status_code == 403
    assert admin_client.post(change, {"user": alice.id, "expiry": ""}).status_code == 403
    assert AuthToken.objects.get(pk=token.pk).user_id == bob.id
    profile = reverse("api:user-detail", args=[bob.id])
    assert bob.client.patch(profile, {"bio": "before"}, format="json").status_code == 200

    delete = reverse("admin:knox_authtoken_delete", args=[token.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not AuthToken.objects.filter(pk=token.pk).exists()
    assert bob.client.patch(profile, {"bio": "after"}, format="json").status_code == 401  # revoked


def test_with_the_admin_off_nothing_of_it_is_routed() -> None:
    assert admin_routes(False) == []
    assert [str(route.pattern) for route in admin_routes(True)] == [
        "admin/login/",
        "admin/",
    ]  # the throttled form first
