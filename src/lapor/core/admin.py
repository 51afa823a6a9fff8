from __future__ import annotations

from django.contrib import admin

from lapor.core.models import HolidayOverride


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin[HolidayOverride]):
    list_display = ("date", "kind", "name", "decree", "created_at")
    list_filter = ("kind",)
    date_hierarchy = "date"
    search_fields = ("name", "decree")
    ordering = ("-date",)
    readonly_fields = ("created_at",)
