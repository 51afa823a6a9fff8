"""The one door to reports: who may see which report, and in which capacity someone acts on one.

Every read of a report by a face (portal, console, API, exports) goes through `visible_reports` or
`access_report`; the rules of privacy live here and nowhere else, in one table (`REACH`: a viewer's
relation to a report × its anonymous and confidential flags -> may see it, may know its reporter),
from which the answer for one report (`report_reach`, `capacities`, `knows_reporter`, and for the staff
the notices tell, `members_know_reporter`) and the filters for lists (`visible_reports`,
`reporter_known_q`) are all derived. In words:

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
  Copy holders, oversight within its reach and the public never learn who filed a report.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import operator
import secrets
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from enum import IntEnum, StrEnum
from typing import Any, NamedTuple

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import CharField, Q, QuerySet, Value
from django.utils.translation import gettext_lazy as _

from lapor.accounts.access import second_factor_proven
from lapor.accounts.choices import Role
from lapor.accounts.models import Membership
from lapor.core.identifiers import normalize_phone
from lapor.core.tree import STEP_LENGTH, subtree_q
from lapor.institutions.choices import InstitutionKind
from lapor.reports.choices import Action, Actor, Status
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report, ReportAssignment, ReportCopy, guest_email_key, guest_phone_key
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


def staff_scope(user: Any, *, require_second_factor: bool = True) -> StaffScope:
    """The institutions ``user`` acts for. Empty for a web session without a proven second factor, unless
    ``require_second_factor`` is False (only for the console's guard, which sends such staff on to the
    second factor instead of answering as if they were citizens)."""
    if not getattr(user, "is_authenticated", False):
        return StaffScope(national=False, memberships=())
    if require_second_factor and not second_factor_proven(user):
        return StaffScope(national=False, memberships=())
    return scope_of(
        Membership.objects.filter(user=user, is_active=True, institution__is_active=True).values_list(
            "institution_id", "institution__path", "role", "institution__kind"
        )
    )


def scope_of(seats: Iterable[tuple[int, str, str, str]]) -> StaffScope:
    """The scope of these memberships, each (institution id, path, role, institution kind), all active at
    active institutions: what `staff_scope` makes of a user's, and `members_know_reporter` of those
    its caller already read. Sends no query."""
    rows = tuple(seats)
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


# === the reach table ===================================================================================
#
# Who may see a report, and who may know its reporter, is decided by this one table. A viewer stands in
# zero or more *relations* to a report (derived from their memberships and the report alone); each
# relation grants, for each combination of the report's privacy flags, nothing, the report, or the
# report and its reporter. Both the answer for one report (`report_reach`) and the filters for lists
# (`visible_reports`, `reporter_known_q`) are derived from it, relation by relation, so that they
# cannot disagree (tests/reports/test_access_agreement.py checks that they do not).


class Relation(StrEnum):
    """How a viewer stands to one report."""

    REPORTER = "reporter"  # filed it (signed in)
    NATIONAL_ADMIN = "national_admin"  # verifies and dispatches every report
    OWNER_COORDINATOR = "owner_coordinator"  # coordinator of the institution that owns it
    OWNER_OFFICER = "owner_officer"  # liaison officer of the institution that owns it
    COORDINATOR_ABOVE = "coordinator_above"  # coordinator of the owner or of an institution above it
    ASSIGNED_UNIT = "assigned_unit"  # liaison officer or coordinator of a unit it is forwarded to
    COPY_HOLDER = "copy_holder"  # any member of an institution holding a copy
    OVERSIGHT_REACH = "oversight_reach"  # an oversight membership whose reach holds the owner
    OVERSIGHT_BODY_OWNER = "oversight_body_owner"  # oversight member of the oversight body that owns it
    PUBLIC = "public"  # anyone, once the report is published


class Grant(IntEnum):
    NOTHING = 0
    REPORT = 1
    REPORTER = 2  # the report and who filed it


# The columns of the table: (is_anonymous, is_confidential).
PRIVACY_COLUMNS: tuple[tuple[bool, bool], ...] = ((False, False), (False, True), (True, False), (True, True))
_NONE, _SEE, _KNOW = Grant.NOTHING, Grant.REPORT, Grant.REPORTER
REACH: dict[Relation, tuple[Grant, Grant, Grant, Grant]] = {
    #                                plain  confidential  anonymous  anonymous & confidential
    Relation.REPORTER:              (_KNOW, _KNOW,        _KNOW,     _KNOW),
    Relation.NATIONAL_ADMIN:        (_KNOW, _KNOW,        _SEE,      _SEE),
    Relation.OWNER_COORDINATOR:     (_KNOW, _KNOW,        _SEE,      _SEE),
    Relation.OWNER_OFFICER:         (_KNOW, _KNOW,        _SEE,      _SEE),
    Relation.COORDINATOR_ABOVE:     (_KNOW, _NONE,        _SEE,      _NONE),
    Relation.ASSIGNED_UNIT:         (_KNOW, _KNOW,        _SEE,      _SEE),
    Relation.COPY_HOLDER:           (_SEE,  _SEE,         _SEE,      _SEE),
    Relation.OVERSIGHT_REACH:       (_SEE,  _NONE,        _SEE,      _NONE),
    Relation.OVERSIGHT_BODY_OWNER:  (_KNOW, _KNOW,        _SEE,      _SEE),
    Relation.PUBLIC:                (_SEE,  _NONE,        _SEE,      _NONE),
}  # fmt: skip
# The capacities in which a relation lets the viewer act on a report it lets them see.
CAPACITIES_OF: dict[Relation, frozenset[Actor]] = {
    Relation.REPORTER: frozenset({Actor.REPORTER}),
    Relation.NATIONAL_ADMIN: frozenset({Actor.NATIONAL_ADMIN}),
    Relation.OWNER_COORDINATOR: frozenset({Actor.COORDINATOR, Actor.UNIT_OFFICER}),
    Relation.OWNER_OFFICER: frozenset({Actor.UNIT_OFFICER}),
    Relation.COORDINATOR_ABOVE: frozenset({Actor.COORDINATOR}),
    Relation.ASSIGNED_UNIT: frozenset({Actor.UNIT_OFFICER}),
    Relation.COPY_HOLDER: frozenset({Actor.COPY_HOLDER}),
    Relation.OVERSIGHT_REACH: frozenset({Actor.OVERSIGHT}),
    Relation.OVERSIGHT_BODY_OWNER: frozenset({Actor.OVERSIGHT}),
    Relation.PUBLIC: frozenset({Actor.PUBLIC}),
}
# A unit's own work: the roles whose membership of the owner, or of an assigned unit, handles a report.
_HANDLING_ROLES = (Role.COORDINATOR, Role.LIAISON_OFFICER)


def grant(relation: Relation, *, is_anonymous: bool, is_confidential: bool) -> Grant:
    return REACH[relation][PRIVACY_COLUMNS.index((is_anonymous, is_confidential))]


def _user_pk(user: Any) -> Any:
    return user.pk if getattr(user, "is_authenticated", False) else None


def relations(
    user: Any, report: Report, scope: StaffScope, *, assigned: Collection[int], copied: Collection[int]
) -> frozenset[Relation]:
    """Every relation ``user`` (with ``scope``) holds to ``report``, granted or not by its flags; no query
    but ``report.owner``. ``assigned``/``copied``: those of the user's institutions to which the report is
    actively forwarded, or which hold a copy of it."""
    found: set[Relation] = set()
    if report.status in PUBLISHED:
        found.add(Relation.PUBLIC)
    user_pk = _user_pk(user)
    if user_pk is not None and report.reporter_id == user_pk:
        found.add(Relation.REPORTER)
    if scope.national:
        found.add(Relation.NATIONAL_ADMIN)
    if scope.memberships:
        owner_path = report.owner.path
        for institution_id, path, role in scope.memberships:
            if role == Role.COORDINATOR and institution_id == report.owner_id:
                found.add(Relation.OWNER_COORDINATOR)
            if role == Role.LIAISON_OFFICER and institution_id == report.owner_id:
                found.add(Relation.OWNER_OFFICER)
            if role == Role.COORDINATOR and owner_path.startswith(path):
                found.add(Relation.COORDINATOR_ABOVE)
            if role in _HANDLING_ROLES and institution_id in assigned:
                found.add(Relation.ASSIGNED_UNIT)
            if institution_id in copied:
                found.add(Relation.COPY_HOLDER)
        if any(owner_path.startswith(path) for path in scope.oversight_paths):
            found.add(Relation.OVERSIGHT_REACH)
        if report.owner_id in scope.oversight_bodies:
            found.add(Relation.OVERSIGHT_BODY_OWNER)
    return frozenset(found)


def _ids_with_role(scope: StaffScope, roles: Collection[str]) -> list[int]:
    return sorted({institution_id for institution_id, _path, role in scope.memberships if role in roles})


def _subtrees_q(paths: Collection[str]) -> Q | None:
    terms = [subtree_q(path, field="owner__path") for path in sorted(set(paths))]
    return functools.reduce(operator.or_, terms) if terms else None


def relation_q(relation: Relation, user: Any, scope: StaffScope) -> Q | None:
    """`relations` as a filter: the reports to which ``user`` holds ``relation`` (an empty Q: every
    report; None: none). Sends no query."""
    if relation == Relation.PUBLIC:
        return Q(status__in=PUBLISHED_STATUSES)
    if relation == Relation.REPORTER:
        user_pk = _user_pk(user)
        return Q(reporter_id=user_pk) if user_pk is not None else None
    if relation == Relation.NATIONAL_ADMIN:
        return Q() if scope.national else None
    if relation in (Relation.OWNER_COORDINATOR, Relation.OWNER_OFFICER):
        role = Role.COORDINATOR if relation == Relation.OWNER_COORDINATOR else Role.LIAISON_OFFICER
        ids = _ids_with_role(scope, [role])
        return Q(owner_id__in=ids) if ids else None
    if relation == Relation.COORDINATOR_ABOVE:
        return _subtrees_q([path for _id, path, role in scope.memberships if role == Role.COORDINATOR])
    if relation == Relation.ASSIGNED_UNIT:
        ids = _ids_with_role(scope, _HANDLING_ROLES)
        assignments = ReportAssignment.objects.filter(unit_id__in=ids, is_active=True).values("report_id")
        return Q(pk__in=assignments) if ids else None
    if relation == Relation.COPY_HOLDER:
        ids = sorted(scope.institution_ids)
        return Q(pk__in=ReportCopy.objects.filter(institution_id__in=ids).values("report_id")) if ids else None
    if relation == Relation.OVERSIGHT_REACH:
        return _subtrees_q(scope.oversight_paths)
    if relation == Relation.OVERSIGHT_BODY_OWNER:
        return Q(owner_id__in=sorted(scope.oversight_bodies)) if scope.oversight_bodies else None
    raise ValueError(f"Unknown relation {relation!r}.")


def _flags_q(columns: Collection[tuple[bool, bool]]) -> Q | None:
    """The reports whose (is_anonymous, is_confidential) is one of ``columns`` (an empty Q: all; None: none)."""
    wanted = set(columns)
    if not wanted:
        return None
    if len(wanted) == len(PRIVACY_COLUMNS):
        return Q()
    for value in (False, True):
        if wanted == {(anonymous, value) for anonymous in (False, True)}:
            return Q(is_confidential=value)
        if wanted == {(value, confidential) for confidential in (False, True)}:
            return Q(is_anonymous=value)
    return functools.reduce(
        operator.or_,
        (Q(is_anonymous=anonymous, is_confidential=confidential) for anonymous, confidential in sorted(wanted)),
    )


def reach_q(user: Any, scope: StaffScope, at_least: Grant) -> Q:
    """The reports for which some relation of ``user`` grants ``at_least`` (the table as a filter)."""
    terms: list[Q] = []
    for relation, grants in REACH.items():
        holds = relation_q(relation, user, scope)
        flags = _flags_q([column for column, given in zip(PRIVACY_COLUMNS, grants, strict=True) if given >= at_least])
        if holds is None or flags is None:
            continue
        term = holds & flags
        if not term:  # an empty Q: every report (Q() | x would mean x alone)
            return Q()
        terms.append(term)
    return functools.reduce(operator.or_, terms) if terms else Q(pk__in=[])


@dataclasses.dataclass(frozen=True)
class Reach:
    """What the table grants one viewer on one report."""

    relations: frozenset[Relation]
    is_anonymous: bool
    is_confidential: bool
    authenticated: bool

    def _granted(self) -> list[tuple[Relation, Grant]]:
        return [
            (relation, grant(relation, is_anonymous=self.is_anonymous, is_confidential=self.is_confidential))
            for relation in self.relations
        ]

    @property
    def may_see(self) -> bool:
        return any(given >= Grant.REPORT for _relation, given in self._granted())

    @property
    def knows_reporter(self) -> bool:
        return any(given >= Grant.REPORTER for _relation, given in self._granted())

    @property
    def capacities(self) -> frozenset[Actor]:
        """The capacities of the relations that let the viewer see the report; none for a visitor who
        is not signed in (who may read a published report but act on none)."""
        if not self.authenticated:
            return frozenset()
        found: set[Actor] = set()
        for relation, given in self._granted():
            if given >= Grant.REPORT:
                found |= CAPACITIES_OF[relation]
        return frozenset(found)


def _links(report: Report, scope: StaffScope) -> tuple[set[int], set[int]]:
    """The user's institutions to which the report is actively forwarded, and those holding a copy: one
    query, none without memberships."""
    if not scope.memberships:
        return set(), set()
    ids = scope.institution_ids
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
    return (
        {institution_id for institution_id, link in links if link == _ASSIGNED},
        {institution_id for institution_id, link in links if link == _COPIED},
    )


def report_reach(user: Any, report: Report, *, scope: StaffScope | None = None) -> Reach:
    """What the table grants ``user`` on ``report`` (``report.owner`` is read): no query for a visitor,
    one for the memberships (unless ``scope`` is given), one more for staff."""
    authenticated = bool(getattr(user, "is_authenticated", False))
    if scope is None:
        scope = staff_scope(user) if authenticated else StaffScope(national=False, memberships=())
    assigned, copied = _links(report, scope)
    return Reach(
        relations=relations(user, report, scope, assigned=assigned, copied=copied),
        is_anonymous=report.is_anonymous,
        is_confidential=report.is_confidential,
        authenticated=authenticated,
    )


def listed_knows_reporter(user: Any, report: Report, scope: StaffScope, *, assigned: Collection[int]) -> bool:
    """`Reach.knows_reporter` for a report in a list, with no query: ``assigned`` the units of the user's
    memberships among the report's active forwards (prefetched). A copy, which the list does not read,
    never lets anyone know the reporter (checked below, at import)."""
    found = relations(user, report, scope, assigned=assigned, copied=())
    return Reach(found, report.is_anonymous, report.is_confidential, bool(_user_pk(user))).knows_reporter


if any(given >= Grant.REPORTER for given in REACH[Relation.COPY_HOLDER]):
    raise ImportError("A copy that reveals the reporter needs the copies read in listed_knows_reporter.")


def public_reports_q() -> Q:
    """Published and not confidential: the `Relation.PUBLIC` row of the table as a filter."""
    return reach_q(AnonymousUser(), StaffScope(national=False, memberships=()), Grant.REPORT)


def is_public(report: Report) -> bool:
    """Whether anyone at all may read ``report`` (`public_reports_q` for one report)."""
    return report_reach(AnonymousUser(), report, scope=StaffScope(national=False, memberships=())).may_see


def visible_reports(user: Any, queryset: QuerySet[Report] | None = None) -> QuerySet[Report]:
    """The reports ``user`` may see: the table as a filter (one query for the memberships)."""
    reports = Report.objects.all() if queryset is None else queryset
    scope = (
        staff_scope(user) if getattr(user, "is_authenticated", False) else StaffScope(national=False, memberships=())
    )
    condition = reach_q(user, scope, Grant.REPORT)
    return reports if not condition else reports.filter(condition)


def capacities(user: Any, report: Report, *, scope: StaffScope | None = None) -> frozenset[Actor]:
    """Every capacity in which ``user`` may act on ``report`` (an empty set: none)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    return report_reach(user, report, scope=scope).capacities


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


