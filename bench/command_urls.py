"""The project's routes, plus the post-create endpoint with the outbox write removed, for comparison only."""

from dataclasses import replace

from django.urls import include, path

from command_service.api.posts import PostCreateApi
from command_service.apps.unit_of_work import DjangoUnitOfWork
from command_service.bootstrap import bootstrap


class NoOutboxUnitOfWork(DjangoUnitOfWork):
    """The real unit of work minus the outbox row: what a write costs without its event."""

    def _add_to_outbox(self, envelope: object) -> None:
        pass


# The same view, serializer and service, over NoOutboxUnitOfWork.
without_outbox = replace(bootstrap(), unit_of_work=NoOutboxUnitOfWork)

urlpatterns = [
    path("", include("command_service.config.urls")),
    path(
        "bench/posts-without-outbox/",
        PostCreateApi.as_view(services=without_outbox),
        name="bench-post-create-no-outbox",
    ),
]
