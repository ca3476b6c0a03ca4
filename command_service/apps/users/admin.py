from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from command_service.apps.users.models import User


@admin.register(User)
class ContentUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "is_staff", "version", "date_joined")
    fieldsets = (*UserAdmin.fieldsets, ("Profile", {"fields": ("display_name", "avatar_url", "bio", "version")}))
    readonly_fields = ("version",)
