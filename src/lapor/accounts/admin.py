"""Django admin for accounts and memberships: a tool for superusers, not the staff console.

Accounts are created with ``user_create``, NIKs set with ``user_set_nik`` and memberships granted and
revoked with ``membership_grant`` / ``membership_revoke``, so that the admin follows the same rules as
every other face. The NIK is shown only masked; it can be replaced, never read back.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.forms import SetPasswordMixin, SetUnusablePasswordMixin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.forms import BaseFormSet, BaseModelFormSet
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from lapor.accounts.choices import Role
from lapor.accounts.errors import AccountError, AccountErrorCode
from lapor.accounts.models import NIK_INDEX_PURPOSE, Membership, User
from lapor.accounts.services import (
    membership_grant,
    membership_revoke,
    user_create,
    user_identifiers_clean,
    user_set_nik,
)
from lapor.core.crypto import blind_index
from lapor.core.identifiers import looks_like_phone, normalize_email, normalize_nik, normalize_phone
from lapor.institutions.choices import InstitutionKind

if TYPE_CHECKING:
    # Django's classes are generic to the type checker; at run time they are subscriptable only once
    # something has called django_stubs_ext.monkeypatch(), which this module does not count on.
    UserModelForm = forms.ModelForm[User]
    MembershipModelForm = forms.ModelForm[Membership]
    MembershipTabularInline = admin.TabularInline[Membership, User]
    MembershipModelAdmin = admin.ModelAdmin[Membership]
    BaseUserAdmin = auth_admin.UserAdmin[User]
    UserSetPasswordMixin = SetPasswordMixin[User]
    UserSetUnusablePasswordMixin = SetUnusablePasswordMixin[User]
    BaseUserChangeForm = DjangoUserChangeForm[User]
else:
    UserModelForm = MembershipModelForm = forms.ModelForm
    MembershipTabularInline = admin.TabularInline
    MembershipModelAdmin = admin.ModelAdmin
    BaseUserAdmin = auth_admin.UserAdmin
    UserSetPasswordMixin = SetPasswordMixin
    UserSetUnusablePasswordMixin = SetUnusablePasswordMixin
    BaseUserChangeForm = DjangoUserChangeForm


class ContactFieldsMixin(forms.Form):
    """E-mail and phone fields that normalise what people type; uniqueness is the model's check."""

    email = forms.CharField(
        label=_("e-mail address"), required=False, max_length=254, empty_value=None, widget=forms.EmailInput
    )
    phone = forms.CharField(
        label=_("phone number"),
        required=False,
        max_length=32,
        empty_value=None,
        help_text=_("Any common format: 0812-3456-7890, +62 812 3456 7890."),
    )

    def clean_email(self) -> str | None:
        value: str | None = self.cleaned_data.get("email")
        return normalize_email(value) if value else None

    def clean_phone(self) -> str | None:
        value: str | None = self.cleaned_data.get("phone")
        return normalize_phone(value) if value else None


# Django's own AdminUserCreationForm combines the two mixins the same way; their stubs disagree.
class UserAddForm(UserSetUnusablePasswordMixin, UserSetPasswordMixin, ContactFieldsMixin, UserModelForm):  # type: ignore[misc]
    """Creates the account through ``user_create``: e-mail or phone (at least one), full name, password."""

    password1, password2 = SetPasswordMixin.create_password_fields()
    usable_password = SetUnusablePasswordMixin.create_usable_password_field()

    class Meta:
        model = User
        fields = ("full_name", "email", "phone")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Required only when password login is enabled; SetUnusablePasswordMixin checks that.
        self.fields["password1"].required = False
        self.fields["password2"].required = False

    def clean(self) -> dict[str, Any]:
        super().clean()
        self.validate_passwords()
        cleaned = self.cleaned_data
        # A password like the person's name, e-mail or phone number is refused.
        candidate = User(full_name=cleaned.get("full_name", ""), email=cleaned.get("email"), phone=cleaned.get("phone"))
        self.validate_password_for_user(candidate)
        return cleaned

    def save(self, commit: bool = True) -> User:
        # The service is the one way accounts are created, so it runs whatever ``commit`` says;
        # UserAdmin.save_model knows the account is already saved.
        password = self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        self.instance = user_create(
            full_name=self.cleaned_data["full_name"],
            email=self.cleaned_data["email"],
            phone=self.cleaned_data["phone"],
            password=password,
        )
        return self.instance

    def save_m2m(self) -> None:
        """Nothing to save: the add form has no many-to-many fields."""


