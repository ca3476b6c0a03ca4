from django.contrib import admin

from command_service.apps.posts.models import Post, Tag


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "author", "status", "version", "updated_at")
    list_filter = ("status",)
    search_fields = ("title",)
    list_select_related = ("author",)
    readonly_fields = ("version",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)
