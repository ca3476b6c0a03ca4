"""Routes of the command API, namespaced `api`; code builds URLs with reverse("api:<name>")."""

from django.urls import path

from command_service.api import comments, posts, users

app_name = "api"

urlpatterns = [
    path("users/", users.UserRegisterApi.as_view(), name="user-register"),
    path("users/<int:user_id>/", users.UserDetailApi.as_view(), name="user-detail"),
    path("auth/token/", users.TokenObtainApi.as_view(), name="auth-token"),
    path("posts/", posts.PostCreateApi.as_view(), name="post-create"),
    path("posts/<int:post_id>/", posts.PostDetailApi.as_view(), name="post-detail"),
    path("posts/<int:post_id>/tags/", posts.PostTagsApi.as_view(), name="post-tags"),
    path("posts/<int:post_id>/publish/", posts.PostPublishApi.as_view(), name="post-publish"),
    path("posts/<int:post_id>/unpublish/", posts.PostUnpublishApi.as_view(), name="post-unpublish"),
    path("posts/<int:post_id>/archive/", posts.PostArchiveApi.as_view(), name="post-archive"),
    path("posts/<int:post_id>/comments/", posts.CommentAddApi.as_view(), name="comment-add"),
    path("comments/<int:comment_id>/", comments.CommentDetailApi.as_view(), name="comment-detail"),
]
