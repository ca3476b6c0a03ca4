"""Users: register, read a profile, change one's own profile, erase an account (tokens: api/auth.py)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import status
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from command_service.api import examples
from command_service.api.http import CommandApi, detail_response, expected_version, require_actor, written_response
from command_service.api.idempotency import idempotent
from command_service.api.schema import IDEMPOTENCY_KEY, IF_MATCH, errors, etag_header, written_headers
from command_service.api.serializers import (
    AVATAR_URL_RULES,
    PASSWORD_RULES,
    USERNAME_RULES,
    ErrorOutput,
    PartialInput,
    StrictInput,
    Text,
    UserOutput,
    text_rules,
)
from command_service.api.throttles import RegisterAddressThrottle
from command_service.domain import rules
from command_service.services.users import user_erase, user_profile_change, user_register


class UserRegisterApi(CommandApi):
    """Create an account."""

    # Registrations per client address, besides the throttles every view has (settings' DEFAULT_THROTTLE_CLASSES).
    throttle_classes = [RegisterAddressThrottle, *api_settings.DEFAULT_THROTTLE_CLASSES]

    @extend_schema_serializer(component_name="UserRegister")
    class InputSerializer(StrictInput):
        username = Text(rules=USERNAME_RULES)
        password = Text(write_only=True, rules=PASSWORD_RULES)
        display_name = Text(rules=text_rules(rules.DISPLAY_NAME_MAX))

    @extend_schema(
        operation_id="user_register",
        request=InputSerializer,
        examples=examples.USER_REGISTER,
        parameters=[IDEMPOTENCY_KEY, *written_headers(201, location=True, idempotent=True)],
        responses={201: UserOutput, **errors(400, 409, 422)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        written = user_register(**serializer.validated_data, uow=self.uow)
        body = UserOutput(self.queries.user_detail(user_id=written.aggregate_id)).data
        location = reverse("api:user-detail", kwargs={"user_id": written.aggregate_id}, request=request)
        return written_response(written, body, status=status.HTTP_201_CREATED, location=location)


class UserDetailApi(CommandApi):
    """A user's public profile; its owner changes it with PATCH; DELETE erases the account and the person's data."""

    @extend_schema_serializer(component_name="UserProfileChange")
    class InputSerializer(PartialInput):
        display_name = Text(required=False, rules=text_rules(rules.DISPLAY_NAME_MAX))
        avatar_url = Text(required=False, allow_null=True, rules=AVATAR_URL_RULES)
        bio = Text(required=False, rules=text_rules(rules.BIO_MAX, required=False))

    @extend_schema_serializer(component_name="UserErase")
    class EraseSerializer(StrictInput):
        password = Text(write_only=True, required=False, help_text="the account's current password: required when "
                        "erasing one's own account, ignored for staff erasing someone else's")  # fmt: skip

    permission_classes = [IsAuthenticatedOrReadOnly]  # anyone reads; changes need a token

    @extend_schema(
        operation_id="user_detail", parameters=[etag_header(200)], responses={200: UserOutput, 404: ErrorOutput}
    )
    def get(self, request: Request, user_id: int) -> Response:
        return detail_response(UserOutput(self.queries.user_detail(user_id=user_id)).data)

    @extend_schema(
        operation_id="user_profile_change",
        request=InputSerializer,
        examples=examples.PROFILE_CHANGE,
        parameters=[IF_MATCH, *written_headers(200)],
        responses={200: UserOutput, **errors(400, 401, 403, 404, 409, 412)},
    )
    def patch(self, request: Request, user_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "avatar_url" in data and data["avatar_url"] is None:
            data["avatar_url"] = ""  # null removes the avatar, like ""
        written = user_profile_change(
            user_id=user_id,
            actor=require_actor(request),
            expected_version=expected_version(request),
            uow=self.uow,
            **data,
        )
        return written_response(written, UserOutput(self.queries.user_detail(user_id=user_id)).data)

    @extend_schema(
        operation_id="user_erase",
        description=(
            "Erase the account and the person's data (GDPR art. 17): the user, re-entering their password, or staff. "
            "Their posts and comments are deleted, every token revoked, the profile and password dropped, and "
            "`user.erased` published; every read channel drops them within the bound the README states. The "
            "account answers 404 from then on (a second DELETE too), and its username is free for anyone at once."
        ),
        request=EraseSerializer,
        parameters=[IF_MATCH, *written_headers(204)],
        responses={204: None, **errors(400, 401, 403, 404, 412)},
    )
    def delete(self, request: Request, user_id: int) -> Response:
        serializer = self.EraseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        written = user_erase(
            user_id=user_id, actor=require_actor(request), password=serializer.validated_data.get("password"),
            expected_version=expected_version(request), uow=self.uow,
        )  # fmt: skip
        return written_response(written, status=status.HTTP_204_NO_CONTENT)
