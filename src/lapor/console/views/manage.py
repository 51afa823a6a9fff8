"""Institution management: units, staff, deadline overrides, follow-up templates and handled
categories, for coordinators within their own subtree, and for the national admin everywhere.

Every institution, template and membership is found through the access layer
(``lapor.accounts.institution_access`` and ``lapor.accounts.access``, whose docstrings state who may do
what), and every write goes through a service that is given the acting user, checks it through the same
door and records who changed what in the institution's administrative trail
(``lapor.accounts.administration`` for institutions, templates and deadlines, ``lapor.accounts.services``
for memberships).

Anything outside that — an institution, a membership or a template id from another subtree, or any
management page for a liaison officer, oversight or an outsider — is a 404, for GET and POST alike, so
that the console never tells whether something exists outside one's scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from lapor.accounts.access import MembershipAction, access_membership
from lapor.accounts.administration import (
    deadline_override_remove,
    deadline_override_set,
    follow_up_template_create,
    follow_up_template_delete,
    follow_up_template_update,
    institution_create,
    institution_set_categories,
    institution_update,
)
from lapor.accounts.choices import Role
from lapor.accounts.errors import AccountError, AccountErrorCode
from lapor.accounts.institution_access import (
    UNIT_KINDS,
    InstitutionAction,
    InstitutionGuard,
    access_follow_up_template,
    access_institution,
    visible_institutions,
)
from lapor.accounts.models import Membership, User
from lapor.accounts.permissions import Permission, grantable_roles
from lapor.accounts.selectors import memberships_within
from lapor.accounts.services import (
    contact_normalize,
    membership_change_role,
    membership_invite,
    membership_revoke,
)
from lapor.accounts.services import (
    membership_unlock as membership_unlock_service,
)
from lapor.accounts.signin import locks_of
from lapor.console.access import scope_of, staff_required
from lapor.core.identifiers import mask_contact
from lapor.institutions.choices import DeadlineClock, DeadlineUnit, InstitutionKind, Sector
from lapor.institutions.errors import InstitutionError, InstitutionErrorCode
from lapor.institutions.models import FOLLOW_UP_PLACEHOLDERS, FollowUpTemplate, Institution, placeholders_in
from lapor.institutions.selectors import (
    category_tree,
    effective_deadlines,
    follow_up_templates_for,
    institution_ancestors,
    institution_category_codes,
    institution_region_codes,
    institution_subtree,
)

# How many levels below an institution its page shows: each row links to its own page for the next.
TREE_LEVELS = 2
TREE_MAX_ROWS = 500
STAFF_PAGE_SIZE = 100
INVITE_UNIT_CHOICES_MAX = 1000


# --- access --------------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _guard(request: HttpRequest) -> InstitutionGuard:
    """The access layer's answers for this request's user, asked once per institution."""
    guard: InstitutionGuard | None = request.__dict__.get("_manage_guard")
    if guard is None:
        guard = request.__dict__["_manage_guard"] = InstitutionGuard(
            request.user, memberships=scope_of(request).memberships
        )
    return guard


def _reaching(request: HttpRequest, institution: Institution) -> frozenset[Permission]:
    return _guard(request).permissions(institution)


def _institution_or_404(request: HttpRequest, pk: int, action: InstitutionAction) -> Institution:
    try:
        return access_institution(request.user, pk, action, guard=_guard(request))
    except InstitutionError:
        raise Http404 from None


def _may_edit(request: HttpRequest, institution: Institution) -> bool:
    """Rename, (de)activate, set categories: a unit below one the user manages, or anything nationally."""
    return _guard(request).allows(institution, InstitutionAction.EDIT)


def _manage_roots(request: HttpRequest) -> list[Institution]:
    """The institutions at the top of what the user manages: the roots of the tree for the national
    admin; for a coordinator the institutions it coordinates, without those inside another of them."""
    guard = _guard(request)
    visible = visible_institutions(request.user, guard=guard)
    if guard.is_national():
        return list(visible.filter(parent__isnull=True).order_by("path"))
    paths = guard.managed_paths()
    tops = [path for path in paths if not any(path != other and path.startswith(other) for other in paths)]
    return list(visible.filter(path__in=tops).order_by("path"))


def _breadcrumbs(request: HttpRequest, institution: Institution) -> list[Institution]:
    """The institutions above this one that the user manages too (its way back up)."""
    ancestors = list(institution_ancestors(institution))
    if Permission.NATIONAL_INSTITUTION_MANAGE in _reaching(request, institution):
        return ancestors
    roots = _guard(request).managed_paths()
    return [ancestor for ancestor in ancestors if any(ancestor.path.startswith(root) for root in roots)]


def _membership_or_404(request: HttpRequest, pk: int, action: MembershipAction) -> tuple[Membership, bool]:
    """A membership the user may take ``action`` on, and whether it is the user's own (which the access
    layer refuses: the page says so instead of answering 404)."""
    try:
        return access_membership(request.user, pk, action), False
    except AccountError as error:
        if error.code != AccountErrorCode.OWN_MEMBERSHIP:
            raise Http404 from None
    return access_membership(request.user, pk), True


def _template_or_404(request: HttpRequest, pk: int) -> FollowUpTemplate:
    try:
        return access_follow_up_template(request.user, pk, guard=_guard(request))
    except InstitutionError:
        raise Http404 from None


# --- helpers -------------------------------------------------------------------------------------------


def _field_error(form: forms.Form, field: str | None, message: Any) -> None:
    form.add_error(field if field in form.fields else None, message)


def _institution_error(form: forms.Form, error: InstitutionError, *, fields: dict[str, str] | None = None) -> None:
    field = error.details.get("field")
    if isinstance(field, str) and fields and field in fields:
        field = fields[field]
    if error.code in (InstitutionErrorCode.INVALID_REGION_CODE, InstitutionErrorCode.UNKNOWN_REGION):
        field = "region_codes"
    _field_error(form, field if isinstance(field, str) else None, error.message)


def _absolute(request: HttpRequest, url_name: str, fallback: str = "console:manage") -> str:
    """An absolute URL in the site's default language (an invitee's language is not known yet)."""
    with translation.override(settings.LANGUAGE_CODE):
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            url = reverse(fallback)
    return request.build_absolute_uri(url)


# --- forms ---------------------------------------------------------------------------------------------


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def _region_codes(text: str) -> list[str]:
    return [code for code in (part.strip() for part in text.replace("\n", ",").split(",")) if code]


class UnitForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    short_name = forms.CharField(
        label=gettext_lazy("Short name"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("Acronym or common short name, e.g. Dishub."),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"))
    sector = forms.ChoiceField(label=gettext_lazy("Sector"), choices=Sector.choices, initial=Sector.GENERAL)
    region_codes = forms.CharField(
        label=gettext_lazy("Area covered (region codes)"),
        required=False,
        help_text=gettext_lazy(
            "Codes of the regions it serves, separated by commas, e.g. 36.74.01. "
            "Leave empty for the same area as the institution above it."
        ),
    )

    def __init__(self, *args: Any, national: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = InstitutionKind.choices if national else [(kind.value, kind.label) for kind in UNIT_KINDS]
        _choice_field(self, "kind").choices = kinds


class RenameForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    short_name = forms.CharField(label=gettext_lazy("Short name"), max_length=50, required=False)


class InviteForm(forms.Form):
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=150)
    contact = forms.CharField(
        label=gettext_lazy("E-mail address or phone number"),
        max_length=254,
        help_text=gettext_lazy("The invitation is sent there; with it they set their password."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(label=gettext_lazy("Role"))
    unit = forms.TypedChoiceField(label=gettext_lazy("Institution or unit"), coerce=int)

    def __init__(self, *args: Any, roles: Iterable[Role], units: Iterable[Institution], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "role").choices = [(role.value, role.label) for role in Role if role in set(roles)]
        _choice_field(self, "unit").choices = [(unit.pk, "\u2003" * (unit.depth - 1) + unit.name) for unit in units]

    def clean_contact(self) -> str:
        try:
            return contact_normalize(self.cleaned_data["contact"])
        except AccountError as error:
            raise ValidationError(error.message, code=str(error.code)) from error


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("New role"))

    def __init__(self, *args: Any, roles: Iterable[Role], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "role").choices = [(role.value, role.label) for role in Role if role in set(roles)]


class DeadlineForm(forms.Form):
    clock = forms.ChoiceField(label=gettext_lazy("Clock"), choices=DeadlineClock.choices)
    amount = forms.IntegerField(label=gettext_lazy("Amount"), min_value=1, max_value=32767)
    unit = forms.ChoiceField(label=gettext_lazy("Unit"), choices=DeadlineUnit.choices)
    basis = forms.CharField(
        label=gettext_lazy("Legal basis"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("The regulation or service standard that sets it."),
    )


class TemplateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    body = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea(attrs={"rows": 8}), strip=False)


class CategoriesForm(forms.Form):
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Categories handled"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "categories").choices = choices


# --- pages: overview and units -------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET"])
def manage(request: HttpRequest) -> HttpResponse:
    roots = _manage_roots(request)
    if not roots:
        raise Http404
    return render(request, "console/manage/index.html", {"roots": roots})


def _institution_context(request: HttpRequest, institution: Institution) -> dict[str, Any]:
    national = Permission.NATIONAL_INSTITUTION_MANAGE in _reaching(request, institution)
    below = list(
        institution_subtree(institution, include_self=False).filter(depth__lte=institution.depth + TREE_LEVELS)[
            : TREE_MAX_ROWS + 1
        ]
    )
    for unit in below:
        unit.level = unit.depth - institution.depth  # type: ignore[attr-defined]
    return {
        "institution": institution,
        "breadcrumbs": _breadcrumbs(request, institution),
        "units": below[:TREE_MAX_ROWS],
        "units_cut": len(below) > TREE_MAX_ROWS,
        "may_edit": _may_edit(request, institution),
        "may_manage_institution": _guard(request).allows(institution, InstitutionAction.MANAGE),
        "may_manage_users": _guard(request).allows(institution, InstitutionAction.MANAGE_STAFF),
        "may_manage_deadlines": _guard(request).allows(institution, InstitutionAction.MANAGE_DEADLINES),
        "national": national,
    }


@staff_required
@require_http_methods(["GET"])
def institution_page(request: HttpRequest, pk: int) -> HttpResponse:
    institution = _institution_or_404(request, pk, InstitutionAction.VIEW)
    context = _institution_context(request, institution)
    if context["may_manage_institution"] and institution.is_active:
        context["unit_form"] = UnitForm(national=context["national"])
    if context["may_edit"]:
        context["rename_form"] = RenameForm(initial={"name": institution.name, "short_name": institution.short_name})
    return render(request, "console/manage/institution.html", context)


def _allowed_region_codes(parent: Institution, codes: list[str]) -> list[str]:
    """The codes outside the parent's area (a unit serves part of what the institution above it serves)."""
    if parent.covers_nationally:
        return []
    parent_codes = institution_region_codes(parent)
    return [
        code for code in codes if not any(code == covered or code.startswith(covered + ".") for covered in parent_codes)
    ]


