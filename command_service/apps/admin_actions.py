"""The admin changes aggregates only through the services: moderation actions, and read-only pages otherwise.

A change made in the admin is then what the same change through the API is: the domain's rules, a version bump and
an event in the outbox, committed together, so the read models follow it and `verify` stays clean. The staff
member acts as `Actor(user_id, is_staff=True)` (the admin's login requires `is_staff`), the rules for staff apply
(`Post.ensure_can_moderate`, `Comment.ensure_can_delete`, `User.ensure_can_deactivate`), and each event carries
the staff member's id as its actor. An action runs one service call per selected row, each in its own
transaction, and reports every row: done with its new version, or why the rule refused it.

Who may run the actions of a model: a staff member with Django's `change` permission on it (superusers have
every permission); `moderate` is that permission's name on the actions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.text import capfirst

from command_service.bootstrap import unit_of_work_outside_a_request
from command_service.domain.actors import Actor
from command_service.domain.errors import DomainError
from command_service.services.unit_of_work import UnitOfWork, Written

Action = Callable[[admin.ModelAdmin, HttpRequest, QuerySet], None]


def staff_actor(request: HttpRequest) -> Actor:
    """The staff member signed in to the admin, as the services see them."""
    return Actor(user_id=request.user.pk, is_staff=request.user.is_staff)


def admin_unit_of_work(request: HttpRequest) -> UnitOfWork:
    """A unit of work whose events name the staff member as their actor (a fresh correlation id per change)."""
    return unit_of_work_outside_a_request(str(request.user.pk))


def service_action(name: str, description: str, service: Callable[..., Written], *, id_argument: str) -> Action:
    """An admin action calling `service(<id_argument>=pk, actor=..., expected_version=..., uow=...)` per row.

    Args:
        name: the action's name (unique on its admin page).
        description: its label in the actions menu.
        service: the service function of the change.
        id_argument: the name of the service's id parameter (`post_id`, `comment_id`, `user_id`).
    """

    @admin.action(description=description, permissions=["moderate"])
    def act(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        actor = staff_actor(request)
        label = capfirst(model_admin.model._meta.verbose_name)
        for pk, version in queryset.order_by("pk").values_list("pk", "version"):
            try:
                written = service(
                    **{id_argument: pk}, actor=actor, expected_version=version, uow=admin_unit_of_work(request)
                )
            except DomainError as refused:  # a rule of the domain: the row is left as it was
                model_admin.message_user(request, f"{label} {pk}: refused: {refused.message}", messages.WARNING)
            else:
                done = f"{label} {pk}: {description.lower()}: done, now version {written.version}"
                model_admin.message_user(request, done, messages.SUCCESS)

    act.__name__ = name
    return act


class ModerationMixin:
    """Who may run the moderation actions: staff with Django's change permission on the model."""

    model: type[Model]

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        """The `moderate` permission of the actions."""
        opts = self.model._meta
        return bool(request.user.is_staff and request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"))


class ReadOnlyAdmin(admin.ModelAdmin):
    """A page that shows rows and never adds, changes or deletes one through a form."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
