"""Administrative changes made by a user: units, their area and categories, deadline overrides and
follow-up templates, checked through the door and recorded in the institution's trail.

Each function here takes the acting user as ``actor`` (required), asks the door
(`lapor.accounts.institution_access`) whether it may make the change (a refusal is the door's UNKNOWN_*
error, as for an object that does not exist, or INVALID_CHOICE for a kind of unit it may not create),
and then calls the service of the same name in `lapor.institutions.services`, which makes the change
and names ``actor`` in the `AdministrativeEvent` it appends, in the same transaction. The check lives
here, not in institutions, because it reads memberships and permissions: accounts builds on
institutions, and institutions imports nothing from accounts. Faces (the console, an API) call these
functions; the import contracts in pyproject.toml keep them from calling the unchecked services.
Memberships are changed through `lapor.accounts.services`, whose functions check their own ``actor``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from lapor.accounts.institution_access import (
    InstitutionAction,
    InstitutionGuard,
    access_follow_up_template,
    access_institution,
)
from lapor.accounts.models import User
from lapor.institutions import services
from lapor.institutions.choices import Sector
from lapor.institutions.errors import InstitutionError, InstitutionErrorCode
from lapor.institutions.models import DeadlineOverride, FollowUpTemplate, Institution
from lapor.institutions.services import UNCHANGED, _Unchanged


def _unknown_parent() -> InstitutionError:
    return InstitutionError(InstitutionErrorCode.UNKNOWN_PARENT, _("The parent institution does not exist."))


# --- institutions ---------------------------------------------------------------------------------


@transaction.atomic
def institution_create(
    *,
    actor: User,
    name: str,
    kind: str,
    parent: Institution | None = None,
    sector: str = Sector.GENERAL,
    short_name: str = "",
    code: str = "",
    is_active: bool = True,
    covers_nationally: bool = False,
    handles_all_categories: bool = False,
    time_zone: str = "",
    region_codes: Iterable[str] = (),
    category_codes: Iterable[str] = (),
) -> Institution:
    """`services.institution_create` for ``actor``, who must MANAGE ``parent`` and may create only the
    kinds it is allowed there (a coordinator: units); only the national admin creates a root. The
    unit's area and categories, given here, need no further check: who creates a unit may EDIT it."""
    guard = InstitutionGuard(actor)
    if parent is None:
        if not guard.is_national():
            raise _unknown_parent()
    else:
        parent = access_institution(actor, parent.pk, InstitutionAction.MANAGE, guard=guard)
        if kind not in guard.creatable_kinds(parent):
            raise InstitutionError(
                InstitutionErrorCode.INVALID_CHOICE,
                _("%(value)r is not a valid %(field)s.") % {"value": kind, "field": "kind"},
                field="kind",
                value=kind,
            )
    return services.institution_create(
        name=name,
        kind=kind,
        parent=parent,
        sector=sector,
        short_name=short_name,
        code=code,
        is_active=is_active,
        covers_nationally=covers_nationally,
        handles_all_categories=handles_all_categories,
        time_zone=time_zone,
        region_codes=region_codes,
        category_codes=category_codes,
        actor=actor,
    )


@transaction.atomic
def institution_update(
    *,
    actor: User,
    institution: Institution,
    name: str | _Unchanged = UNCHANGED,
    short_name: str | _Unchanged = UNCHANGED,
    code: str | _Unchanged = UNCHANGED,
    kind: str | _Unchanged = UNCHANGED,
    sector: str | _Unchanged = UNCHANGED,
    is_active: bool | _Unchanged = UNCHANGED,
    covers_nationally: bool | _Unchanged = UNCHANGED,
    handles_all_categories: bool | _Unchanged = UNCHANGED,
    time_zone: str | _Unchanged = UNCHANGED,
) -> Institution:
    """`services.institution_update` for ``actor``, who must EDIT the institution for its name, short
    name and activity, and RESHAPE it for anything else."""
    reshaping = any(
        not isinstance(value, _Unchanged)
        for value in (code, kind, sector, covers_nationally, handles_all_categories, time_zone)
    )
    access_institution(actor, institution.pk, InstitutionAction.RESHAPE if reshaping else InstitutionAction.EDIT)
    return services.institution_update(
        institution=institution,
        name=name,
        short_name=short_name,
        code=code,
        kind=kind,
        sector=sector,
        is_active=is_active,
        covers_nationally=covers_nationally,
        handles_all_categories=handles_all_categories,
        time_zone=time_zone,
        actor=actor,
    )