@staff_required
@require_http_methods(["GET", "POST"])
def unit_create(request: HttpRequest, pk: int) -> HttpResponse:
    parent = _institution_or_404(request, pk, InstitutionAction.MANAGE)
    national = Permission.NATIONAL_INSTITUTION_MANAGE in _reaching(request, parent)
    form = UnitForm(request.POST or None, national=national)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        codes = _region_codes(data["region_codes"]) or institution_region_codes(parent)
        outside = [] if national else _allowed_region_codes(parent, codes)
        if outside:
            form.add_error(
                "region_codes",
                _("Outside the area of %(parent)s: %(codes)s.") % {"parent": parent.name, "codes": ", ".join(outside)},
            )
        else:
            try:
                unit = institution_create(
                    name=data["name"],
                    short_name=data["short_name"],
                    kind=data["kind"],
                    sector=data["sector"],
                    parent=parent,
                    region_codes=codes,
                    actor=_user(request),
                )
            except InstitutionError as error:
                _institution_error(form, error)
            else:
                messages.success(request, _("%(name)s was created.") % {"name": unit.name})
                return redirect("console:manage_institution", pk=unit.pk)
    context = _institution_context(request, parent)
    context["unit_form"] = form
    return render(request, "console/manage/unit_form.html", context, status=400 if form.errors else 200)


