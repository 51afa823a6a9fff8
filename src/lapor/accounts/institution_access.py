"""The one door to institutions, their follow-up templates and deadline overrides: who manages which.

Faces (the console's management pages, an API) find these objects only through the ``visible_*``
querysets and the ``access_*`` functions here, and change them only through
``lapor.accounts.administration``, which asks the same question again of the acting user (``actor=``)
before it calls the plain service of ``lapor.institutions.services`` that makes the change and records
it. The door lives in accounts, not in institutions, because it reads memberships and permissions:
accounts builds on institutions, and institutions imports nothing from accounts (the import contracts
in pyproject.toml). Who may do what is read from ``lapor.accounts.permissions`` for the institution
concerned, each time:

- VIEW (its management pages): any ``*:institution:manage``, ``*:deadline:manage`` or ``*:user:manage``
  permission that reaches it (a coordinator's reaches the institution it coordinates and everything
  below it, through the materialised path);
- MANAGE (create units below it, its templates): ``*:institution:manage`` reaching it;
- EDIT (rename, (de)activate, its area and categories): ``subtree:institution:manage`` reaching its
  *parent* (a coordinator edits "the institutions below it": it never closes or reshapes its own
  institution, which would also lock itself out), or the national admin;
- RESHAPE (code, kind, sector, national coverage, time zone, place in the tree at the top): the national
  admin alone;
- MANAGE_STAFF, MANAGE_DEADLINES: ``*:user:manage``, ``*:deadline:manage`` reaching it.

Liaison officers, oversight, citizens and anonymous visitors manage nothing, and a web session without
the second factor proven manages nothing either (`lapor.accounts.access.second_factor_proven`). An
object outside one's reach is UNKNOWN_* exactly as one that does not exist, so that nothing tells
whether it exists.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from enum import StrEnum
from functools import reduce
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from lapor.accounts.access import acting_staff
from lapor.accounts.models import Membership
from lapor.accounts.permissions import ROLE_PERMISSIONS, Permission, Scope, permissions_at
from lapor.core.tree import subtree_q
from lapor.institutions.choices import InstitutionKind
from lapor.institutions.errors import InstitutionError, InstitutionErrorCode
from lapor.institutions.models import DeadlineOverride, FollowUpTemplate, Institution


class InstitutionAction(StrEnum):
    VIEW = "view"
    MANAGE = "manage"
    EDIT = "edit"
    RESHAPE = "reshape"
    MANAGE_STAFF = "manage_staff"
    MANAGE_DEADLINES = "manage_deadlines"


# Each group: the national permission and the subtree one that stands for it within a subtree.
MANAGE_INSTITUTIONS = (Permission.NATIONAL_INSTITUTION_MANAGE, Permission.SUBTREE_INSTITUTION_MANAGE)
MANAGE_USERS = (Permission.NATIONAL_USER_MANAGE, Permission.SUBTREE_USER_MANAGE)
MANAGE_DEADLINES = (Permission.NATIONAL_INSTITUTION_MANAGE, Permission.SUBTREE_DEADLINE_MANAGE)
MANAGE_ANYTHING = (*MANAGE_INSTITUTIONS, *MANAGE_USERS, Permission.SUBTREE_DEADLINE_MANAGE)
# The roles whose memberships open the management pages; their subtree permissions say how far.
MANAGING_ROLES = frozenset(
    role
    for role, granted in ROLE_PERMISSIONS.items()
    if any(permission.scope is Scope.SUBTREE for permission in granted & set(MANAGE_ANYTHING))
)
_NATIONAL_ROLES = frozenset(
    role
    for role, granted in ROLE_PERMISSIONS.items()
    if any(permission.scope is Scope.NATIONAL for permission in granted & set(MANAGE_ANYTHING))
)
# The kinds a coordinator creates below its institution; the national admin may create any kind.
UNIT_KINDS = (
    InstitutionKind.REGIONAL_UNIT,
    InstitutionKind.WORK_UNIT,
    InstitutionKind.DISTRICT,
    InstitutionKind.VILLAGE,
)
_ACTION_PERMISSIONS: dict[InstitutionAction, tuple[Permission, ...]] = {
    InstitutionAction.VIEW: MANAGE_ANYTHING,
    InstitutionAction.MANAGE: MANAGE_INSTITUTIONS,
    InstitutionAction.RESHAPE: (Permission.NATIONAL_INSTITUTION_MANAGE,),
    InstitutionAction.MANAGE_STAFF: MANAGE_USERS,
    InstitutionAction.MANAGE_DEADLINES: MANAGE_DEADLINES,
}


class InstitutionGuard:
    """One user's answers, asked once per institution: a face keeps one for a request."""

    def __init__(self, user: Any, *, memberships: Iterable[tuple[int, str, str]] | None = None) -> None:
        """``memberships``: the user's active memberships as (institution id, path, role), when the
        caller has read them already (the console's staff scope); otherwise read when needed."""
        self.user = user
        self.staff = acting_staff(user)
        self._reaching: dict[int, frozenset[Permission]] = {}
        self._managed_paths: list[str] | None = None
        self._national: bool | None = None
        if memberships is not None and self.staff is not None:
            known = list(memberships)
            self._managed_paths = sorted({path for _pk, path, role in known if role in MANAGING_ROLES})
            self._national = any(role in _NATIONAL_ROLES for _pk, _path, role in known)

    def permissions(self, institution: Institution) -> frozenset[Permission]:
        """The user's permissions that reach ``institution`` (one query, then remembered)."""
        if self.staff is None:
            return frozenset()
        if institution.pk not in self._reaching:
            self._reaching[institution.pk] = permissions_at(self.staff, institution)
        return self._reaching[institution.pk]

    def may_any(self, permissions: Iterable[Permission], institution: Institution) -> bool:
        return not self.permissions(institution).isdisjoint(permissions)

    def allows(self, institution: Institution, action: InstitutionAction) -> bool:
        if action is InstitutionAction.EDIT:
            if Permission.NATIONAL_INSTITUTION_MANAGE in self.permissions(institution):
                return True
            parent = institution.parent
            return isinstance(parent, Institution) and self.may_any([Permission.SUBTREE_INSTITUTION_MANAGE], parent)
        return self.may_any(_ACTION_PERMISSIONS[action], institution)

    def is_national(self) -> bool:
        """Whether the user manages institutions nationally (the national admin)."""
        if self._national is None:
            self._national = (
                self.staff is not None
                and Membership.objects.filter(
                    user=self.staff, is_active=True, institution__is_active=True, role__in=sorted(_NATIONAL_ROLES)
                ).exists()
            )
        return self._national

    def managed_paths(self) -> list[str]:
        """The paths of the institutions whose subtree the user manages through a membership."""
        if self._managed_paths is None:
            self._managed_paths = (
                []
                if self.staff is None
                else sorted(
                    set(
                        Membership.objects.filter(
                            user=self.staff,
                            is_active=True,
                            institution__is_active=True,
                            role__in=sorted(MANAGING_ROLES),
                        ).values_list("institution__path", flat=True)
                    )
                )
            )
        return self._managed_paths

    def creatable_kinds(self, parent: Institution) -> tuple[str, ...]:
        """The kinds of unit the user may create below ``parent`` (none when it may not create any)."""
        if not self.allows(parent, InstitutionAction.MANAGE):
            return ()
        if Permission.NATIONAL_INSTITUTION_MANAGE in self.permissions(parent):
            return tuple(InstitutionKind.values)
        return tuple(kind.value for kind in UNIT_KINDS)