class UserChangeForm(ContactFieldsMixin, BaseUserChangeForm):
    """Edits an account; the NIK can be set or removed but is never sent to the browser."""

    set_nik = forms.CharField(
        label=_("Set NIK"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text=_("16 digits. Leave empty to keep the current NIK. It is stored encrypted and never shown again."),
    )
    remove_nik = forms.BooleanField(label=_("Remove NIK"), required=False)

    class Meta:
        model = User
        fields = (
            "full_name",
            "email",
            "phone",
            "preferred_language",
            "time_zone",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
        )
        field_classes: dict[str, type[forms.Field]] = {}

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        new_nik = cleaned.get("set_nik")
        if new_nik and cleaned.get("remove_nik"):
            raise ValidationError(_("Either set a new NIK or remove it, not both."), code="nik_conflict")
        if new_nik:
            try:
                user_identifiers_clean(
                    email=None, phone=None, nik=new_nik, exclude_user=self.instance, require_contact=False
                )
            except AccountError as error:
                self.add_error("set_nik", ValidationError(error.message, code=str(error.code)))
        return cleaned

    @property
    def nik_change(self) -> tuple[bool, str | None]:
        """(whether the NIK changes, the new NIK or None to remove it)."""
        if self.cleaned_data.get("remove_nik"):
            return True, None
        new_nik = self.cleaned_data.get("set_nik")
        return (True, new_nik) if new_nik else (False, None)


class HasNikFilter(admin.SimpleListFilter):
    title = _("NIK given")
    parameter_name = "has_nik"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, Any]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(nik_index__isnull=False)
        if self.value() == "no":
            return queryset.filter(nik_index__isnull=True)
        return queryset