@staff_required
@require_http_methods(["GET", "POST"])
def unit_rename(request: HttpRequest, pk: int) -> HttpResponse:
    institution = _institution_or_404(request, pk, InstitutionAction.EDIT)
    form = RenameForm(request.POST or None, initial={"name": institution.name, "short_name": institution.short_name})
    if request.method == "POST" and form.is_valid():
        try:
            institution_update(
                institution=institution,
                name=form.cleaned_data["name"],
                short_name=form.cleaned_data["short_name"],
                actor=_user(request),
            )
        except InstitutionError as error:
            _institution_error(form, error)
        else:
            messages.success(request, _("The name is saved."))
            return redirect("console:manage_institution", pk=institution.pk)
    context = _institution_context(request, institution)
    context["rename_form"] = form
    return render(request, "console/manage/rename.html", context, status=400 if form.errors else 200)


@staff_required
@require_POST
def unit_activation(request: HttpRequest, pk: int) -> HttpResponse:
    institution = _institution_or_404(request, pk, InstitutionAction.EDIT)
    active = request.POST.get("active") == "1"
    try:
        institution_update(institution=institution, is_active=active, actor=_user(request))
    except InstitutionError as error:
        messages.error(request, error.message)
    else:
        if active:
            messages.success(request, _("%(name)s is active again.") % {"name": institution.name})
        else:
            messages.success(
                request,
                _("%(name)s and every unit below it are deactivated: they receive no reports.")
                % {"name": institution.name},
            )
    return redirect("console:manage_institution", pk=institution.pk)