class ProofKind(StrEnum):
    """How someone acting as a report's reporter, without being signed in as them, showed it."""

    PRIVATE_LINK = "private_link"  # the tracking ID and the secret given at filing
    CONTACT = "contact"  # a message from the contact the report was filed with, as its channel vouches


# Only this module issues proofs: a face cannot make one by saying so.
_ISSUER = object()


@dataclasses.dataclass(frozen=True, slots=True)
class ReporterProof:
    """That whoever acts now is the reporter of one report, shown without an account (a guest, or a
    reporter who follows their private link). Issued by `reporter_proof_by_link` and
    `reporter_proof_by_contact`; services take it instead of a signed-in reporter, and accept it
    for that report only."""

    report_id: int
    kind: ProofKind
    issuer: object = dataclasses.field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.issuer is not _ISSUER:
            raise TypeError("A reporter's proof is issued by lapor.reports.access only.")

    def covers(self, report: Report) -> bool:
        return report.pk == self.report_id


def _proof(report: Report, kind: ProofKind) -> ReporterProof:
    return ReporterProof(report_id=report.pk, kind=kind, issuer=_ISSUER)


def reporter_proof_by_link(tracking_id: str, secret: str) -> tuple[Report, ReporterProof]:
    """The report behind a reporter's private link (the tracking ID and the secret given at
    submission) and the proof that its holder acts as the reporter; NOT_FOUND, exactly as for an
    unknown report, when the secret does not match."""
    report = Report.objects.select_related("owner", "category", "village").filter(tracking_id=tracking_id).first()
    expected = report.access_secret_hash if report is not None else ""
    given = link_secret_hash(secret)
    # Compared even without a report, so that the time taken does not tell whether it exists.
    if not secrets.compare_digest(expected or "0" * 64, given) or report is None:
        raise ReportError(ReportErrorCode.NOT_FOUND, _("No report with this tracking ID."))
    return report, _proof(report, ProofKind.PRIVATE_LINK)


