"""Posts: create a draft, read, edit, set tags, publish, unpublish, archive, delete."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import status
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from command_service.api import examples
from command_service.api.http import (
    CommandApi,
    actor_of,
    detail_response,
    expected_version,
    require_actor,
    written_response,
)
from command_service.api.idempotency import idempotent
from command_service.api.schema import CHANGE_ERRORS, IDEMPOTENCY_KEY, IF_MATCH, errors, etag_header, written_headers
from command_service.api.serializers import (
    ErrorOutput,
    PartialInput,
    PostOutput,
    StrictInput,
    Tags,
    Text,
    text_rules,
)
from command_service.domain import rules
from command_service.services import posts
from command_service.services.unit_of_work import Written

TAGS_HELP = (
    f"At most {rules.TAGS_MAX} distinct tags once trimmed and lower-cased (a list may repeat one: up to "
    f"{rules.TAGS_INPUT_MAX} items are read)."
)


def _post_response(view: CommandApi, written: Written, *, status_code: int = 200) -> Response:
    # The actor was allowed to make this change, so the response shows its result even where the read rule hides
    # the post from them (staff unpublishing someone else's post); otherwise a committed write would answer 404.
    request = view.request
    detail = view.queries.post_detail(post_id=written.aggregate_id, viewer=actor_of(request), check_visibility=False)
    location = reverse("api:post-detail", kwargs={"post_id": written.aggregate_id}, request=request)
    return written_response(written, PostOutput(detail).data, status=status_code, location=location)


class PostCreateApi(CommandApi):
    """Create a draft post; only its author sees it until it is published."""

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="PostCreate")
    class InputSerializer(StrictInput):
        title = Text(rules=text_rules(rules.TITLE_MAX))
        content = Text(rules=text_rules(rules.CONTENT_MAX))
        tags = Tags(required=False, default=list, help_text=TAGS_HELP)

    @extend_schema(
        operation_id="post_create",
        request=InputSerializer,
        examples=examples.POST_CREATE,
        parameters=[IDEMPOTENCY_KEY, *written_headers(201, location=True, idempotent=True)],
        responses={201: PostOutput, **errors(400, 401, 422)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        written = posts.post_create(actor=require_actor(request), **serializer.validated_data, uow=self.uow)
        return _post_response(self, written, status_code=status.HTTP_201_CREATED)


class PostDetailApi(CommandApi):
    """A post: anyone reads a published one, its author also a draft or archived one; its author edits it."""

    @extend_schema_serializer(component_name="PostEdit")
    class InputSerializer(PartialInput):
        title = Text(required=False, rules=text_rules(rules.TITLE_MAX))
        content = Text(required=False, rules=text_rules(rules.CONTENT_MAX))

    permission_classes = [IsAuthenticatedOrReadOnly]  # anyone reads; changes need a token

    @extend_schema(
        operation_id="post_detail", parameters=[etag_header(200)], responses={200: PostOutput, 404: ErrorOutput}
    )
    def get(self, request: Request, post_id: int) -> Response:
        return detail_response(PostOutput(self.queries.post_detail(post_id=post_id, viewer=actor_of(request))).data)

    @extend_schema(
        operation_id="post_edit",
        request=InputSerializer,
        examples=examples.POST_EDIT,
        parameters=[IF_MATCH, *written_headers(200, location=True)],
        responses={200: PostOutput, **CHANGE_ERRORS},
    )
    def patch(self, request: Request, post_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        written = posts.post_edit(
            post_id=post_id, actor=require_actor(request), expected_version=expected_version(request),
            uow=self.uow, **serializer.validated_data,
        )  # fmt: skip
        return _post_response(self, written)

    @extend_schema(
        operation_id="post_delete", parameters=[IF_MATCH, *written_headers(204)], responses={204: None, **CHANGE_ERRORS}
    )
    def delete(self, request: Request, post_id: int) -> Response:
        written = posts.post_delete(
            post_id=post_id, actor=require_actor(request), expected_version=expected_version(request),
            uow=self.uow,
        )  # fmt: skip
        return written_response(written, status=status.HTTP_204_NO_CONTENT)


class PostTagsApi(CommandApi):
    """Replace a post's tags (lower-case, at most 10)."""

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="PostTags")
    class InputSerializer(StrictInput):
        tags = Tags(help_text=TAGS_HELP)

    @extend_schema(
        operation_id="post_tags_set",
        request=InputSerializer,
        examples=examples.POST_TAGS,
        parameters=[IF_MATCH, *written_headers(200, location=True)],
        responses={200: PostOutput, **CHANGE_ERRORS},
    )
    def put(self, request: Request, post_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        written = posts.post_tags_set(
            post_id=post_id, actor=require_actor(request), expected_version=expected_version(request),
            tags=serializer.validated_data["tags"], uow=self.uow,
        )  # fmt: skip
        return _post_response(self, written)


_TRANSITION_SCHEMA = {
    "parameters": [IF_MATCH, IDEMPOTENCY_KEY, *written_headers(200, location=True, idempotent=True)],
    "responses": {200: PostOutput, **CHANGE_ERRORS, **errors(422)},
}


class _PostTransitionApi(CommandApi):
    """A status change without a body: POST to it, optionally with If-Match."""

    permission_classes = [IsAuthenticated]
    service = staticmethod(posts.post_publish)

    @idempotent
    def post(self, request: Request, post_id: int) -> Response:
        written = self.service(
            post_id=post_id, actor=require_actor(request), expected_version=expected_version(request),
            uow=self.uow,
        )  # fmt: skip
        return _post_response(self, written)


@extend_schema_view(
    post=extend_schema(
        operation_id="post_publish", request=None, examples=examples.POST_PUBLISHED, **_TRANSITION_SCHEMA
    )
)
class PostPublishApi(_PostTransitionApi):
    """Publish a draft (its author)."""

    service = staticmethod(posts.post_publish)


@extend_schema_view(post=extend_schema(operation_id="post_unpublish", request=None, **_TRANSITION_SCHEMA))
class PostUnpublishApi(_PostTransitionApi):
    """Take a published post back to draft (its author or staff)."""

    service = staticmethod(posts.post_unpublish)


@extend_schema_view(post=extend_schema(operation_id="post_archive", request=None, **_TRANSITION_SCHEMA))
class PostArchiveApi(_PostTransitionApi):
    """Archive a post (its author or staff)."""

    service = staticmethod(posts.post_archive)
