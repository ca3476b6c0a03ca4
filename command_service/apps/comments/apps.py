from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "command_service.apps.comments"
    label = "comments"
