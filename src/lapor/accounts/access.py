"""The one door to memberships: whose staff someone manages, and which membership they may change.

Faces (the console, an API) read and change memberships only through `visible_memberships` and
`access_membership`; the administrative services ask the same questions again of the acting user
(``actor=``), so that no door is left without a guard. The rules:

- The national admin (``national:user:manage``) manages every membership and gives every role.
- A coordinator (``subtree:user:manage``) manages the memberships of its institution and of every
  institution below it, and gives, changes and takes away only the coordinator and liaison officer
  roles there (``permissions.grantable_roles``): a national admin's or an oversight membership in its
  subtree is the national admin's alone.
- Nobody changes their own membership (another coordinator does), so that nobody locks themselves out
  or raises their own role.
- Everyone else (liaison officers, oversight, citizens, anonymous visitors) manages nobody.
- Anything done in an institution's capacity needs the second factor proven in a web session
  (`second_factor_proven`): a password-only session manages nobody.

A membership outside what the user manages is NOT_FOUND, exactly as one that does not exist, so that
nothing tells whether it exists.
"""

from __future__ import annotations

import operator
from enum import StrEnum
from functools import reduce
from typing import Any

from django.db.models import Q, QuerySet

from lapor.accounts.choices import Role
from lapor.accounts.errors import AccountError, AccountErrorCode
from lapor.accounts.models import Membership, User
from lapor.accounts.permissions import ROLE_PERMISSIONS, Permission, grantable_roles
from lapor.core.tree import subtree_q


class MembershipAction(StrEnum):
    """What someone does to a membership (reading it is `access_membership` without an action)."""

    CHANGE_ROLE = "change_role"
    REVOKE = "revoke"
    # Lift the console sign-in lock of the membership's holder.
    UNLOCK = "unlock"


_USER_MANAGING_ROLES = {
    Permission.NATIONAL_USER_MANAGE: frozenset(
        role for role, granted in ROLE_PERMISSIONS.items() if Permission.NATIONAL_USER_MANAGE in granted
    ),
    Permission.SUBTREE_USER_MANAGE: frozenset(
        role for role, granted in ROLE_PERMISSIONS.items() if Permission.SUBTREE_USER_MANAGE in granted
    ),
}


def second_factor_proven(user: Any) -> bool:
    """Whether ``user`` may act and read in an institution's capacity: the one check, for portal and console.

    A user of a web request carries django-otp's ``is_verified`` (OTPMiddleware runs on every request),
    which is true only once the console's sign-in proved the password and then a second factor in this
    session. A password alone (the portal's sign-in, or the console's first step) is not enough: such a
    session holds no staff scope and acts only as the private citizen it also is. A user object without
    that marker did not come from a web session (a task, the command line) and is trusted as its caller
    decides."""
    verified = getattr(user, "is_verified", None)
    if verified is None:
        return True
    return bool(callable(verified) and verified())


def acting_staff(user: Any) -> User | None:
    """``user`` when it may act for an institution at all (an active account, second factor proven)."""
    if not isinstance(user, User) or user.pk is None or not user.is_active or not second_factor_proven(user):
        return None
    return user


def _not_found() -> AccountError:
    return AccountError(AccountErrorCode.MEMBERSHIP_NOT_FOUND)


def managed_institutions_q(user: Any, *, field: str = "path") -> Q | None:
    """The institutions whose staff ``user`` manages, as a condition on ``field`` (an institution's
    path); ``Q()`` (everything) for the national admin, None for nobody. One query."""
    staff = acting_staff(user)
    if staff is None:
        return None
    rows = list(
        Membership.objects.filter(user=staff, is_active=True, institution__is_active=True).values_list(
            "role", "institution__path"
        )
    )
    if any(role in _USER_MANAGING_ROLES[Permission.NATIONAL_USER_MANAGE] for role, _path in rows):
        return Q()
    paths = sorted({path for role, path in rows if role in _USER_MANAGING_ROLES[Permission.SUBTREE_USER_MANAGE]})
    if not paths:
        return None
    return reduce(operator.or_, (subtree_q(path, field=field) for path in paths))


def visible_memberships(user: Any) -> QuerySet[Membership]:
    """Every membership (active, pending or ended) ``user`` manages: held at an institution whose staff
    the user manages."""
    condition = managed_institutions_q(user, field="institution__path")
    if condition is None:
        return Membership.objects.none()
    return Membership.objects.filter(condition)


def access_membership(user: Any, membership_id: int, action: MembershipAction | None = None) -> Membership:
    """The membership (with its user and institution) if ``user`` manages it, and may take ``action``
    on it; otherwise an AccountError: MEMBERSHIP_NOT_FOUND for one out of reach or of a role the user
    does not give there, OWN_MEMBERSHIP for a change of one's own."""
    membership = (
        visible_memberships(user).select_related("user", "institution__parent").filter(pk=membership_id).first()
    )
    if membership is None:
        raise _not_found()
    if action is None:
        return membership
    if Role(membership.role) not in grantable_roles(user, membership.institution):
        raise _not_found()
    if membership.user_id == user.pk:
        raise AccountError(AccountErrorCode.OWN_MEMBERSHIP)
    if action is MembershipAction.UNLOCK and not membership.is_active:
        raise _not_found()
    return membership


def check_may_grant(user: Any, institution: Any, role: Role | str) -> None:
    """Refuses (ROLE_NOT_GRANTABLE) a grant or an invitation of ``role`` at ``institution`` that ``user``
    may not give."""
    if acting_staff(user) is None or Role(role) not in grantable_roles(user, institution):
        raise AccountError(AccountErrorCode.ROLE_NOT_GRANTABLE)
