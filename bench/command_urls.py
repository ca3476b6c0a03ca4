"""The project's routes, plus the post-create endpoint with the outbox write removed, and with its personal data
left unsealed (no key lookup, no AES-GCM: `events.personal_data`), for comparison only."""

from dataclasses import replace

from django.urls import include, path

from command_service.api.posts import PostCreateApi
from command_service.apps.unit_of_work import DjangoUnitOfWork
from command_service.bootstrap import bootstrap


class NoOutboxUnitOfWork(DjangoUnitOfWork):
    """The real unit of work minus the outbox row: what a write costs without its event."""

    def _add_to_outbox(self, envelope: object) -> None:
        pass


class UnsealedUnitOfWork(DjangoUnitOfWork):
    """The real unit of work with crypto-shredding switched off: personal payloads go to the outbox in the clear."""

    def _sealing_key(self, envelope: object) -> None:
        return None


# The same view, serializer and service, over NoOutboxUnitOfWork and UnsealedUnitOfWork.
without_outbox = replace(bootstrap(), unit_of_work=NoOutboxUnitOfWork)
unsealed = replace(bootstrap(), unit_of_work=UnsealedUnitOfWork)

urlpatterns = [
    path("", include("command_service.config.urls")),
    path(
        "bench/posts-without-outbox/",
        PostCreateApi.as_view(services=without_outbox),
        name="bench-post-create-no-outbox",
    ),
    path("bench/posts-unsealed/", PostCreateApi.as_view(services=unsealed), name="bench-post-create-unsealed"),
]
