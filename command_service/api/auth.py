"""Signing in and out: obtain a token, revoke it (logout), change one's password (revoking the other tokens)."""

from __future__ import annotations

from django.contrib.auth import authenticate, update_session_auth_hash
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from command_service.api import examples
from command_service.api.schema import errors
from command_service.api.serializers import PASSWORD_RULES, StrictInput, Text
from command_service.api.throttles import LoginAddressThrottle, LoginUsernameThrottle
from command_service.apps.users.tokens import password_change, token_issue, token_revoke


class TokenObtainApi(APIView):
    """Exchange a username and password for an API token to send as `Authorization: Token <token>`.

    Every sign-in issues a new token, valid until `expires_at`; attempts are limited per username and per client
    address (429 with `Retry-After`).
    """

    throttle_classes = [LoginUsernameThrottle, LoginAddressThrottle]  # before the password is hashed

    @extend_schema_serializer(component_name="TokenObtain")
    class InputSerializer(StrictInput):
        username = Text()
        password = Text(write_only=True)

    @extend_schema_serializer(component_name="Token")
    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        user_id = serializers.IntegerField()
        expires_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="auth_token_obtain",
        request=InputSerializer,
        responses={200: OutputSerializer, **errors(400, 401)},
        examples=examples.TOKEN_OBTAIN,
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request._request, **serializer.validated_data)
        if user is None:  # wrong credentials, or an inactive user
            raise AuthenticationFailed("wrong username or password")
        key, expires_at = token_issue(user)
        return Response(self.OutputSerializer({"token": key, "user_id": user.pk, "expires_at": expires_at}).data)


class LogoutApi(APIView):
    """Revoke the token this request is authenticated with: it is refused (401) from now on."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="auth_logout", request=None, responses={204: None, **errors(401)})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            token_revoke(request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(APIView):
    """Change one's password (the password rules apply); every other token of the user is revoked, this one kept."""

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="PasswordChange")
    class InputSerializer(StrictInput):
        old_password = Text(write_only=True)
        new_password = Text(write_only=True, rules=PASSWORD_RULES)

    @extend_schema(
        operation_id="auth_password_change", request=InputSerializer, responses={204: None, **errors(400, 401)}
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = request.auth if isinstance(request.auth, AuthToken) else None
        password_change(request.user, **serializer.validated_data, keep=token)
        if token is None:  # signed in with a session (the admin's): it stays signed in
            update_session_auth_hash(request._request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
