"""Request and response examples of the main operations in the OpenAPI document (the README's curl tour)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

_AUTHOR = {"id": 1, "username": "ada", "display_name": "Ada", "avatar_url": None}
_POST = {
    "id": 1, "author": _AUTHOR, "title": "Hello", "content": "My first post about pelicans.", "tags": ["birds"],
    "status": "draft", "comment_count": 0, "version": 1, "created_at": "2026-01-05T09:30:00Z",
    "updated_at": "2026-01-05T09:30:00Z", "published_at": None,
}  # fmt: skip


def _request(summary: str, value: dict) -> OpenApiExample:
    return OpenApiExample(summary, value=value, request_only=True)


def _response(summary: str, value: dict, status: int) -> OpenApiExample:
    return OpenApiExample(summary, value=value, response_only=True, status_codes=[status])


USER_REGISTER = [
    _request("An account", {"username": "ada", "password": "correct-horse-battery", "display_name": "Ada"}),
    _response("The account", {**_AUTHOR, "bio": "", "version": 1, "date_joined": "2026-01-05T09:00:00Z"}, 201),
]
TOKEN_OBTAIN = [
    _request("Signing in", {"username": "ada", "password": "correct-horse-battery"}),
    _response("A token", {"token": "4f0c…", "user_id": 1, "expires_at": "2026-01-06T09:00:00Z"}, 200),
]
POST_CREATE = [
    _request("A draft", {"title": "Hello", "content": "My first post about pelicans.", "tags": ["birds"]}),
    _response("The draft", _POST, 201),
]
POST_EDIT = [_request("A new title", {"title": "Hello, pelicans"})]
POST_TAGS = [_request("Tags, normalized", {"tags": ["Birds", " coast "]})]
POST_PUBLISHED = [
    _response("Published", {**_POST, "status": "published", "version": 2, "published_at": "2026-01-05T10:00:00Z"}, 200)
]
_COMMENT = {
    "id": 1, "post": {"id": 1, "title": "Hello"}, "author": _AUTHOR, "body": "Lovely birds!", "version": 1,
    "created_at": "2026-01-05T10:05:00Z", "updated_at": "2026-01-05T10:05:00Z",
}  # fmt: skip
COMMENT_ADD = [_request("A comment", {"body": "Lovely birds!"}), _response("The comment", _COMMENT, 201)]
COMMENT_EDIT = [_request("A new body", {"body": "Lovely birds, and the light!"})]
PROFILE_CHANGE = [_request("A new bio", {"bio": "Writes about birds."})]
