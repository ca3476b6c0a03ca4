"""The posts list served by the Django ORM straight from PostgreSQL: the fair peer of the query service's list.

Bench-only routes (ROOT_URLCONF of `bench.orm_settings`): the project's own, plus `GET /bench/orm/posts/` listing
published posts newest first, 20 a page, the way a Django developer who cares about speed writes it: keyset pages
(DRF's CursorPagination on `-published_at, id`, so no COUNT and no OFFSET; `next` links to follow), backed by an
index on `(status, published_at DESC, id)`; the author joined (select_related), the tags prefetched, live comments
counted by a correlated subquery (for the page's posts only), the preview cut in Python by the projector's own
function, an optional `tag` filter. `GET /bench/orm/posts/search/?q=` is PostgreSQL full-text search as the Django
docs write it when speed matters: the document `SearchVector("title", weight="A") + SearchVector("content",
weight="B")` stored in a generated column (a `GeneratedField`, so the rank reads it instead of parsing every match
again) with a GIN index on it, matched by `SearchQuery`, ranked by `SearchRank`. `add_indexes` creates the keyset
index, the column and its GIN index in the bench's scratch database with Django's schema editor (so the DDL is the
one Django would migrate): they are the bench's, not the product's (no migration; the column is added to the `Post`
class in the bench's processes only, when this module is imported, after the rows are written).
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, SearchVectorField
from django.db import connection, models
from django.db.models import Count, F, GeneratedField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import include, path
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny

from command_service.apps.comments.models import Comment
from command_service.apps.posts.models import Post
from projector.consumer.documents import content_preview

SEARCH_CONFIG = "english"  # a fixed configuration: to_tsvector(regconfig, text) is immutable, so it can be indexed
KEYSET_INDEX = models.Index(fields=["status", "-published_at", "id"], name="bench_posts_keyset")
DOCUMENT = "bench_search_document"
SEARCH_INDEX = GinIndex(fields=[DOCUMENT], name="bench_posts_search")


def search_vector() -> SearchVector:
    """The weighted document of a post: title (A) and content (B)."""
    return SearchVector("title", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "content", weight="B", config=SEARCH_CONFIG
    )


def _document_field() -> GeneratedField:
    """The stored document column, on the `Post` class of this process (once)."""
    if not any(f.name == DOCUMENT for f in Post._meta.get_fields()):
        field = GeneratedField(expression=search_vector(), output_field=SearchVectorField(), db_persist=True)
        field.contribute_to_class(Post, DOCUMENT)
    return Post._meta.get_field(DOCUMENT)


_document_field()


def add_indexes() -> None:
    """Create the keyset index, the stored document column and its GIN index (Django set up on the scratch
    database, the rows written)."""
    with connection.schema_editor() as editor:
        editor.add_index(Post, KEYSET_INDEX)
        editor.add_field(Post, _document_field())
        editor.add_index(Post, SEARCH_INDEX)


def with_live_comment_count(posts: QuerySet[Post]) -> QuerySet[Post]:
    """The posts with the author joined, the tags prefetched and `comment_count` by a correlated subquery (the stored
    search document deferred: the list does not show it)."""
    live = Comment.objects.filter(post=OuterRef("pk"), is_deleted=False).order_by().values("post")
    count = Subquery(live.annotate(n=Count("pk")).values("n"))
    posts = posts.select_related("author").prefetch_related("tags").defer(DOCUMENT)
    return posts.annotate(comment_count=Coalesce(count, 0))


def published(tag: str | None = None) -> QuerySet[Post]:
    """The published posts (of the tag, if given), unordered: the pagination orders them."""
    posts = Post.objects.filter(status=Post.Status.PUBLISHED)
    return posts.filter(tags__name=tag) if tag else posts


def text_search(word: str) -> QuerySet[Post]:
    """The published posts matching `word`, with their `rank`, best first (ties newest first)."""
    query = SearchQuery(word, config=SEARCH_CONFIG)
    posts = published().filter(**{DOCUMENT: query}).annotate(rank=SearchRank(F(DOCUMENT), query))
    return posts.order_by("-rank", "-published_at", "id")


class NewestPage(CursorPagination):
    """20 posts a page, newest first, keyset pages by `next` cursor links (no COUNT)."""

    page_size = 20
    ordering = ("-published_at", "id")


class RankedPage(NewestPage):
    """The same pages in rank order."""

    ordering = ("-rank", "-published_at", "id")


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
    """Published posts, newest first, with author, tags and live comment count; `?tag=` and `?cursor=`."""

    authentication_classes = []
    permission_classes = [AllowAny]
    pagination_class = NewestPage
    serializer_class = PostOrmOutput

    def get_queryset(self) -> QuerySet[Post]:
        return with_live_comment_count(published(self.request.query_params.get("tag")))


class PostOrmSearchApi(PostOrmListApi):
    """Published posts matching `?q=` (PostgreSQL full-text search), best rank first."""

    pagination_class = RankedPage

    def get_queryset(self) -> QuerySet[Post]:
        return with_live_comment_count(text_search(self.request.query_params.get("q", "")))


urlpatterns = [
    path("", include("command_service.config.urls")),
    path("bench/orm/posts/", PostOrmListApi.as_view(), name="bench-orm-post-list"),
    path("bench/orm/posts/search/", PostOrmSearchApi.as_view(), name="bench-orm-post-search"),
]
