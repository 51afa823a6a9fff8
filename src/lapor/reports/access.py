"""The one door to reports: who may see which report, and in which capacity someone acts on one.

Every read of a report by a face (portal, console, API, exports) goes through `visible_reports` or
`access_report`; the rules of privacy live here and nowhere else:

- The public sees only published reports: verified and dispatched, and never confidential ones.
- A reporter sees their own reports, whatever their state.
- The national admin sees every report (it verifies them all).
- Staff see what their institution owns, what was forwarded to their unit and what their
  institution holds a copy of; coordinators also see what institutions below theirs own, except
  confidential reports, which only the owner, its assigned units, the copies and the national admin see.
- Oversight (pengawas: Ombudsman RI, KSP, Kemendagri, KemenPANRB) reads within its reach and never
  handles a report for the institution it sits in (docs/adr/0008-oversight-reach.md). The reach of an
  oversight membership in an oversight body (an institution of kind OVERSIGHT) is the subtree of the
  body's parent: the body sits beside the institutions it oversees, as Ombudsman RI and KSP sit under
  the national root. An oversight membership in any other institution reaches that institution's
  subtree. Within its reach oversight reads non-confidential reports, without their reporter; a
  confidential report, and who filed it, only once its own oversight body owns the report (the
  Ombudsman took the case over with the reporter's consent, `services.report_refer`).
- An anonymous reporter's identity is shown to nobody but the reporter (see `reporter_identity`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import CharField, Q, QuerySet, Value
from django.utils.translation import gettext_lazy as _

from lapor.accounts.access import second_factor_proven
from lapor.accounts.choices import Role
from lapor.accounts.identifiers import normalize_phone
from lapor.accounts.models import Membership
from lapor.core.tree import STEP_LENGTH, subtree_q
from lapor.institutions.choices import InstitutionKind
from lapor.reports.choices import Action, Actor, Status
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report, ReportAssignment, ReportCopy
from lapor.reports.workflow import PUBLISHED, is_allowed

PUBLISHED_STATUSES = PUBLISHED
_ASSIGNED, _COPIED = "assigned", "copied"
# When someone holds several capacities, the event records the first that allows the action.
CAPACITY_ORDER = (
    Actor.REPORTER,
    Actor.UNIT_OFFICER,
    Actor.COORDINATOR,
    Actor.NATIONAL_ADMIN,
    Actor.OVERSIGHT,
    Actor.COPY_HOLDER,
    Actor.PUBLIC,
)


@dataclasses.dataclass(frozen=True)
class StaffScope:
    national: bool
    # (institution id, path, role) of each active membership
    memberships: tuple[tuple[int, str, str], ...]
    # The paths whose subtrees the oversight memberships reach (see the module's docstring).
    oversight_paths: tuple[str, ...] = ()
    # The oversight bodies in which the user holds the oversight role: reports they own are theirs.
    oversight_bodies: frozenset[int] = frozenset()

    @property
    def institution_ids(self) -> set[int]:
        return {institution_id for institution_id, _path, _role in self.memberships}

    @property
    def handling_ids(self) -> set[int]:
        """The institutions whose own reports the user handles: every membership's but oversight's,
        which reads and never handles, except in its own oversight body."""
        handling = {institution_id for institution_id, _path, role in self.memberships if role != Role.OVERSIGHT}
        return handling | set(self.oversight_bodies)

    def oversees(self, report: Report) -> bool:
        """Whether an oversight membership reaches ``report`` (``report.owner`` is read)."""
        if report.owner_id in self.oversight_bodies:
            return True
        return not report.is_confidential and any(report.owner.path.startswith(path) for path in self.oversight_paths)


def staff_scope(user: Any, *, require_second_factor: bool = True) -> StaffScope:
    """The institutions ``user`` acts for. Empty for a web session without a proven second factor, unless
    ``require_second_factor`` is False (only for the console's guard, which sends such staff on to the
    second factor instead of answering as if they were citizens)."""
    if not getattr(user, "is_authenticated", False):
        return StaffScope(national=False, memberships=())
    if require_second_factor and not second_factor_proven(user):
        return StaffScope(national=False, memberships=())
    rows = tuple(
        Membership.objects.filter(user=user, is_active=True, institution__is_active=True).values_list(
            "institution_id", "institution__path", "role", "institution__kind"
        )
    )
    oversight = [(pk, path, kind) for pk, path, role, kind in rows if role == Role.OVERSIGHT]
    return StaffScope(
        national=any(role == Role.NATIONAL_ADMIN for _id, _path, role, _kind in rows),
        memberships=tuple((pk, path, role) for pk, path, role, _kind in rows),
        oversight_paths=tuple(
            path[:-STEP_LENGTH] if kind == InstitutionKind.OVERSIGHT and len(path) > STEP_LENGTH else path
            for _pk, path, kind in oversight
        ),
        oversight_bodies=frozenset(pk for pk, _path, kind in oversight if kind == InstitutionKind.OVERSIGHT),
    )


def public_reports_q() -> Q:
    return Q(status__in=PUBLISHED_STATUSES, is_confidential=False)


def visible_reports(user: Any, queryset: QuerySet[Report] | None = None) -> QuerySet[Report]:
    reports = Report.objects.all() if queryset is None else queryset
    if not getattr(user, "is_authenticated", False):
        return reports.filter(public_reports_q())
    scope = staff_scope(user)
    if scope.national:
        return reports
    condition = public_reports_q() | Q(reporter=user)
    if scope.memberships:
        own_ids = scope.institution_ids
        condition |= Q(owner_id__in=scope.handling_ids)
        condition |= Q(pk__in=ReportAssignment.objects.filter(unit_id__in=own_ids, is_active=True).values("report_id"))
        condition |= Q(pk__in=ReportCopy.objects.filter(institution_id__in=own_ids).values("report_id"))
        for _institution_id, path, role in scope.memberships:
            if role == Role.COORDINATOR:
                condition |= Q(owner__path__startswith=path, is_confidential=False)
        for path in scope.oversight_paths:
            condition |= Q(owner__path__startswith=path, is_confidential=False)
    return reports.filter(condition)


def capacities(user: Any, report: Report, *, scope: StaffScope | None = None) -> frozenset[Actor]:
    """Every capacity in which ``user`` may act on ``report`` (an empty set: none)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    found: set[Actor] = set()
    if report.status in PUBLISHED and not report.is_confidential:
        found.add(Actor.PUBLIC)
    if report.reporter_id == user.pk:
        found.add(Actor.REPORTER)
    scope = scope or staff_scope(user)
    if scope.national:
        found.add(Actor.NATIONAL_ADMIN)
    if scope.memberships:
        owner_path = report.owner.path
        ids = scope.institution_ids
        # The user's institutions to which the report is assigned, and those holding a copy: one query.
        assignments = (
            ReportAssignment.objects.filter(report=report, is_active=True, unit_id__in=ids)
            .annotate(link=Value(_ASSIGNED, output_field=CharField()))
            .values_list("unit_id", "link")
        )
        copies = (
            ReportCopy.objects.filter(report=report, institution_id__in=ids)
            .annotate(link=Value(_COPIED, output_field=CharField()))
            .values_list("institution_id", "link")
        )
        links = list(assignments.union(copies, all=True))
        assigned = {institution_id for institution_id, link in links if link == _ASSIGNED}
        copied = {institution_id for institution_id, link in links if link == _COPIED}
        for institution_id, path, role in scope.memberships:
            above_owner = owner_path.startswith(path)
            reaches = institution_id == report.owner_id or (above_owner and not report.is_confidential)
            if role == Role.COORDINATOR and reaches:
                found.add(Actor.COORDINATOR)
            if role in (Role.LIAISON_OFFICER, Role.COORDINATOR) and (
                institution_id in assigned or institution_id == report.owner_id
            ):
                found.add(Actor.UNIT_OFFICER)
            if institution_id in copied:
                found.add(Actor.COPY_HOLDER)
        if scope.oversees(report):
            found.add(Actor.OVERSIGHT)
    return frozenset(found)


