"""Routes of the query API, namespaced `api`; code builds URLs with reverse("api:<name>")."""

from django.urls import path

from query_service.api import status, views

app_name = "api"
urlpatterns = [
    path("posts/", views.PostSearchApi.as_view(), name="post-search"),
    path("posts/tags/", views.TagFacetListApi.as_view(), name="post-tag-facets"),
    path("posts/<int:post_id>/comments/", views.PostCommentListApi.as_view(), name="post-comment-list"),
    path("authors/", views.AuthorListApi.as_view(), name="author-list"),
    path("status/", status.SystemStatusApi.as_view(), name="system-status"),
]
