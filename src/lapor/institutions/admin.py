"""Admin for the national administrators' reference data. Every save goes through the services, so
paths, coverage and the whole-country row stay consistent however a record is edited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from lapor.institutions.errors import InstitutionError
from lapor.institutions.models import Category, DeadlineOverride, Institution, InstitutionCategory, InstitutionCoverage
from lapor.institutions.services import (
    category_create,
    category_move,
    category_update,
    deadline_override_remove,
    deadline_override_set,
    institution_create,
    institution_move,
    institution_set_categories,
    institution_set_coverage,
    institution_update,
)

INSTITUTION_FIELDS = [
    "name",
    "short_name",
    "code",
    "kind",
    "sector",
    "is_active",
    "covers_nationally",
    "handles_all_categories",
    "time_zone",
]
CATEGORY_FIELDS = ["name", "name_en", "description", "handler_kind", "handler_sector", "is_active"]


def _adopt(target: Any, source: Any) -> None:
    """Make the admin's unsaved instance the row a service created, so the admin carries on with it."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db


def _kept_forms(formset: BaseInlineFormSet[Any, Any, Any]) -> list[ModelForm[Any]]:
    return [
        form
        for form in formset.forms
        if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE", False)
    ]


def _refusals_as_messages(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, view: Callable[[], HttpResponse]
) -> HttpResponse:
    """A refusal the forms did not foresee (a race, say) becomes a message, not a server error; the
    admin's transaction has rolled the whole save back by then."""
    try:
        return view()
    except InstitutionError as error:
        model_admin.message_user(request, error.message, level=messages.ERROR)
        return redirect(request.get_full_path())


