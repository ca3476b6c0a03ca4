from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "command_service.apps.users"
    label = "users"
