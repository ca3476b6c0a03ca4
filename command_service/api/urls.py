"""Routes of the command API, namespaced `api`; code builds URLs with reverse("api:<name>").

Every view gets the command service's adapters here, built once by `bootstrap()` (which touches no database).
"""

from django.urls import path

from command_service.api import auth, comments, posts, users
from command_service.bootstrap import bootstrap

app_name = "api"

services = bootstrap()

urlpatterns = [
    path("users/", users.UserRegisterApi.as_view(services=services), name="user-register"),
    path("users/<int:user_id>/", users.UserDetailApi.as_view(services=services), name="user-detail"),
    path("auth/token/", auth.TokenObtainApi.as_view(), name="auth-token"),
    path("auth/logout/", auth.LogoutApi.as_view(), name="auth-logout"),
    path("auth/password/", auth.PasswordChangeApi.as_view(), name="auth-password"),
    path("posts/", posts.PostCreateApi.as_view(services=services), name="post-create"),
    path("posts/<int:post_id>/", posts.PostDetailApi.as_view(services=services), name="post-detail"),
    path("posts/<int:post_id>/tags/", posts.PostTagsApi.as_view(services=services), name="post-tags"),
    path("posts/<int:post_id>/publish/", posts.PostPublishApi.as_view(services=services), name="post-publish"),
    path("posts/<int:post_id>/unpublish/", posts.PostUnpublishApi.as_view(services=services), name="post-unpublish"),
    path("posts/<int:post_id>/archive/", posts.PostArchiveApi.as_view(services=services), name="post-archive"),
    path("posts/<int:post_id>/comments/", comments.CommentAddApi.as_view(services=services), name="comment-add"),
    path("comments/<int:comment_id>/", comments.CommentDetailApi.as_view(services=services), name="comment-detail"),
]
