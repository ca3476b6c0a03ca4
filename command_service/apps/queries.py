"""Detail reads of the write model, as plain dicts: one query for the row and its joins, one for tags.

The API serves single users, posts and comments from here (services/queries.py declares what it reads); every list
and search is the query service's.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from command_service.apps.comments.models import Comment as CommentRow
from command_service.apps.posts.models import Post as PostRow
from command_service.apps.users.models import User as UserRow
from command_service.domain.actors import Actor
from command_service.domain.errors import NotFound
from command_service.domain.posts import post_visible_to


def _author(user: UserRow) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "avatar_url": user.avatar_url or None,
    }


class DjangoDetailQueries:
    """Users, posts and comments read from their tables."""

    def user_detail(self, *, user_id: int) -> dict[str, Any]:
        try:
            user = UserRow.objects.get(pk=user_id, is_active=True)
        except UserRow.DoesNotExist:
            raise NotFound(f"user {user_id} not found") from None
        return {**_author(user), "bio": user.bio, "version": user.version, "date_joined": user.date_joined}

    def post_detail(self, *, post_id: int, viewer: Actor | None, check_visibility: bool = True) -> dict[str, Any]:
        # check_visibility=False: staff who unpublish or archive someone else's post see the result of their write,
        # though the read rule would hide that post from them.
        try:
            post = (
                PostRow.objects.select_related("author")
                .prefetch_related("tags")
                .annotate(comment_count=Count("comments", filter=Q(comments__is_deleted=False)))
                .get(pk=post_id)
            )
        except PostRow.DoesNotExist:
            raise NotFound(f"post {post_id} not found") from None
        if check_visibility and not post_visible_to(post.status, post.author_id, viewer):
            raise NotFound(f"post {post_id} not found")
        return {
            "id": post.pk,
            "author": _author(post.author),
            "title": post.title,
            "content": post.content,
            "tags": sorted(tag.name for tag in post.tags.all()),
            "status": post.status,
            "comment_count": post.comment_count,
            "version": post.version,
            "created_at": post.created_at,
            "updated_at": post.updated_at,
            "published_at": post.published_at,
        }

    def comment_detail(self, *, comment_id: int, viewer: Actor | None) -> dict[str, Any]:
        try:
            comment = CommentRow.objects.select_related("author", "post").get(pk=comment_id)
        except CommentRow.DoesNotExist:
            raise NotFound(f"comment {comment_id} not found") from None
        if comment.is_deleted or not post_visible_to(comment.post.status, comment.post.author_id, viewer):
            raise NotFound(f"comment {comment_id} not found")
        return {
            "id": comment.pk,
            "post": {"id": comment.post_id, "title": comment.post.title},
            "author": _author(comment.author),
            "body": comment.body,
            "version": comment.version,
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
        }
