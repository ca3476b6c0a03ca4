"""Users in the admin: what events carry is read-only (changed by the services only); the rest stays editable.

username, display name, avatar, bio and `is_active` are the user aggregate's: deactivate and reactivate are actions
that call the services, and the add form registers through `user_register`. Staff flags, groups, permissions, the
e-mail address and the password belong to no event and stay editable; a save writes only the fields it changed, so
it never puts back an older profile or version read before a concurrent change.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from knox.models import AuthToken

from command_service.apps.admin_actions import ModerationMixin, ReadOnlyAdmin, service_action
from command_service.apps.users.models import User
from command_service.apps.users.registration import register_user
from command_service.apps.users.tokens import tokens_revoke_all
from command_service.domain.errors import ValidationFailed
from command_service.domain.users import User as UserAggregate
from command_service.services.users import user_deactivate, user_reactivate

EVENT_FIELDS = ("username", "display_name", "avatar_url", "bio", "is_active", "version")
FORM_FIELD_OF = {"password": "password1"}  # the domain's field names on the add form


class UserRegisterForm(UserCreationForm):
    """The admin's add form: what `user_register` takes, checked by the domain's rules before the service runs."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "display_name")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password = cleaned.get("password1")
        if password and not self.has_error("username"):
            try:
                UserAggregate.register(
                    username=cleaned.get("username") or "", password=password,
                    display_name=cleaned.get("display_name") or "",
                )  # fmt: skip
            except ValidationFailed as refused:
                for name, messages in refused.fields.items():
                    field = FORM_FIELD_OF.get(name, name)
                    self.add_error(field if field in self.fields else None, messages)
        return cleaned


class PasswordOnlyChangeForm(AdminPasswordChangeForm):
    """The password change writes the password column alone, never the rest of a row read before, and revokes every
    API token of the user (as the API's own password change revokes the other ones)."""

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        if commit:
            with transaction.atomic():
                user.save(update_fields=["password"])
                tokens_revoke_all(user)
        return user


@admin.register(User)
class ContentUserAdmin(ModerationMixin, UserAdmin):
    list_display = ("username", "display_name", "is_active", "is_staff", "version", "date_joined")
    fieldsets = (*UserAdmin.fieldsets, ("Profile", {"fields": ("display_name", "avatar_url", "bio", "version")}))
    add_form = UserRegisterForm
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "display_name", "password1", "password2")}),)
    change_password_form = PasswordOnlyChangeForm
    actions = (
        service_action("deactivate", "Deactivate selected users", user_deactivate, id_argument="user_id"),
        service_action("reactivate", "Reactivate selected users", user_reactivate, id_argument="user_id"),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        return EVENT_FIELDS if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        """The add form, where a refusal the form could not foresee (the username taken by a concurrent
        registration between the form's check and the service's write) is a message on the form again, not a 500."""
        try:
            return super().add_view(request, form_url, extra_context)
        except ValidationError as refused:  # raised by save_model; the admin's transaction is rolled back
            self.message_user(request, f"Not registered: {' '.join(refused.messages)}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:
        if not change:  # registered through the service, in the admin's transaction
            data = form.cleaned_data
            registered = register_user(
                username=data["username"], password=data["password1"], display_name=data["display_name"],
                actor_id=str(request.user.pk),
            )  # fmt: skip
            obj.pk = registered.pk
            obj.refresh_from_db()
            return
        columns = [
            name for name in form.changed_data
            if name not in EVENT_FIELDS and not obj._meta.get_field(name).many_to_many  # groups: save_related's
        ]  # fmt: skip
        if columns:
            obj.save(update_fields=columns)


# knox registers an editable page of its own, on which staff could mint a token that never expires for any user and
# then write as them. Tokens are issued by sign-in only; here they are listed and revoked (deleted), never made.
admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """API tokens: listed and revoked here; only `POST /api/v1/auth/token/` issues one."""

    list_display = ("token_key", "user", "created", "expiry")
    search_fields = ("user__username", "token_key")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin.ModelAdmin.has_delete_permission(self, request, obj)
