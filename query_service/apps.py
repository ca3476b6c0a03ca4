"""The query service as a Django app (for its management commands)."""

from django.apps import AppConfig


class QueryServiceConfig(AppConfig):
    """No models: the query service has no database."""

    name = "query_service"
    label = "query_service"