def reporter_proof_by_contact(tracking_id: str, *, email: str = "", phone: str = "") -> tuple[Report, ReporterProof]:
    """The report and the proof that a message comes from its reporter, when the e-mail address or
    phone number it came from (as the channel's gateway vouches for it) is the one the report was
    filed with: the guest's contact, or the reporter's account's. NOT_FOUND, exactly as for an
    unknown report, otherwise."""
    report = (
        Report.objects.select_related("owner", "reporter").filter(tracking_id=tracking_id).first()
        if (email.strip() or phone.strip())
        else None
    )
    if report is None or not _filed_from(report, email=email, phone=phone):
        raise ReportError(ReportErrorCode.NOT_FOUND, _("No report with this tracking ID."))
    return report, _proof(report, ProofKind.CONTACT)


def _filed_from(report: Report, *, email: str, phone: str) -> bool:
    reporter = report.reporter
    if reporter is not None:
        same_email = bool(email.strip() and reporter.email and reporter.email.lower() == email.strip().lower())
        return same_email or bool(phone.strip() and reporter.phone and _same_phone(reporter.phone, phone))
    return _same_key(report.guest_email_index, guest_email_key(email)) or _same_key(
        report.guest_phone_index, guest_phone_key(phone)
    )


def _same_key(stored: str, given: str) -> bool:
    return bool(stored and given) and secrets.compare_digest(stored, given)


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