def _reach_q(guard: InstitutionGuard, *, field: str) -> Q | None:
    if guard.staff is None:
        return None
    if guard.is_national():
        return Q()
    paths = guard.managed_paths()
    if not paths:
        return None
    return reduce(operator.or_, (subtree_q(path, field=field) for path in paths))


def visible_institutions(user: Any, *, guard: InstitutionGuard | None = None) -> QuerySet[Institution]:
    """The institutions whose management pages ``user`` may open (VIEW)."""
    condition = _reach_q(guard or InstitutionGuard(user), field="path")
    return Institution.objects.none() if condition is None else Institution.objects.filter(condition)


def visible_follow_up_templates(user: Any, *, guard: InstitutionGuard | None = None) -> QuerySet[FollowUpTemplate]:
    """The follow-up templates ``user`` may manage (of an institution it may VIEW)."""
    condition = _reach_q(guard or InstitutionGuard(user), field="institution__path")
    return FollowUpTemplate.objects.none() if condition is None else FollowUpTemplate.objects.filter(condition)


def visible_deadline_overrides(user: Any, *, guard: InstitutionGuard | None = None) -> QuerySet[DeadlineOverride]:
    """The deadline overrides of the institutions ``user`` may VIEW."""
    condition = _reach_q(guard or InstitutionGuard(user), field="institution__path")
    return DeadlineOverride.objects.none() if condition is None else DeadlineOverride.objects.filter(condition)


def access_institution(
    user: Any, institution_id: int, action: InstitutionAction, *, guard: InstitutionGuard | None = None
) -> Institution:
    """The institution (with its parent) if ``user`` may take ``action`` on it; otherwise
    InstitutionError(UNKNOWN_INSTITUTION), as for one that does not exist."""
    guard = guard or InstitutionGuard(user)
    institution = (
        None if guard.staff is None else Institution.objects.select_related("parent").filter(pk=institution_id).first()
    )
    if institution is None or not guard.allows(institution, action):
        raise InstitutionError(InstitutionErrorCode.UNKNOWN_INSTITUTION, _("The institution does not exist."))
    return institution


def access_follow_up_template(
    user: Any, template_id: int, *, guard: InstitutionGuard | None = None
) -> FollowUpTemplate:
    """The template (with its institution) if ``user`` may change it (MANAGE its institution);
    otherwise InstitutionError(UNKNOWN_TEMPLATE), as for one that does not exist."""
    guard = guard or InstitutionGuard(user)
    template = (
        None
        if guard.staff is None
        else FollowUpTemplate.objects.select_related("institution__parent").filter(pk=template_id).first()
    )
    if template is None or not guard.allows(template.institution, InstitutionAction.MANAGE):
        raise InstitutionError(InstitutionErrorCode.UNKNOWN_TEMPLATE, _("The template does not exist."))
    return template