def access_report(user: Any, tracking_id: str, action: Action | None = None) -> Report:
    """The report if ``user`` may see it (and take ``action`` on it); otherwise a typed error.

    A report the user may not see raises NOT_FOUND, exactly as one that does not exist, so that
    its existence is not revealed.
    """
    report = visible_reports(user).select_related("owner").filter(tracking_id=tracking_id).first()
    if report is None:
        raise ReportError(ReportErrorCode.NOT_FOUND, _("No report with this tracking ID."))
    if action is not None:
        acting_capacity(user, report, action)
    return report


def link_secret_hash(secret: str) -> str:
    """What is stored of a reporter's private-link secret (never the secret itself)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def access_report_by_link(tracking_id: str, secret: str) -> Report:
    """The report behind a reporter's private link (the tracking ID and the secret given at
    submission); NOT_FOUND, exactly as for an unknown report, when the secret does not match."""
    report = Report.objects.select_related("owner", "category", "village").filter(tracking_id=tracking_id).first()
    expected = report.access_secret_hash if report is not None else ""
    given = link_secret_hash(secret)
    # Compared even without a report, so that the time taken does not tell whether it exists.
    if not secrets.compare_digest(expected or "0" * 64, given) or report is None:
        raise ReportError(ReportErrorCode.NOT_FOUND, _("No report with this tracking ID."))
    return report


def acting_capacity(user: Any, report: Report, action: Action) -> Actor:
    """The capacity in which ``user`` takes ``action`` on ``report``; a typed error when none allows it."""
    if (
        getattr(user, "is_authenticated", False)
        and report.reporter_id == user.pk
        and is_allowed(action, Status(report.status), Actor.REPORTER)
    ):
        # The reporter's capacity comes first in CAPACITY_ORDER: no need to look up staff memberships.
        return Actor.REPORTER
    held = capacities(user, report)
    for capacity in CAPACITY_ORDER:
        if capacity in held and is_allowed(action, Status(report.status), capacity):
            return capacity
    raise ReportError(
        ReportErrorCode.ACTION_NOT_ALLOWED,
        _("You cannot do this to a report in its current state."),
        action=action,
        status=report.status,
    )


def may_know_reporter(report: Report, viewer_capacities: frozenset[Actor], scope: StaffScope | None) -> bool:
    """The one rule of who may learn who filed ``report``: the reporter; for a report that is not
    anonymous, the staff handling it (national admin, the owner's coordinators, the units it was sent
    to), and oversight only for a case its own oversight body took over (``scope``: the viewer's, read
    for that case alone). Never copy holders, other oversight, the public."""
    if Actor.REPORTER in viewer_capacities:
        return True
    if report.is_anonymous:
        return False
    if viewer_capacities & {Actor.NATIONAL_ADMIN, Actor.COORDINATOR, Actor.UNIT_OFFICER}:
        return True
    return Actor.OVERSIGHT in viewer_capacities and scope is not None and report.owner_id in scope.oversight_bodies


def reporter_known_q(user: Any, scope: StaffScope) -> Q:
    """The reports whose reporter ``user`` may know (`may_know_reporter` as a filter)."""
    mine = Q(reporter_id=user.pk) if getattr(user, "pk", None) is not None else Q(pk__in=[])
    if scope.national:
        return mine | Q(is_anonymous=False)
    handled = Q(owner_id__in=sorted(scope.oversight_bodies))
    for institution_id, path, role in scope.memberships:
        if role == Role.COORDINATOR:
            handled |= Q(owner_id=institution_id) | (subtree_q(path, field="owner__path") & Q(is_confidential=False))
        if role in (Role.COORDINATOR, Role.LIAISON_OFFICER):
            handled |= Q(owner_id=institution_id) | Q(
                pk__in=ReportAssignment.objects.filter(unit_id=institution_id, is_active=True).values("report_id")
            )
    return mine | (Q(is_anonymous=False) & handled)


def reporter_identity(
    report: Report, viewer_capacities: frozenset[Actor], *, viewer: Any = None
) -> dict[str, str] | None:
    """The reporter's name and contact for a viewer, or None when the viewer must not learn it
    (`may_know_reporter`). ``viewer``: needed only to tell an oversight body's own case from others."""
    scope = None
    if Actor.OVERSIGHT in viewer_capacities and viewer is not None:
        scope = staff_scope(viewer)
    if not may_know_reporter(report, viewer_capacities, scope):
        return None
    if report.reporter is not None:
        # A guest report claimed by an account keeps the contact the guest gave on it: staff who saw
        # (or called) that number before the claim must still find it, after the account's own.
        return {
            "name": report.reporter.full_name or report.guest_name,
            "email": _both(report.reporter.email or "", report.guest_email, same=lambda a, b: a.lower() == b.lower()),
            "phone": _both(report.reporter.phone or "", report.guest_phone, same=_same_phone),
        }
    return {"name": report.guest_name, "email": report.guest_email, "phone": report.guest_phone}


def _both(account: str, given: str, *, same: Callable[[str, str], bool]) -> str:
    given = given.strip()
    if not given or (account and same(account, given)):
        return account
    return f"{account}, {given}" if account else given


def _same_phone(first: str, second: str) -> bool:
    try:
        return normalize_phone(first) == normalize_phone(second)
    except ValidationError:
        return first == second