# --- staff ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffRow:
    membership: Membership
    contact: str
    may_change: bool
    other_roles: list[Role]
    # When the member's console sign-in lock ends (None: not locked).
    locked_until: datetime | None = None


@staff_required
@require_http_methods(["GET"])
def staff(request: HttpRequest, pk: int) -> HttpResponse:
    institution = _institution_or_404(request, pk, InstitutionAction.MANAGE_STAFF)
    include_inactive = request.GET.get("semua") == "1"
    # A permission that reaches this institution reaches every one below it: one answer for the page.
    roles = grantable_roles(request.user, institution)
    page = Paginator(memberships_within(institution, include_inactive=include_inactive), STAFF_PAGE_SIZE).get_page(
        request.GET.get("halaman")
    )
    me = _user(request)
    # A pending invitation shows nothing of the account behind the address (its name, sign-ins, lock).
    locks = locks_of([membership.user_id for membership in page.object_list if not membership.is_pending])
    rows = [
        StaffRow(
            membership=membership,
            contact="" if membership.is_pending else mask_contact(membership.user.email or membership.user.phone),
            may_change=membership.is_active and Role(membership.role) in roles and membership.user_id != me.pk,
            other_roles=[role for role in Role if role in roles and role != membership.role],
            locked_until=None if membership.is_pending else locks.get(membership.user_id),
        )
        for membership in page.object_list
    ]
    context = _institution_context(request, institution)
    context.update({"rows": rows, "page": page, "include_inactive": include_inactive, "may_invite": bool(roles)})
    return render(request, "console/manage/staff.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def staff_invite(request: HttpRequest, pk: int) -> HttpResponse:
    institution = _institution_or_404(request, pk, InstitutionAction.MANAGE_STAFF)
    roles = grantable_roles(request.user, institution)
    units = list(institution_subtree(institution).filter(is_active=True)[:INVITE_UNIT_CHOICES_MAX])
    form = InviteForm(request.POST or None, roles=roles, units=units, initial={"unit": institution.pk})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = next(candidate for candidate in units if candidate.pk == data["unit"])
        role = Role(data["role"])
        if role not in grantable_roles(request.user, unit):
            raise Http404
        try:
            membership_invite(
                full_name=data["full_name"],
                address=data["contact"],
                institution=unit,
                role=role,
                invited_by=_user(request),
                password_url=_absolute(request, "portal:password_reset"),
                console_url=_absolute(request, "console:login"),
                accept_url=_absolute(request, "portal:invitations"),
                actor=_user(request),
            )
        except AccountError as error:
            _field_error(form, "contact" if error.field in ("email", "phone", None) else error.field, error.message)
        else:
            # The same words whether the address had an account or not: the page is no way to learn
            # whether someone uses Lapor (the staff list shows the pending invitation as the address
            # typed, until the person accepts it).
            messages.success(
                request,
                _("An invitation to be %(role)s of %(unit)s is on its way to %(contact)s.")
                % {"role": role.label, "unit": unit.name, "contact": data["contact"]},
            )
            return redirect("console:manage_staff", pk=institution.pk)
    context = _institution_context(request, institution)
    context["form"] = form
    return render(request, "console/manage/invite.html", context, status=400 if form.errors else 200)


# A database id has at most 18 digits; "²" is a digit to str.isdigit() but not to int().
MAX_ID_DIGITS = 18


def _staff_page_for(request: HttpRequest, membership: Membership) -> str:
    """Back to the staff page the form came from when the user manages it, else the membership's."""
    raw = request.POST.get("from", "")
    if raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS:
        try:
            origin = access_institution(request.user, int(raw), InstitutionAction.MANAGE_STAFF, guard=_guard(request))
        except InstitutionError:
            pass
        else:
            return reverse("console:manage_staff", kwargs={"pk": origin.pk})
    return reverse("console:manage_staff", kwargs={"pk": membership.institution_id})


@staff_required
@require_POST
def membership_end(request: HttpRequest, pk: int) -> HttpResponse:
    membership, own = _membership_or_404(request, pk, MembershipAction.REVOKE)
    back = _staff_page_for(request, membership)
    if own:
        messages.error(request, _("You cannot end your own membership; ask another coordinator."))
        return redirect(back)
    # A pending invitation is named by the address typed: withdrawing it reveals no account's name.
    name = membership.invited_as if membership.is_pending else membership.user.full_name
    membership_revoke(membership=membership, actor=_user(request))
    messages.success(
        request,
        _("%(name)s is no longer %(role)s of %(unit)s.")
        % {"name": name, "role": membership.get_role_display(), "unit": membership.institution},
    )
    return redirect(back)


@staff_required
@require_POST
def membership_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    """A coordinator lifts the console sign-in lock of a member of their subtree (recorded with who did)."""
    membership, own = _membership_or_404(request, pk, MembershipAction.UNLOCK)
    if own:
        raise Http404
    back = _staff_page_for(request, membership)
    membership_unlock_service(membership=membership, actor=_user(request))
    messages.success(request, _("%(name)s can sign in to the console again.") % {"name": membership.user.full_name})
    return redirect(back)


@staff_required
@require_POST
def membership_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership, own = _membership_or_404(request, pk, MembershipAction.CHANGE_ROLE)
    back = _staff_page_for(request, membership)
    roles = grantable_roles(request.user, membership.institution)
    form = RoleForm(request.POST, roles=roles)
    if not form.is_valid() or Role(membership.role) not in roles:
        # A role the user may not give: as if the page did not exist, like any other write out of scope.
        raise Http404
    if own:
        messages.error(request, _("You cannot change your own role; ask another coordinator."))
        return redirect(back)
    try:
        changed = membership_change_role(membership=membership, role=form.cleaned_data["role"], actor=_user(request))
    except AccountError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(name)s is now %(role)s of %(unit)s.")
            % {"name": changed.user.full_name, "role": changed.get_role_display(), "unit": changed.institution},
        )
    return redirect(back)


