"""Posts and tags in the admin: read-only, changed only by the moderation actions (through the services).

Restore undoes a hide: it republishes a post that was published and then unpublished, as of its first publication
(`Post.restore`); archived and deleted posts stay retired, drafts never published stay their author's to publish.
"""

from django.contrib import admin

from command_service.apps.admin_actions import ModerationMixin, ReadOnlyAdmin, service_action
from command_service.apps.posts.models import Post, Tag
from command_service.services.posts import post_archive, post_delete, post_restore, post_unpublish


@admin.register(Post)
class PostAdmin(ModerationMixin, ReadOnlyAdmin):
    list_display = ("id", "title", "author", "status", "version", "updated_at")
    list_filter = ("status",)
    search_fields = ("title",)
    list_select_related = ("author",)
    actions = (
        service_action("hide", "Hide (unpublish) selected posts", post_unpublish, id_argument="post_id"),
        service_action("restore", "Restore (republish) selected hidden posts", post_restore, id_argument="post_id"),
        service_action("archive", "Archive selected posts", post_archive, id_argument="post_id"),
        service_action("delete", "Delete selected posts", post_delete, id_argument="post_id"),
    )


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    search_fields = ("name",)
