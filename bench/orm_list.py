"""The posts list served by the Django ORM straight from PostgreSQL: the comparison for the query service's list.

Bench-only routes (ROOT_URLCONF of `bench.orm_settings`): the project's own, plus `GET /bench/orm/posts/` listing
published posts newest first, 20 a page, the way a plain DRF list would: the author joined (select_related), the
tags prefetched, live comments counted (annotate Count), the preview cut in Python by the projector's own function,
an optional `tag` filter, `page` numbers (PageNumberPagination, so a COUNT per request, like the query service's
`total`). `GET /bench/orm/posts-subquery/` is the same list with the comment count as a correlated subquery.
"""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import include, path
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny

from command_service.apps.comments.models import Comment
from command_service.apps.posts.models import Post
from projector.consumer.documents import content_preview


class PostOrmPage(PageNumberPagination):
    """20 posts a page, like the query service's default."""

    page_size = 20


class AuthorOutput(serializers.Serializer):
    """The author as the list embeds it."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.CharField()


class PostOrmOutput(serializers.Serializer):
    """The fields of the query service's list item that the rows hold."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    content_preview = serializers.SerializerMethodField()
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    author = AuthorOutput()
    comment_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField()
    version = serializers.IntegerField()

    def get_content_preview(self, post: Post) -> str:
        """The preview exactly as the projector cuts it."""
        return content_preview(post.content)


class PostOrmListApi(ListAPIView):
    """Published posts, newest first, with author, tags and live comment count; `?tag=` and `?page=`."""

    authentication_classes = []
    permission_classes = [AllowAny]
    pagination_class = PostOrmPage
    serializer_class = PostOrmOutput

    def published(self) -> QuerySet[Post]:
        """The published posts, with the tag filter if asked, the author joined and the tags prefetched."""
        posts = Post.objects.filter(status=Post.Status.PUBLISHED)
        if tag := self.request.query_params.get("tag"):
            posts = posts.filter(tags__name=tag)
        return posts.select_related("author").prefetch_related("tags").order_by("-published_at", "id")

    def get_queryset(self) -> QuerySet[Post]:
        return self.published().annotate(comment_count=Count("comments", filter=Q(comments__is_deleted=False)))


class PostOrmSubqueryListApi(PostOrmListApi):
    """The same list with the comment count as a correlated subquery instead of a join and GROUP BY.

    PostgreSQL then sorts and limits the posts first and counts comments for the page's 20 posts only, where the
    aggregate join counts them for every published post before it can sort: the best this schema allows the ORM.
    """

    def get_queryset(self) -> QuerySet[Post]:
        live = Comment.objects.filter(post=OuterRef("pk"), is_deleted=False).order_by().values("post")
        count = Subquery(live.annotate(n=Count("pk")).values("n"))
        return self.published().annotate(comment_count=Coalesce(count, 0))


urlpatterns = [
    path("", include("command_service.config.urls")),
    path("bench/orm/posts/", PostOrmListApi.as_view(), name="bench-orm-post-list"),
    path("bench/orm/posts-subquery/", PostOrmSubqueryListApi.as_view(), name="bench-orm-post-list-subquery"),
]