# --- deadlines -----------------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def deadlines(request: HttpRequest, pk: int) -> HttpResponse:
    institution = _institution_or_404(request, pk, InstitutionAction.MANAGE_DEADLINES)
    form = DeadlineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            deadline_override_set(
                institution=institution,
                clock=data["clock"],
                amount=data["amount"],
                unit=data["unit"],
                basis=data["basis"],
                actor=_user(request),
            )
        except InstitutionError as error:
            _institution_error(form, error)
        else:
            messages.success(
                request, _("The deadline is saved; it applies to every unit below that has none of its own.")
            )
            return redirect("console:manage_deadlines", pk=institution.pk)
    context = _institution_context(request, institution)
    context.update({"rows": effective_deadlines(institution=institution).values(), "form": form})
    return render(request, "console/manage/deadlines.html", context, status=400 if form.errors else 200)


@staff_required
@require_POST
def deadline_remove(request: HttpRequest, pk: int) -> HttpResponse:
    institution = _institution_or_404(request, pk, InstitutionAction.MANAGE_DEADLINES)
    clock = request.POST.get("clock", "")
    if clock not in DeadlineClock.values:
        messages.error(request, _("Choose a deadline to remove."))
    elif deadline_override_remove(institution=institution, clock=clock, actor=_user(request)):
        messages.success(request, _("The institution's own deadline is removed; the one above it applies again."))
    return redirect("console:manage_deadlines", pk=institution.pk)


# --- follow-up templates -------------------------------------------------------------------------------


def _placeholder_help() -> list[tuple[str, Any]]:
    return [("{" + name + "}", description) for name, description in FOLLOW_UP_PLACEHOLDERS.items()]


def _unknown_placeholders_notice(request: HttpRequest, body: str) -> None:
    _known, unknown = placeholders_in(body)
    if unknown:
        messages.warning(
            request,
            _("These are not placeholders and will stay as written: %(names)s.")
            % {"names": ", ".join("{" + name + "}" for name in unknown)},
        )


