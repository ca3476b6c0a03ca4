from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "command_service.apps.posts"
    label = "posts"