def knows_reporter(user: Any, report: Report, *, scope: StaffScope | None = None) -> bool:
    """Whether ``user`` may learn who filed ``report`` (the table's answer for one report)."""
    return report_reach(user, report, scope=scope).knows_reporter


class Seat(NamedTuple):
    """One membership, active at an active institution, as a caller already read it."""

    institution_id: int
    path: str
    role: str
    kind: str


# The relations that the user and the report decide alone, whatever memberships the user holds.
_WITHOUT_MEMBERSHIPS = frozenset({Relation.REPORTER, Relation.PUBLIC})


def members_know_reporter(
    report: Report,
    members: Sequence[tuple[Any, Seat | None]],
    *,
    assigned: Collection[int] = (),
    copied: Collection[int] = (),
) -> list[bool]:
    """`knows_reporter(user, report)` for each (user, seat) of ``members``, in order. ``seat``: the
    membership through which the caller came to the user (None: none). ``assigned``/``copied``: the
    institutions the caller knows to be actively forwarded the report, or to hold a copy of it (those
    named by the event its transaction has just written); others are not assumed.

    The relations the seat gives settle most answers with no query: when they grant the reporter, or
    when no membership could (an anonymous report: only who filed it may know). The rest are asked of
    the table as `knows_reporter` asks it, with everyone's memberships and links read together: two
    queries, however many people they are."""
    flags = {"is_anonymous": report.is_anonymous, "is_confidential": report.is_confidential}
    memberships_may_grant = any(
        grant(relation, **flags) >= Grant.REPORTER for relation in REACH if relation not in _WITHOUT_MEMBERSHIPS
    )
    answers: list[bool | None] = []
    for user, seat in members:
        # As in staff_scope: memberships count only for a signed-in user acting for an institution.
        authenticated = bool(getattr(user, "is_authenticated", False))
        acting = authenticated and second_factor_proven(user)
        scope = scope_of([seat]) if acting and seat is not None else StaffScope(national=False, memberships=())
        found = relations(user, report, scope, assigned=assigned, copied=copied)
        if Reach(found, report.is_anonymous, report.is_confidential, authenticated).knows_reporter:
            answers.append(True)
        else:
            answers.append(None if acting and memberships_may_grant else False)
    pending = {user.pk: user for (user, _seat), answer in zip(members, answers, strict=True) if answer is None}
    if not pending:
        return [bool(answer) for answer in answers]
    seats: dict[int, list[Seat]] = defaultdict(list)
    for user_pk, institution_id, path, role, kind in Membership.objects.filter(
        user_id__in=sorted(pending), is_active=True, institution__is_active=True
    ).values_list("user_id", "institution_id", "institution__path", "role", "institution__kind"):
        seats[user_pk].append(Seat(institution_id, path, role, kind))
    scopes = {user_pk: scope_of(seats[user_pk]) for user_pk in pending}
    everyone = StaffScope(
        national=False, memberships=tuple(membership for scope in scopes.values() for membership in scope.memberships)
    )
    # Links of everyone's institutions: each person's relations look only at their own among them.
    linked_assigned, linked_copied = _links(report, everyone)
    known = {
        user_pk: Reach(
            relations(user, report, scopes[user_pk], assigned=linked_assigned, copied=linked_copied),
            report.is_anonymous,
            report.is_confidential,
            True,
        ).knows_reporter
        for user_pk, user in pending.items()
    }
    return [
        known[user.pk] if answer is None else answer for (user, _seat), answer in zip(members, answers, strict=True)
    ]


