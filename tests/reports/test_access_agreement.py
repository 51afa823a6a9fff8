"""The reach table's two derivations agree: for a generated world (institutions in a tree, people in
every role, some without their second factor, reports with any owner, forwards, copies, flags, status
and reporter), every viewer's list (`visible_reports`, `reporter_known_q`) holds a report exactly when
the answer for that one report (`report_reach`, `access_report`, `reporter_identity`, the inbox row's)
says it may be seen, or its reporter known; and the notices' answer, asked with any one membership of
the viewer (`members_know_reporter`), is that one report's answer too."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lapor.accounts.choices import Role
from lapor.accounts.models import Membership, User
from lapor.accounts.services import user_create
from lapor.institutions.choices import InstitutionKind
from lapor.institutions.models import Institution
from lapor.institutions.services import institution_create
from lapor.reports.access import (
    REACH,
    Grant,
    Relation,
    Seat,
    access_report,
    capacities,
    grant,
    listed_knows_reporter,
    members_know_reporter,
    report_reach,
    reporter_identity,
    reporter_known_q,
    staff_scope,
    visible_reports,
)
from lapor.reports.choices import Status
from lapor.reports.errors import ReportError
from lapor.reports.models import Report, ReportAssignment, ReportCopy
from tests.reports.conftest import World

STAFF_POOL = 4  # people who hold no membership until an example grants them some
_tracking_numbers = itertools.count(1)


@dataclasses.dataclass
class Place:
    institutions: list[Institution]
    staff: list[User]  # the world's staff and the pool
    reporters: list[User | None]  # None: a guest


@pytest.fixture
def place(world: World) -> Place:
    ksp = institution_create(name="KSP", kind=InstitutionKind.OVERSIGHT, parent=world.national_root, code="ksp")
    regional_office = institution_create(
        name="Ombudsman Perwakilan", kind=InstitutionKind.OVERSIGHT, parent=world.city, code="ombudsman-kota"
    )
    pool = [
        user_create(full_name=f"Staf {number}", email=f"staf{number}@example.id", password=None)
        for number in range(STAFF_POOL)
    ]
    fixed = [
        world.national_admin,
        world.coordinator,
        world.officer,
        world.environment_officer,
        world.outsider,
        world.oversight,
        world.copy_officer,
    ]
    institutions = [
        world.national_root,
        world.kemenpanrb,
        world.ombudsman,
        ksp,
        world.social_ministry,
        world.city,
        world.transport,
        world.environment,
        regional_office,
        world.regency,
    ]
    return Place(
        institutions=institutions,
        staff=[*fixed, *pool],
        reporters=[world.reporter, world.member_of_public, pool[0], None],
    )


@dataclasses.dataclass(frozen=True)
class ReportPlan:
    owner: int
    status: Status
    is_anonymous: bool
    is_confidential: bool
    reporter: int
    forwards: tuple[tuple[int, bool], ...]  # (institution, active)
    copies: frozenset[int]


INSTITUTIONS = st.integers(min_value=0, max_value=9)
REPORTS = st.builds(
    ReportPlan,
    owner=INSTITUTIONS,
    status=st.sampled_from(list(Status)),
    is_anonymous=st.booleans(),
    is_confidential=st.booleans(),
    reporter=st.integers(min_value=0, max_value=3),
    forwards=st.lists(st.tuples(INSTITUTIONS, st.booleans()), max_size=2, unique_by=lambda pair: pair[0]).map(tuple),
    copies=st.frozensets(INSTITUTIONS, max_size=2),
)
# (person of the pool, institution, role, active)
MEMBERSHIPS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=STAFF_POOL - 1),
        INSTITUTIONS,
        st.sampled_from([Role.COORDINATOR, Role.LIAISON_OFFICER, Role.OVERSIGHT, Role.NATIONAL_ADMIN]),
        st.booleans(),
    ),
    max_size=5,
    unique_by=lambda row: row[:3],
)


class _RollbackError(Exception):
    pass


def _build(place: Place, plans: list[ReportPlan], memberships: list[tuple[int, int, Role, bool]]) -> list[Report]:
    pool = place.staff[-STAFF_POOL:]
    for person, institution, role, active in memberships:
        Membership.objects.create(
            user=pool[person], institution=place.institutions[institution], role=role, is_active=active
        )
    reports = []
    for plan in plans:
        reporter = place.reporters[plan.reporter]
        report = Report.objects.create(
            tracking_id=f"AG{next(_tracking_numbers):07d}",
            title="Lampu jalan mati",
            body="Sudah dua minggu gelap.",
            incident_date=timezone.localdate() - timedelta(days=1),
            owner=place.institutions[plan.owner],
            status=plan.status,
            is_anonymous=plan.is_anonymous,
            is_confidential=plan.is_confidential,
            reporter=reporter,
            guest_name="" if reporter is not None else "Tamu Pelapor",
        )
        for institution, active in plan.forwards:
            ReportAssignment.objects.create(
                report=report, unit=place.institutions[institution], assigned_by=place.staff[0], is_active=active
            )
        for institution in plan.copies:
            ReportCopy.objects.create(report=report, institution=place.institutions[institution])
        reports.append(Report.objects.select_related("owner", "reporter").get(pk=report.pk))
    return reports


def _without_second_factor(user: User) -> User:
    """The same person in a web session whose second factor is not proven (django-otp's marker)."""
    fresh = User.objects.get(pk=user.pk)
    fresh.is_verified = lambda: False  # type: ignore[attr-defined]
    return fresh


def _viewers(place: Place) -> list[Any]:
    people = [*place.staff, *(reporter for reporter in place.reporters if reporter is not None)]
    unique = list({person.pk: person for person in people}.values())
    return [AnonymousUser(), *unique, *(_without_second_factor(person) for person in unique[:3])]


def _check(viewer: Any, reports: list[Report]) -> None:
    ids = [report.pk for report in reports]
    seen = set(visible_reports(viewer).filter(pk__in=ids).values_list("pk", flat=True))
    scope = staff_scope(viewer)
    known = set(Report.objects.filter(reporter_known_q(viewer, scope), pk__in=ids).values_list("pk", flat=True))
    for report in reports:
        reach = report_reach(viewer, report)
        label = (getattr(viewer, "email", "visitor"), report.owner.code, report.status, sorted(reach.relations))
        assert (report.pk in seen) is reach.may_see, label
        assert (report.pk in known) is reach.knows_reporter, label
        assert not reach.knows_reporter or reach.may_see, label
        try:
            access_report(viewer, report.tracking_id)
            opened = True
        except ReportError:
            opened = False
        assert opened is reach.may_see, label
        identity = reporter_identity(report, capacities(viewer, report), viewer=viewer)
        assert (identity is not None) is reach.knows_reporter, label
        units = set(ReportAssignment.objects.filter(report=report, is_active=True).values_list("unit_id", flat=True))
        assert listed_knows_reporter(viewer, report, scope, assigned=units) is reach.knows_reporter, label
        copies = set(ReportCopy.objects.filter(report=report).values_list("institution_id", flat=True))
        for seat in [None, *_seats(viewer)]:
            for assigned, copied in (((), ()), (units, copies)):
                answer = members_know_reporter(report, [(viewer, seat)], assigned=assigned, copied=copied)
                assert answer == [reach.knows_reporter], (*label, seat, assigned, copied)


def _seats(viewer: Any) -> list[Seat]:
    """Every membership through which the notices could have come to ``viewer``."""
    if not getattr(viewer, "is_authenticated", False):
        return []
    rows = Membership.objects.filter(user_id=viewer.pk, is_active=True, institution__is_active=True)
    return [Seat(*row) for row in rows.values_list("institution_id", "institution__path", "role", "institution__kind")]


def _check_together(viewers: list[Any], reports: list[Report]) -> None:
    """Everyone's answer asked at once is each one's answer."""
    members = [(viewer, seat) for viewer in viewers for seat in [None, *_seats(viewer)]]
    for report in reports:
        expected = [report_reach(viewer, report).knows_reporter for viewer, _seat in members]
        assert members_know_reporter(report, members) == expected, report.owner.code


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plans=st.lists(REPORTS, min_size=1, max_size=4), memberships=MEMBERSHIPS)
def test_the_list_and_the_one_report_answer_agree(place: Place, plans: list[ReportPlan], memberships: Any) -> None:
    try:
        with transaction.atomic():
            reports = _build(place, plans, memberships)
            viewers = _viewers(place)
            for viewer in viewers:
                _check(viewer, reports)
            _check_together(viewers, reports)
            raise _RollbackError
    except _RollbackError:
        pass


def test_the_table_answers_for_every_relation_and_privacy() -> None:
    assert set(REACH) == set(Relation)
    for relation in Relation:
        for anonymous, confidential in itertools.product((False, True), repeat=2):
            given_ = grant(relation, is_anonymous=anonymous, is_confidential=confidential)
            # Nobody but the reporter learns who filed an anonymous report.
            if anonymous and relation != Relation.REPORTER:
                assert given_ < Grant.REPORTER, relation
            # A confidential report stays out of the public's sight and out of reach from above.
            if confidential and relation in (Relation.PUBLIC, Relation.OVERSIGHT_REACH, Relation.COORDINATOR_ABOVE):
                assert given_ == Grant.NOTHING, relation
            # Copies, the public and oversight's reach never learn the reporter.
            if relation in (Relation.COPY_HOLDER, Relation.PUBLIC, Relation.OVERSIGHT_REACH):
                assert given_ < Grant.REPORTER, relation
