"""API tokens (knox's `AuthToken`: only a hash of each key is stored) and the password change that revokes them.

A user may hold several tokens (one per sign-in, each expiring AUTH_TOKEN_TTL_SECONDS after it was issued); signing
in removes the user's expired ones and keeps at most AUTH_TOKENS_PER_USER, dropping the oldest.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from command_service.apps.users.models import User
from command_service.apps.users.passwords import password_problems
from command_service.domain import rules
from command_service.domain.rules import FieldErrors
from command_service.domain.users import WRONG_PASSWORD


def token_issue(user: User) -> tuple[str, datetime]:
    """A new token of `user`: its key (shown once, never stored) and when it expires."""
    now = timezone.now()
    tokens = AuthToken.objects.filter(user=user)
    with transaction.atomic():
        tokens.filter(expiry__lt=now).delete()
        token, key = AuthToken.objects.create(user, expiry=timedelta(seconds=settings.AUTH_TOKEN_TTL_SECONDS))
        kept = list(tokens.order_by("-created").values_list("digest", flat=True)[: settings.AUTH_TOKENS_PER_USER])
        tokens.exclude(digest__in=kept).delete()
    return key, token.expiry


def token_revoke(token: AuthToken) -> None:
    """Revoke one token: it authenticates nothing from now on."""
    token.delete()


def tokens_revoke_all(user: User) -> int:
    """Revoke every token of `user` (a password set by staff in the admin); how many there were."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


def password_change(user: User, *, old_password: str, new_password: str, keep: AuthToken | None) -> None:
    """Check `old_password`, give `user` `new_password` under the password rules, and revoke every token of the user
    but `keep` (the one the request came with; None revokes all), in one transaction.

    Raises ValidationFailed naming `old_password` and/or `new_password`.
    """
    errors = FieldErrors()
    rules.check_password(errors, new_password, policy=lambda password: password_problems(password, user),
                         field="new_password")  # fmt: skip
    # A password longer than any that can be set is not hashed to find out that it is wrong.
    if len(old_password) > rules.PASSWORD_MAX or not user.check_password(old_password):
        errors.add("old_password", WRONG_PASSWORD)
    errors.raise_if_any()
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        others = AuthToken.objects.filter(user=user)
        (others.exclude(digest=keep.digest) if keep is not None else others).delete()