def reporter_known_q(user: Any, scope: StaffScope) -> Q:
    """The reports whose reporter ``user`` may know (`knows_reporter` as a filter)."""
    return reach_q(user, scope, Grant.REPORTER)


def reporter_identity(
    report: Report, viewer_capacities: frozenset[Actor], *, viewer: Any = None
) -> dict[str, str] | None:
    """The reporter's name and contact for a viewer, or None when the viewer must not learn it:
    `knows_reporter` of ``viewer`` when given; without it, from ``viewer_capacities`` alone, which
    knows the reporter only where every relation that gives one of them would (so never for oversight,
    whose own body's case cannot be told from its reach without the viewer)."""
    known = (
        knows_reporter(viewer, report) if viewer is not None else _capacities_know_reporter(report, viewer_capacities)
    )
    return reporter_contact(report) if known else None


def _capacities_know_reporter(report: Report, held: frozenset[Actor]) -> bool:
    flags = {"is_anonymous": report.is_anonymous, "is_confidential": report.is_confidential}
    for capacity in held:
        giving = [grant(relation, **flags) for relation, given in CAPACITIES_OF.items() if capacity in given]
        seeing = [given for given in giving if given >= Grant.REPORT]
        if seeing and all(given >= Grant.REPORTER for given in seeing):
            return True
    return False


