from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "command_service.apps.users"
    label = "users"

    def register_user(self, **arguments: Any) -> Any:
        """The user manager's way to the service (see `command_service.apps.users.registration.register_user`)."""
        from command_service.apps.users.registration import register_user

        return register_user(**arguments)
