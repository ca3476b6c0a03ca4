"""Comments: add one to a post, read one, edit (its author), delete (its author, the post's author or staff)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
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
from command_service.api.serializers import CommentOutput, ErrorOutput, PartialInput, StrictInput, Text, text_rules
from command_service.domain import rules
from command_service.services import comments


class CommentAddApi(CommandApi):
    """Comment on a published post."""

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="CommentAdd")
    class InputSerializer(StrictInput):
        body = Text(rules=text_rules(rules.COMMENT_MAX))

    @extend_schema(
        operation_id="comment_add",
        request=InputSerializer,
        examples=examples.COMMENT_ADD,
        parameters=[IDEMPOTENCY_KEY, *written_headers(201, location=True, idempotent=True)],
        responses={201: CommentOutput, **errors(400, 401, 404, 409, 422)},
    )
    @idempotent
    def post(self, request: Request, post_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        written = comments.comment_add(
            post_id=post_id, actor=require_actor(request), body=serializer.validated_data["body"], uow=self.uow
        )
        body = CommentOutput(
            self.queries.comment_detail(comment_id=written.aggregate_id, viewer=actor_of(request))
        ).data
        location = reverse("api:comment-detail", kwargs={"comment_id": written.aggregate_id}, request=request)
        return written_response(written, body, status=status.HTTP_201_CREATED, location=location)


class CommentDetailApi(CommandApi):
    """A comment, seen wherever its post is seen."""

    @extend_schema_serializer(component_name="CommentEdit")
    class InputSerializer(PartialInput):
        body = Text(rules=text_rules(rules.COMMENT_MAX))

    permission_classes = [IsAuthenticatedOrReadOnly]  # anyone reads; changes need a token

    @extend_schema(
        operation_id="comment_detail", parameters=[etag_header(200)], responses={200: CommentOutput, 404: ErrorOutput}
    )
    def get(self, request: Request, comment_id: int) -> Response:
        detail = self.queries.comment_detail(comment_id=comment_id, viewer=actor_of(request))
        return detail_response(CommentOutput(detail).data)

    @extend_schema(
        operation_id="comment_edit",
        request=InputSerializer,
        examples=examples.COMMENT_EDIT,
        parameters=[IF_MATCH, *written_headers(200)],
        responses={200: CommentOutput, **CHANGE_ERRORS},
    )
    def patch(self, request: Request, comment_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        written = comments.comment_edit(
            comment_id=comment_id, actor=require_actor(request), body=serializer.validated_data["body"],
            expected_version=expected_version(request), uow=self.uow,
        )  # fmt: skip
        body = CommentOutput(self.queries.comment_detail(comment_id=comment_id, viewer=actor_of(request))).data
        return written_response(written, body)

    @extend_schema(
        operation_id="comment_delete",
        parameters=[IF_MATCH, *written_headers(204)],
        responses={204: None, **CHANGE_ERRORS},
    )
    def delete(self, request: Request, comment_id: int) -> Response:
        written = comments.comment_delete(
            comment_id=comment_id, actor=require_actor(request), expected_version=expected_version(request),
            uow=self.uow,
        )  # fmt: skip
        return written_response(written, status=status.HTTP_204_NO_CONTENT)