def reporter_contact(report: Report) -> dict[str, str]:
    """Who filed ``report``, name and contacts, whoever asks: only for callers that decided, through
    `knows_reporter`, that the reader may know it, or that mask it (notifications)."""
    if report.reporter is not None:
        # A guest report claimed by an account keeps the contact the guest gave on it: staff who saw
        # (or called) that number before the claim must still find it, after the account's own.
        return {
            "name": report.reporter.full_name or report.guest_name,
            "email": _both(report.reporter.email or "", report.guest_email, same=lambda a, b: a.lower() == b.lower()),
            "phone": _both(report.reporter.phone or "", report.guest_phone, same=_same_phone),
        }
    return {"name": report.guest_name, "email": report.guest_email, "phone": report.guest_phone}


def reporter_contact_values(report: Report) -> tuple[list[str], list[str], list[str]]:
    """The names, e-mail addresses and phone numbers of who filed ``report``, the account's and those
    the guest gave on it, each on its own (`reporter_contact` joins them): what text meant for a
    reader who may not know the reporter must not contain."""
    account = report.reporter

    def present(*values: str | None) -> list[str]:
        return [value.strip() for value in values if value and value.strip()]

    if account is None:
        return present(report.guest_name), present(report.guest_email), present(report.guest_phone)
    return (
        present(account.full_name, report.guest_name),
        present(account.email, report.guest_email),
        present(account.phone, report.guest_phone),
    )


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
