"""Comments: read one, edit (its author), delete (its author, the post's author or staff)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import status
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from command_service.api.http import (
    actor_of,
    detail_response,
    expected_version,
    require_actor,
    unit_of_work,
    written_response,
)
from command_service.api.schema import CHANGE_ERRORS, IF_MATCH
from command_service.api.serializers import CommentOutput, ErrorOutput, StrictInput, Text
from command_service.apps.queries import comment_detail
from command_service.services import comments


class CommentDetailApi(APIView):
    """A comment, seen wherever its post is seen."""

    @extend_schema_serializer(component_name="CommentEdit")
    class InputSerializer(StrictInput):
        body = Text()

    permission_classes = [IsAuthenticatedOrReadOnly]  # anyone reads; changes need a token

    @extend_schema(operation_id="comment_detail", responses={200: CommentOutput, 404: ErrorOutput})
    def get(self, request: Request, comment_id: int) -> Response:
        return detail_response(CommentOutput(comment_detail(comment_id=comment_id, viewer=actor_of(request))).data)

    @extend_schema(
        operation_id="comment_edit",
        request=InputSerializer,
        parameters=[IF_MATCH],
        responses={200: CommentOutput, **CHANGE_ERRORS},
    )
    def patch(self, request: Request, comment_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        written = comments.comment_edit(
            comment_id=comment_id, actor=require_actor(request), body=serializer.validated_data["body"],
            expected_version=expected_version(request), uow=unit_of_work(request),
        )  # fmt: skip
        body = CommentOutput(comment_detail(comment_id=comment_id, viewer=actor_of(request))).data
        return written_response(written, body)

    @extend_schema(operation_id="comment_delete", parameters=[IF_MATCH], responses={204: None, **CHANGE_ERRORS})
    def delete(self, request: Request, comment_id: int) -> Response:
        written = comments.comment_delete(
            comment_id=comment_id, actor=require_actor(request), expected_version=expected_version(request),
            uow=unit_of_work(request),
        )  # fmt: skip
        return written_response(written, status=status.HTTP_204_NO_CONTENT)
