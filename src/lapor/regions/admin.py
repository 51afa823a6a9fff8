from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from lapor.regions.choices import RegionLevel
from lapor.regions.models import Region
from lapor.regions.services import region_update


class ProvinceFilter(admin.SimpleListFilter):
    title = _("province")
    parameter_name = "province"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return list(Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code").values_list("code", "name"))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        # Codes are paths: everything in province 36 has a code starting with "36".
        return queryset.filter(code__startswith=value)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin[Region]):
    """Regions come from the official list (``lapor regions load``): only the name and the active flag may be
    corrected by hand, and rows are never added or deleted here."""

    list_display = ["code", "name", "kind", "level", "parent", "is_active"]
    list_filter = ["level", "kind", "is_active", ProvinceFilter]
    search_fields = ["^code", "name"]
    list_select_related = ["parent"]
    readonly_fields = ["code", "parent", "level", "kind"]
    fields = ["code", "name", "parent", "level", "kind", "is_active"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Region | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Region, form: Any, change: bool) -> None:
        # Through the service, so that the name's search tokens follow a correction.
        updated = region_update(code=obj.code, name=obj.name, is_active=obj.is_active)
        obj.name, obj.kind = updated.name, updated.kind