class RoleFilter(admin.SimpleListFilter):
    title = _("role (active membership)")
    parameter_name = "role"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, Any]]:
        return [*Role.choices, ("none", _("None (reporter only)"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "none":
            return queryset.exclude(pk__in=Membership.objects.filter(is_active=True).values("user_id"))
        if value in Role.values:
            # A subquery rather than a join, so that a user with several such memberships is listed once.
            return queryset.filter(pk__in=Membership.objects.filter(role=value, is_active=True).values("user_id"))
        return queryset


class InstitutionKindFilter(admin.SimpleListFilter):
    title = _("institution kind (active membership)")
    parameter_name = "institution_kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, Any]]:
        return list(InstitutionKind.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value in InstitutionKind.values:
            members = Membership.objects.filter(is_active=True, institution__kind=value).values("user_id")
            return queryset.filter(pk__in=members)
        return queryset


class MembershipInlineForm(MembershipModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # A membership is about one institution and one role for good: to move someone, revoke
            # this one and grant another, so that the record of who could do what stays true.
            for name in ("institution", "role"):
                if name in self.fields:
                    self.fields[name].disabled = True


class MembershipInline(MembershipTabularInline):
    model = Membership
    fk_name = "user"
    form = MembershipInlineForm
    fields = ("institution", "role", "is_active", "granted_at", "granted_by", "revoked_at", "revoked_by")
    readonly_fields = ("granted_at", "granted_by", "revoked_at", "revoked_by")
    autocomplete_fields = ("institution",)
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("institution", "granted_by", "revoked_by")


def _apply_membership_changes(
    request: HttpRequest, formset: BaseModelFormSet[Membership, Any], user: User | None = None
) -> None:
    """Turn the admin's new and changed membership rows into grants and revocations."""
    actor = request.user if isinstance(request.user, User) else None
    # save(commit=False) fills new_objects and changed_objects, which the admin's change message reads.
    formset.save(commit=False)
    granted = [membership for membership in formset.new_objects if membership.is_active]
    granted += [membership for membership, _changed in formset.changed_objects if membership.is_active]
    revoked = [membership for membership, _changed in formset.changed_objects if not membership.is_active]
    for membership in revoked:
        membership_revoke(membership=membership, revoked_by=actor)
    for membership in granted:
        try:
            saved = membership_grant(
                user=user or membership.user,
                institution=membership.institution,
                role=Role(membership.role),
                granted_by=actor,
            )
        except AccountError as error:
            # E.g. the account was deactivated in the same save: keep the rest, say what was skipped.
            skipped = {"membership": membership, "reason": error.message}
            messages.warning(request, _("%(membership)s: %(reason)s") % skipped)
            continue
        membership.pk = saved.pk


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserAddForm
    list_display = ("full_name", "email", "phone", "nik_display", "is_staff", "is_active", "date_joined")
    list_filter = (
        "is_staff",
        "is_superuser",
        "is_active",
        HasNikFilter,
        RoleFilter,
        InstitutionKindFilter,
        "date_joined",
    )
    search_fields = ("full_name", "email", "phone")
    ordering = ("-date_joined", "-pk")
    # Who may use this admin is not changed from it: a stolen or borrowed superuser session must not be
    # able to make more superusers. The model's permissions and groups give nothing here (the admin is
    # for superusers only; the console's rights are memberships).
    readonly_fields = (
        "nik_display",
        "last_login",
        "date_joined",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
    )
    inlines = (MembershipInline,)
    fieldsets = (
        (None, {"fields": ("full_name", "email", "phone", "password")}),
        (_("Identity (NIK)"), {"fields": ("nik_display", "set_nik", "remove_nik")}),
        (_("Preferences"), {"fields": ("preferred_language", "time_zone")}),
        (
            _("Django admin access"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "description": _(
                    "Only active superusers may use this admin site, after signing in through the console "
                    "with their second factor. Superuser status is given on the server (lapor "
                    "createsuperuser), not here. Work on reports needs a membership below."
                ),
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("full_name", "email", "phone", "usable_password", "password1", "password2"),
                "description": _("Give an e-mail address, a phone number or both."),
            },
        ),
    )

    @admin.display(description=_("NIK"))
    def nik_display(self, obj: User) -> str:
        return obj.nik_masked or "—"

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[type[InlineModelAdmin[Any, Any]]]:
        # Memberships are granted once the account exists, as Django's own user admin does for groups.
        return list(self.inlines) if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # An account that holds or held a membership is deactivated, never deleted: deleting it would
        # erase its memberships, the record of who could act and who allowed it.
        if obj is not None and obj.memberships.exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # The bulk delete does not ask about each account (see has_delete_permission).
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        exact = Q()
        # Phone numbers are stored as +62…, NIKs only as a keyed hash: search what people type.
        if term and looks_like_phone(term):
            with contextlib.suppress(ValidationError):
                exact |= Q(phone=normalize_phone(term))
            with contextlib.suppress(ValidationError):
                exact |= Q(nik_index=blind_index(normalize_nik(term), purpose=NIK_INDEX_PURPOSE))
        if exact:
            results |= queryset.filter(exact)
        return results, may_have_duplicates

    def save_model(self, request: HttpRequest, obj: User, form: forms.Form, change: bool) -> None:
        if not change:
            return  # UserAddForm.save() created the account through user_create.
        super().save_model(request, obj, form, change)
        if isinstance(form, UserChangeForm):
            changes, nik = form.nik_change
            if changes:
                user_set_nik(user=obj, nik=nik)

    def save_formset(self, request: HttpRequest, form: forms.Form, formset: BaseFormSet[Any], change: bool) -> None:
        if isinstance(formset, BaseModelFormSet) and formset.model is Membership:
            _apply_membership_changes(request, formset, user=getattr(form, "instance", None))
            return
        super().save_formset(request, form, formset, change)

    @method_decorator(sensitive_post_parameters("set_nik"))
    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().change_view(request, object_id, form_url, extra_context)


class MembershipAdminForm(MembershipModelForm):
    class Meta:
        model = Membership
        fields = ("user", "institution", "role", "is_active")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        user = cleaned.get("user") or (self.instance.user if self.instance.user_id else None)
        if user is not None and not user.is_active and cleaned.get("is_active"):
            field = "user" if "user" in self.fields else None
            self.add_error(field, AccountError(AccountErrorCode.USER_INACTIVE).message)
        return cleaned


@admin.register(Membership)
class MembershipAdmin(MembershipModelAdmin):
    form = MembershipAdminForm
    list_display = ("user", "institution", "role", "is_active", "granted_at", "granted_by", "revoked_at")
    list_filter = ("role", "is_active", "institution__kind", "granted_at")
    list_select_related = ("user", "institution", "granted_by")
    search_fields = ("user__full_name", "user__email", "user__phone", "institution__name")
    autocomplete_fields = ("user", "institution")
    ordering = ("-granted_at", "-pk")
    actions = ("revoke_selected",)
    fields = ("user", "institution", "role", "is_active", "granted_at", "granted_by", "revoked_at", "revoked_by")

    def get_readonly_fields(self, request: HttpRequest, obj: Membership | None = None) -> tuple[str, ...]:
        recorded = ("granted_at", "granted_by", "revoked_at", "revoked_by")
        # See MembershipInlineForm: a membership never changes its user, institution or role.
        return (*recorded, "user", "institution", "role") if obj is not None else recorded

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        # Revoke instead: a deleted membership would erase who could act, and who allowed it.
        return False

    def save_model(self, request: HttpRequest, obj: Membership, form: forms.Form, change: bool) -> None:
        actor = request.user if isinstance(request.user, User) else None
        if obj.is_active:
            saved = membership_grant(user=obj.user, institution=obj.institution, role=Role(obj.role), granted_by=actor)
            obj.pk = saved.pk
        elif change:
            membership_revoke(membership=obj, revoked_by=actor)
        else:
            # Recorded as granted then revoked at once, so that the row exists and says who did it.
            saved = membership_grant(user=obj.user, institution=obj.institution, role=Role(obj.role), granted_by=actor)
            obj.pk = saved.pk
            membership_revoke(membership=saved, revoked_by=actor)
        obj.refresh_from_db()

    @admin.action(description=_("Revoke the selected memberships"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        revoked = 0
        for membership in queryset.filter(is_active=True):
            membership_revoke(membership=membership, revoked_by=actor)
            revoked += 1
        self.message_user(request, _("%(count)d memberships revoked.") % {"count": revoked}, messages.SUCCESS)