class InstitutionForm(ModelForm[Institution]):
    class Meta:
        model = Institution
        fields = ["parent", *INSTITUTION_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["code"].required = False
            self.fields["code"].help_text = _("Leave empty to derive one from the parent's code and the name.")

    def clean_parent(self) -> Institution | None:
        parent: Institution | None = self.cleaned_data.get("parent")
        if parent is not None and self.instance.pk is not None and parent.is_within(self.instance):
            raise ValidationError(_("An institution cannot be placed under itself or one of its own units."))
        return parent

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        parent = data.get("parent")
        if data.get("is_active") and parent is not None and not parent.is_active:
            self.add_error("is_active", _("An active unit cannot be placed under an inactive institution."))
        return data


class CategoryForm(ModelForm[Category]):
    class Meta:
        model = Category
        fields = ["parent", "code", *CATEGORY_FIELDS]

    def clean_parent(self) -> Category | None:
        parent: Category | None = self.cleaned_data.get("parent")
        if parent is not None and self.instance.pk is not None and parent.is_within(self.instance):
            raise ValidationError(_("A category cannot be placed under itself or one of its subcategories."))
        return parent


def _mark_saved(formset: BaseInlineFormSet[Any, Any, Any]) -> None:
    # The admin's change message reads these, which formset.save() would have set.
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


class CoverageInline(admin.TabularInline[InstitutionCoverage, Institution]):
    model = InstitutionCoverage
    extra = 1
    autocomplete_fields = ["region"]
    verbose_name = _("covered region")
    verbose_name_plural = _("covered regions (each covers every region below it)")

    def get_queryset(self, request: HttpRequest) -> QuerySet[InstitutionCoverage]:
        # The whole-country row follows the "covers the whole country" box; it is not edited here.
        return super().get_queryset(request).filter(region__isnull=False).select_related("region")


class HandledCategoryInline(admin.TabularInline[InstitutionCategory, Institution]):
    model = InstitutionCategory
    extra = 1
    autocomplete_fields = ["category"]
    verbose_name = _("handled category")
    verbose_name_plural = _("handled categories (each covers its subcategories)")


class DeadlineOverrideInline(admin.TabularInline[DeadlineOverride, Institution]):
    model = DeadlineOverride
    extra = 0
    fields = ["clock", "amount", "unit", "basis"]


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin[Institution]):
    form = InstitutionForm
    list_display = ["name", "short_name", "kind", "sector", "depth", "is_active", "covers_nationally", "parent"]
    list_filter = ["kind", "sector", "depth", "is_active", "covers_nationally"]
    search_fields = ["name", "short_name", "=code"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path", "depth"]
    fields = ["parent", *INSTITUTION_FIELDS, "path", "depth"]
    inlines = [CoverageInline, HandledCategoryInline, DeadlineOverrideInline]
    ordering = ["path"]
    show_full_result_count = False

    def save_model(self, request: HttpRequest, obj: Institution, form: ModelForm[Institution], change: bool) -> None:
        values = {field: form.cleaned_data[field] for field in INSTITUTION_FIELDS}
        parent = form.cleaned_data.get("parent")
        if not change:
            _adopt(obj, institution_create(parent=parent, **values))
            return
        current = Institution.objects.get(pk=obj.pk)
        if parent != current.parent:
            institution_move(institution=current, new_parent=parent)
        _adopt(obj, institution_update(institution=current, **values))

    def save_formset(
        self, request: HttpRequest, form: ModelForm[Any], formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        institution = form.instance
        if formset.model is InstitutionCoverage:
            codes = [kept.cleaned_data["region"].code for kept in _kept_forms(formset) if kept.cleaned_data["region"]]
            institution_set_coverage(institution=institution, region_codes=codes)
        elif formset.model is InstitutionCategory:
            codes = [
                kept.cleaned_data["category"].code for kept in _kept_forms(formset) if kept.cleaned_data["category"]
            ]
            institution_set_categories(institution=institution, category_codes=codes)
        elif formset.model is DeadlineOverride:
            self._save_deadline_overrides(institution, formset)
        else:  # pragma: no cover - every inline is handled above
            super().save_formset(request, form, formset, change)
            return
        _mark_saved(formset)

    @staticmethod
    def _save_deadline_overrides(institution: Institution, formset: BaseInlineFormSet[Any, Any, Any]) -> None:
        for override_form in formset.forms:
            data = getattr(override_form, "cleaned_data", None)
            if not data:
                continue
            original = override_form.instance if override_form.instance.pk else None
            if original is not None and (data.get("DELETE") or original.clock != data["clock"]):
                deadline_override_remove(institution=institution, clock=original.clock)
            if data.get("DELETE"):
                continue
            deadline_override_set(
                institution=institution,
                clock=data["clock"],
                amount=data["amount"],
                unit=data["unit"],
                basis=data.get("basis", ""),
            )

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        view = super().changeform_view
        return _refusals_as_messages(self, request, lambda: view(request, object_id, form_url, extra_context))


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    form = CategoryForm
    list_display = ["indented_name", "code", "name_en", "handler_kind", "handler_sector", "depth", "is_active"]
    list_filter = ["depth", "handler_kind", "handler_sector", "is_active"]
    search_fields = ["name", "name_en", "=code"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path", "depth"]
    fields = ["parent", "code", *CATEGORY_FIELDS, "path", "depth"]
    ordering = ["path"]

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, category: Category) -> str:
        return "\u2003" * (category.depth - 1) + category.name

    def get_readonly_fields(self, request: HttpRequest, obj: Category | None = None) -> list[str]:
        # Reports and institutions refer to a category by its code, so it is fixed once created.
        return [*self.readonly_fields, "code"] if obj is not None else list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Category, form: ModelForm[Category], change: bool) -> None:
        values = {field: form.cleaned_data[field] for field in CATEGORY_FIELDS}
        parent = form.cleaned_data.get("parent")
        if not change:
            _adopt(obj, category_create(code=form.cleaned_data["code"], parent=parent, **values))
            return
        current = Category.objects.get(pk=obj.pk)
        if parent != current.parent:
            category_move(category=current, new_parent=parent)
        _adopt(obj, category_update(category=current, **values))

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        view = super().changeform_view
        return _refusals_as_messages(self, request, lambda: view(request, object_id, form_url, extra_context))
