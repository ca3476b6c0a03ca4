from django.contrib import admin

from command_service.apps.comments.models import Comment


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("id", "post", "author", "is_deleted", "version", "created_at")
    list_filter = ("is_deleted",)
    list_select_related = ("post", "author")
    readonly_fields = ("version",)
