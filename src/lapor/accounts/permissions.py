"""Named permissions, the one table that gives them to roles, and the questions asked of them.

A permission is ``<scope>:<resource>:<action>``. The scope says which institutions a membership's
permission reaches, counted from the institution the membership is held at:

==========  ============================================================================
scope       reaches
==========  ============================================================================
national    every institution (the membership's own institution does not matter)
subtree     the membership's institution and every institution below it
unit        the membership's institution only
oversight   like subtree, read-type actions only; an oversight membership is held at the
            institution *overseen* (e.g. the national root for Ombudsman RI, a province
            for its regional Ombudsman office), not at the overseer's own office
==========  ============================================================================

ROLE_SCOPES gives each role the scope its memberships reach (a role's permissions are all of that
scope); ROLE_PERMISSIONS, the only place roles get permissions (N = national admin, C = institution
coordinator, L = liaison officer, O = oversight)::

    permission                      N  C  L  O   what it allows
    national:institution:manage     x            edit the institution tree
    national:user:manage            x            manage any account and grant any membership
    national:calendar:manage        x            override public holidays and cuti bersama
    national:statistics:read        x            national statistics and scorecards
    subtree:user:manage                x         manage accounts and memberships of the subtree
    subtree:institution:manage         x         edit the institutions below it
    subtree:deadline:manage            x         monitor and extend deadlines in the subtree
    subtree:statistics:read            x         statistics of the subtree
    oversight:statistics:read                x   statistics and scorecards in scope
    oversight:referral:accept                x   take over a case unresolved after 60 days (Ombudsman)

What may be done to a report is not a permission here: it has one vocabulary, the workflow table
(``lapor.reports.workflow``: which capacity may take which action in which status), and one place
that gives capacities from memberships, the access layer (``lapor.reports.access.capacities``: a
coordinator over the report's owner, an officer of a unit it was forwarded to, a copy holder,
oversight). A liaison officer's role thus has no permission of its own: its unit scope is what
``roles_for`` reaches.

Superusers get no permission here: see ``has_any_permission``. Nothing is cached, so a revoked
membership stops working on the next check.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import reduce

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from lapor.accounts.choices import Role
from lapor.accounts.models import Membership, User
from lapor.institutions.models import Institution

# Institutions' materialised paths are made of fixed-width steps, one per level ("0001", "00010003").
INSTITUTION_PATH_STEP = 4


class Scope(StrEnum):
    NATIONAL = "national"
    SUBTREE = "subtree"
    UNIT = "unit"
    OVERSIGHT = "oversight"


class Permission(StrEnum):
    NATIONAL_INSTITUTION_MANAGE = "national:institution:manage"
    NATIONAL_USER_MANAGE = "national:user:manage"
    NATIONAL_CALENDAR_MANAGE = "national:calendar:manage"
    NATIONAL_STATISTICS_READ = "national:statistics:read"

    SUBTREE_USER_MANAGE = "subtree:user:manage"
    SUBTREE_INSTITUTION_MANAGE = "subtree:institution:manage"
    SUBTREE_DEADLINE_MANAGE = "subtree:deadline:manage"
    SUBTREE_STATISTICS_READ = "subtree:statistics:read"

    OVERSIGHT_STATISTICS_READ = "oversight:statistics:read"
    OVERSIGHT_REFERRAL_ACCEPT = "oversight:referral:accept"

    @property
    def scope(self) -> Scope:
        return Scope(self.value.split(":", 1)[0])

    @property
    def resource(self) -> str:
        return self.value.split(":")[1]

    @property
    def action(self) -> str:
        return self.value.split(":")[2]


def _with_scope(scope: Scope) -> frozenset[Permission]:
    return frozenset(permission for permission in Permission if permission.scope is scope)


# How far each role's memberships reach, counted from the institution they are held at.
ROLE_SCOPES: Mapping[Role, Scope] = {
    Role.NATIONAL_ADMIN: Scope.NATIONAL,
    Role.COORDINATOR: Scope.SUBTREE,
    Role.LIAISON_OFFICER: Scope.UNIT,
    Role.OVERSIGHT: Scope.OVERSIGHT,
}

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    role: _with_scope(scope) for role, scope in ROLE_SCOPES.items()
}


def paths_to_root(path: str) -> list[str]:
    """The paths of an institution and all its ancestors: the prefixes of its path, step by step."""
    if not path or len(path) % INSTITUTION_PATH_STEP:
        raise ValueError(f"{path!r} is not a materialised institution path.")
    return [path[:end] for end in range(INSTITUTION_PATH_STEP, len(path) + 1, INSTITUTION_PATH_STEP)]


def _grants(permissions: Iterable[Permission]) -> set[tuple[Role, Scope]]:
    wanted = frozenset(permissions)
    return {(role, permission.scope) for role, granted in ROLE_PERMISSIONS.items() for permission in granted & wanted}


def _reach(grants: set[tuple[Role, Scope]], institution: Institution | None) -> Q:
    """Memberships whose role grants one of the (role, scope) pairs and whose scope reaches ``institution``."""
    roles_by_scope: dict[Scope, set[Role]] = {}
    for role, scope in grants:
        roles_by_scope.setdefault(scope, set()).add(role)
    conditions = []
    for scope, roles in sorted(roles_by_scope.items()):
        if scope is Scope.NATIONAL:
            conditions.append(Q(role__in=sorted(roles)))
            continue
        if institution is None:
            raise ValueError(f"A {scope} permission is held at an institution: pass institution=.")
        if scope is Scope.UNIT:
            conditions.append(Q(role__in=sorted(roles), institution_id=institution.pk))
        else:
            conditions.append(Q(role__in=sorted(roles), institution__path__in=paths_to_root(institution.path)))
    return reduce(operator.or_, conditions)


def _active_user(user: AbstractBaseUser | AnonymousUser) -> User | None:
    if isinstance(user, User) and user.pk is not None and user.is_active:
        return user
    return None


def has_any_permission(
    user: AbstractBaseUser | AnonymousUser, permissions: Iterable[Permission], *, institution: Institution | None = None
) -> bool:
    """Whether one of ``permissions`` reaches ``institution`` through the user's active memberships.

    One query. ``institution`` may be left out only when every permission asked is national.
    """
    grants = _grants(permissions)
    if not grants:
        return False
    condition = _reach(grants, institution)
    # Superusers get no workflow permission implicitly, only the Django admin: every act on a
    # report must be attributable to someone acting for an institution through a granted role,
    # so an operator who needs to act is given a membership, which is recorded and revocable.
    active = _active_user(user)
    if active is None:
        return False
    return (
        Membership.objects.filter(user_id=active.pk, is_active=True, institution__is_active=True)
        .filter(condition)
        .exists()
    )


def has_permission(
    user: AbstractBaseUser | AnonymousUser, permission: Permission, *, institution: Institution | None = None
) -> bool:
    """Whether ``permission`` reaches ``institution`` through the user's active memberships (one query).

    National permissions need no institution; the others raise ValueError without one.
    """
    return has_any_permission(user, [permission], institution=institution)


def roles_for(user: AbstractBaseUser | AnonymousUser, institution: Institution) -> frozenset[Role]:
    """The roles the user acts in at ``institution``: those of active memberships whose scope reaches it."""
    condition = _reach(set(ROLE_SCOPES.items()), institution)
    active = _active_user(user)
    if active is None:
        return frozenset()
    memberships = Membership.objects.filter(user_id=active.pk, is_active=True, institution__is_active=True).filter(
        condition
    )
    return frozenset(Role(role) for role in memberships.values_list("role", flat=True))


def permissions_of(user: AbstractBaseUser | AnonymousUser) -> set[tuple[Permission, int]]:
    """Every (permission, institution id the membership is held at) of the user's active memberships.

    One query; the scope of each permission says how far from that institution it reaches.
    """
    active = _active_user(user)
    if active is None:
        return set()
    memberships = Membership.objects.filter(user_id=active.pk, is_active=True, institution__is_active=True).values_list(
        "role", "institution_id"
    )
    return {
        (permission, institution_id)
        for role, institution_id in memberships
        for permission in ROLE_PERMISSIONS.get(Role(role), frozenset())
    }


def permissions_at(user: AbstractBaseUser | AnonymousUser, institution: Institution) -> frozenset[Permission]:
    """Every permission that reaches ``institution`` through the user's active memberships (one query):
    `has_permission`'s answer for all permissions at once, for pages that ask several."""
    active = _active_user(user)
    if active is None:
        return frozenset()
    condition = _reach(_grants(Permission), institution)
    memberships = (
        Membership.objects.filter(user_id=active.pk, is_active=True, institution__is_active=True)
        .filter(condition)
        .values_list("role", "institution_id")
    )
    found: set[Permission] = set()
    for role, institution_id in memberships:
        for permission in ROLE_PERMISSIONS.get(Role(role), frozenset()):
            # The query found memberships that reach through *some* scope of their role; a unit
            # permission reaches only the membership's own institution.
            if permission.scope is not Scope.UNIT or institution_id == institution.pk:
                found.add(permission)
    return frozenset(found)


# The roles a coordinator may give in its subtree; the national admin gives every role.
SUBTREE_GRANTABLE_ROLES: frozenset[Role] = frozenset({Role.COORDINATOR, Role.LIAISON_OFFICER})


def grantable_roles(user: AbstractBaseUser | AnonymousUser, institution: Institution) -> frozenset[Role]:
    """The roles ``user`` may give, change or take away at ``institution`` (one query).

    Every role with ``national:user:manage``; coordinator and liaison officer with
    ``subtree:user:manage`` reaching the institution (never national admin or oversight, which only the
    national admin grants); none otherwise. A membership whose role is not in the set is not the
    user's to change either.
    """
    permissions = permissions_at(user, institution)
    if Permission.NATIONAL_USER_MANAGE in permissions:
        return frozenset(Role)
    if Permission.SUBTREE_USER_MANAGE in permissions:
        return SUBTREE_GRANTABLE_ROLES
    return frozenset()
