"""The synchronous-indexing peer of the outbox path (P3), for the command-write benchmark only: its URLconf.

django-opensearch-dsl's RealTimeSignalProcessor indexes a model's document from `post_save`, inside the request and
inside its transaction: the write waits for OpenSearch (and fails with it). `POST /bench/posts-sync-index/` does the
same for a post: the rows without an outbox row (that design has no event log), then the post's denormalized document
(the read model's fields, built from the ORM rows as a signal handler would) indexed into `BENCH_SYNC_INDEX` before
the transaction commits. As the library's default (OPENSEARCH_DSL_AUTO_REFRESH = False), no refresh. One index
request per post, where the library would send a second one on the tags' `m2m_changed`: the peer's best case.

`POST /bench/posts-commit-stamped/` is the product's post create (same view, service and unit of work, outbox row
and NOTIFY included) whose unit of work also notes the time its transaction committed; `commit_stamp_middleware`
returns it in the COMMITTED_AT header, so the bench measures commit -> Kafka append from the commit itself.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from opensearchpy import OpenSearch
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from bench.command_urls import urlpatterns as command_urlpatterns
from bench.command_urls import without_outbox
from command_service.api.http import require_actor
from command_service.api.posts import PostCreateApi, _post_response
from command_service.apps.posts.models import Post
from command_service.apps.unit_of_work import DjangoUnitOfWork
from command_service.bootstrap import bootstrap
from command_service.services import posts
from projector.consumer.documents import iso, text_fields
from runtime.settings import opensearch_url


@functools.cache
def _client() -> OpenSearch:
    return OpenSearch(opensearch_url(), timeout=10)  # per process, at first use: nothing connects at import


def post_document(row: Post) -> dict[str, Any]:
    """The post's read-model document (read_models.models.POSTS), from its rows."""
    author = row.author
    return {
        "id": str(row.pk),
        **text_fields(row.title, row.content),
        "tags": sorted(tag.name for tag in row.tags.all()),
        "status": row.status,
        "deleted": False,
        "author": {
            "id": str(author.pk),
            "username": author.username,
            "display_name": author.display_name,
            "avatar_url": author.avatar_url or None,
        },
        "author_version": author.version,
        "comment_count": 0,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "published_at": iso(row.published_at),
        "post_version": row.version,
    }


class SyncIndexPostCreateApi(PostCreateApi):
    """POST create that indexes the post's document into OpenSearch inside its transaction."""

    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with self.uow.transaction():  # as post_save: the index request runs before the commit
            written = posts.post_create(actor=require_actor(request), **serializer.validated_data, uow=self.uow)
            row = Post.objects.select_related("author").prefetch_related("tags").get(pk=written.aggregate_id)
            _client().index(index=os.environ["BENCH_SYNC_INDEX"], id=str(row.pk), body=post_document(row))
        return _post_response(self, written, status_code=status.HTTP_201_CREATED)


COMMITTED_AT = "X-Bench-Committed-At"
_commit = threading.local()  # a gthread worker serves one request per thread at a time


class CommitStampedUnitOfWork(DjangoUnitOfWork):
    """The real unit of work, noting (epoch seconds) when its own transaction committed."""

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        super().__exit__(exc_type, exc, tb)
        if exc_type is None and self._committed and not self._held:
            _commit.at = time.time()


def commit_stamp_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Adds the COMMITTED_AT header to a response whose request committed a CommitStampedUnitOfWork."""

    def middleware(request: HttpRequest) -> HttpResponse:
        _commit.at = None
        response = get_response(request)
        if _commit.at is not None:
            response[COMMITTED_AT] = f"{_commit.at:.6f}"
        return response

    return middleware


urlpatterns = [
    *command_urlpatterns,
    path(
        "bench/posts-sync-index/",
        SyncIndexPostCreateApi.as_view(services=without_outbox),
        name="bench-post-create-sync-index",
    ),
    path(
        "bench/posts-commit-stamped/",
        PostCreateApi.as_view(services=replace(bootstrap(), unit_of_work=CommitStampedUnitOfWork)),
        name="bench-post-create-commit-stamped",
    ),
]