@staff_required
@require_http_methods(["GET", "POST"])
def templates(request: HttpRequest, pk: int) -> HttpResponse:
    institution = _institution_or_404(request, pk, InstitutionAction.MANAGE)
    form = TemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            template = follow_up_template_create(
                institution=institution,
                name=form.cleaned_data["name"],
                body=form.cleaned_data["body"],
                actor=_user(request),
            )
        except InstitutionError as error:
            _institution_error(form, error)
        else:
            messages.success(request, _("The template %(name)s is saved.") % {"name": template.name})
            _unknown_placeholders_notice(request, template.body)
            return redirect("console:manage_templates", pk=institution.pk)
    offered = list(follow_up_templates_for(institution))
    context = _institution_context(request, institution)
    context.update(
        {
            "own_templates": [template for template in offered if template.institution_id == institution.pk],
            "inherited_templates": [template for template in offered if template.institution_id != institution.pk],
            "form": form,
            "placeholders": _placeholder_help(),
        }
    )
    return render(request, "console/manage/templates.html", context, status=400 if form.errors else 200)


@staff_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template_or_404(request, pk)
    form = TemplateForm(request.POST or None, initial={"name": template.name, "body": template.body})
    if request.method == "POST" and form.is_valid():
        try:
            follow_up_template_update(
                template=template,
                name=form.cleaned_data["name"],
                body=form.cleaned_data["body"],
                actor=_user(request),
            )
        except InstitutionError as error:
            _institution_error(form, error)
        else:
            messages.success(request, _("The template %(name)s is saved.") % {"name": template.name})
            _unknown_placeholders_notice(request, template.body)
            return redirect("console:manage_templates", pk=template.institution_id)
    context = _institution_context(request, template.institution)
    context.update({"template": template, "form": form, "placeholders": _placeholder_help()})
    return render(request, "console/manage/template_form.html", context, status=400 if form.errors else 200)


@staff_required
@require_POST
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template_or_404(request, pk)
    follow_up_template_delete(template=template, actor=_user(request))
    messages.success(request, _("The template %(name)s is deleted.") % {"name": template.name})
    return redirect("console:manage_templates", pk=template.institution_id)


# --- categories handled --------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def categories(request: HttpRequest, pk: int) -> HttpResponse:
    institution = _institution_or_404(request, pk, InstitutionAction.MANAGE)
    may_edit = _may_edit(request, institution)
    if request.method == "POST" and not may_edit:
        raise Http404
    tree = category_tree()
    handled = institution_category_codes(institution)
    choices = [(category.code, category.localized_name) for category in tree]
    form = CategoriesForm(request.POST or None, choices=choices, initial={"categories": sorted(handled)})
    if request.method == "POST" and form.is_valid():
        try:
            institution_set_categories(
                institution=institution, category_codes=form.cleaned_data["categories"], actor=_user(request)
            )
        except InstitutionError as error:
            _institution_error(form, error, fields={"codes": "categories"})
        else:
            messages.success(request, _("The categories handled are saved."))
            return redirect("console:manage_categories", pk=institution.pk)
    context = _institution_context(request, institution)
    context.update(
        {
            "form": form,
            "tree": tree,
            "handled": handled if request.method == "GET" else set(request.POST.getlist("categories")),
            "may_edit": may_edit,
        }
    )
    return render(request, "console/manage/categories.html", context, status=400 if form.errors else 200)


urlpatterns: list[URLPattern] = [
    path("instansi/", manage, name="manage"),
    path("instansi/<int:pk>/", institution_page, name="manage_institution"),
    path("instansi/<int:pk>/unit-baru/", unit_create, name="manage_unit_create"),
    path("instansi/<int:pk>/ubah-nama/", unit_rename, name="manage_unit_rename"),
    path("instansi/<int:pk>/status/", unit_activation, name="manage_unit_activation"),
    path("instansi/<int:pk>/staf/", staff, name="manage_staff"),
    path("instansi/<int:pk>/staf/undang/", staff_invite, name="manage_staff_invite"),
    path("instansi/keanggotaan/<int:pk>/akhiri/", membership_end, name="manage_membership_revoke"),
    path("instansi/keanggotaan/<int:pk>/peran/", membership_role, name="manage_membership_role"),
    path("instansi/keanggotaan/<int:pk>/buka-kunci/", membership_unlock, name="manage_membership_unlock"),
    path("instansi/<int:pk>/tenggat/", deadlines, name="manage_deadlines"),
    path("instansi/<int:pk>/tenggat/hapus/", deadline_remove, name="manage_deadline_remove"),
    path("instansi/<int:pk>/templat/", templates, name="manage_templates"),
    path("instansi/templat/<int:pk>/", template_edit, name="manage_template_edit"),
    path("instansi/templat/<int:pk>/hapus/", template_delete, name="manage_template_delete"),
    path("instansi/<int:pk>/kategori/", categories, name="manage_categories"),
]