@transaction.atomic
def institution_move(*, actor: User, institution: Institution, new_parent: Institution | None) -> Institution:
    """`services.institution_move` for ``actor``, who must EDIT the institution and MANAGE its new
    parent; only the national admin makes a root."""
    if new_parent is not None and new_parent.pk is None:
        raise _unknown_parent()
    guard = InstitutionGuard(actor)
    access_institution(actor, institution.pk, InstitutionAction.EDIT, guard=guard)
    if new_parent is not None:
        access_institution(actor, new_parent.pk, InstitutionAction.MANAGE, guard=guard)
    elif not guard.is_national():
        raise _unknown_parent()
    return services.institution_move(institution=institution, new_parent=new_parent, actor=actor)


@transaction.atomic
def institution_set_coverage(*, actor: User, institution: Institution, region_codes: Iterable[str]) -> list[str]:
    """`services.institution_set_coverage` for ``actor``, who must EDIT the institution."""
    access_institution(actor, institution.pk, InstitutionAction.EDIT)
    return services.institution_set_coverage(institution=institution, region_codes=region_codes, actor=actor)


@transaction.atomic
def institution_set_categories(*, actor: User, institution: Institution, category_codes: Iterable[str]) -> list[str]:
    """`services.institution_set_categories` for ``actor``, who must EDIT the institution."""
    access_institution(actor, institution.pk, InstitutionAction.EDIT)
    return services.institution_set_categories(institution=institution, category_codes=category_codes, actor=actor)


# --- deadline overrides ---------------------------------------------------------------------------


@transaction.atomic
def deadline_override_set(
    *, actor: User, institution: Institution, clock: str, amount: int, unit: str, basis: str = ""
) -> DeadlineOverride:
    """`services.deadline_override_set` for ``actor``, who must MANAGE_DEADLINES of the institution."""
    access_institution(actor, institution.pk, InstitutionAction.MANAGE_DEADLINES)
    return services.deadline_override_set(
        institution=institution, clock=clock, amount=amount, unit=unit, basis=basis, actor=actor
    )


@transaction.atomic
def deadline_override_remove(*, actor: User, institution: Institution, clock: str) -> bool:
    """`services.deadline_override_remove` for ``actor``, who must MANAGE_DEADLINES of the institution."""
    access_institution(actor, institution.pk, InstitutionAction.MANAGE_DEADLINES)
    return services.deadline_override_remove(institution=institution, clock=clock, actor=actor)


# --- follow-up templates ---------------------------------------------------------------------------


@transaction.atomic
def follow_up_template_create(*, actor: User, institution: Institution, name: str, body: str) -> FollowUpTemplate:
    """`services.follow_up_template_create` for ``actor``, who must MANAGE the institution."""
    access_institution(actor, institution.pk, InstitutionAction.MANAGE)
    return services.follow_up_template_create(institution=institution, name=name, body=body, actor=actor)


@transaction.atomic
def follow_up_template_update(
    *,
    actor: User,
    template: FollowUpTemplate,
    name: str | _Unchanged = UNCHANGED,
    body: str | _Unchanged = UNCHANGED,
) -> FollowUpTemplate:
    """`services.follow_up_template_update` for ``actor``, who must MANAGE the template's institution."""
    access_follow_up_template(actor, template.pk)
    return services.follow_up_template_update(template=template, name=name, body=body, actor=actor)


@transaction.atomic
def follow_up_template_delete(*, actor: User, template: FollowUpTemplate) -> bool:
    """`services.follow_up_template_delete` for ``actor``, who must MANAGE the template's institution."""
    access_follow_up_template(actor, template.pk)
    return services.follow_up_template_delete(template=template, actor=actor)
