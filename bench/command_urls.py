"""The project's routes, plus the post-create endpoint with the outbox write removed, for comparison only."""

from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response

from command_service.api import http
from command_service.api.posts import PostCreateApi, _post_response
from command_service.apps.unit_of_work import DjangoUnitOfWork
from command_service.services import posts


class NoOutboxUnitOfWork(DjangoUnitOfWork):
    """The real unit of work minus the outbox row: what a write costs without its event."""

    def _add_to_outbox(self, envelope: object) -> None:
        pass


class PostCreateWithoutOutboxApi(PostCreateApi):
    """The same view, serializer and service, over NoOutboxUnitOfWork."""

    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        uow = NoOutboxUnitOfWork(http.unit_of_work(request).context)
        written = posts.post_create(actor=http.require_actor(request), **serializer.validated_data, uow=uow)
        return _post_response(request, written, status_code=201)


urlpatterns = [
    path("", include("command_service.config.urls")),
    path("bench/posts-without-outbox/", PostCreateWithoutOutboxApi.as_view(), name="bench-post-create-no-outbox"),
]
