"""Comments in the admin: read-only, deleted only by the moderation action (through the service)."""

from django.contrib import admin

from command_service.apps.admin_actions import ModerationMixin, ReadOnlyAdmin, service_action
from command_service.apps.comments.models import Comment
from command_service.services.comments import comment_delete


@admin.register(Comment)
class CommentAdmin(ModerationMixin, ReadOnlyAdmin):
    list_display = ("id", "post", "author", "is_deleted", "version", "created_at")
    list_filter = ("is_deleted",)
    list_select_related = ("post", "author")
    actions = (service_action("delete", "Delete selected comments", comment_delete, id_argument="comment_id"),)
