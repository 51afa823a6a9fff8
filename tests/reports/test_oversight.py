"""Oversight's reach (docs/adr/0008-oversight-reach.md), as a matrix: every oversight seat against
every kind of report, for what it reads (the access layer, the staff shape, the console inbox) and
whether it learns who filed the report.

Seats: Ombudsman RI and KSP as their own oversight bodies beside the institutions they oversee (under
the national root); an oversight account placed in the national institution itself (as the demo once
did); and a regional oversight seat in the city government.
"""

from __future__ import annotations

import dataclasses

import pytest
from django.utils import timezone

from lapor.accounts.choices import Role
from lapor.accounts.models import User
from lapor.accounts.services import membership_grant, user_create
from lapor.institutions.choices import InstitutionKind
from lapor.institutions.models import Institution
from lapor.institutions.services import institution_create
from lapor.reports.access import access_report, capacities, reporter_identity, staff_scope, visible_reports
from lapor.reports.choices import Actor, Status
from lapor.reports.errors import ReportError
from lapor.reports.models import Report
from lapor.reports.selectors import InboxQueue, inbox_counts, staff_inbox
from lapor.reports.serializers import staff_view
from lapor.reports.services import report_dispatch
from tests.reports.conftest import World

SEATS = ("ombudsman", "ksp", "in_national", "regional")
KINDS = ("unverified", "unverified_confidential", "dispatched", "dispatched_confidential", "anonymous", "taken_over")

# What each seat reads: True for the report, False for nothing.
READS = {
    "ombudsman": {
        "unverified": True,
        "unverified_confidential": False,
        "dispatched": True,
        "dispatched_confidential": False,
        "anonymous": True,
        "taken_over": True,
    },
    "ksp": {
        "unverified": True,
        "unverified_confidential": False,
        "dispatched": True,
        "dispatched_confidential": False,
        "anonymous": True,
        # The Ombudsman's case is confidential: another oversight body does not read it.
        "taken_over": False,
    },
    "in_national": {
        # Sitting in the national institution does not make oversight its handler.
        "unverified": True,
        "unverified_confidential": False,
        "dispatched": True,
        "dispatched_confidential": False,
        "anonymous": True,
        "taken_over": False,
    },
    "regional": {
        "unverified": False,
        "unverified_confidential": False,
        "dispatched": True,
        "dispatched_confidential": False,
        "anonymous": True,
        "taken_over": False,
    },
}
# Only the Ombudsman, for the case it took over with the reporter's consent, learns who filed a report.
KNOWS_REPORTER = {(seat, kind): seat == "ombudsman" and kind == "taken_over" for seat in SEATS for kind in KINDS}


@dataclasses.dataclass
class Seats:
    ombudsman: User
    ksp: User
    in_national: User
    regional: User


def _seat(name: str, email: str, institution: Institution, role: Role = Role.OVERSIGHT) -> User:
    user = user_create(full_name=name, email=email, password=None)
    membership_grant(user=user, institution=institution, role=role)
    return user


@pytest.fixture
def seats(world: World) -> Seats:
    ksp = institution_create(
        name="Kantor Staf Presiden", kind=InstitutionKind.OVERSIGHT, parent=world.national_root, code="ksp"
    )
    return Seats(
        ombudsman=_seat("Oma Ombudsman", "pengawas@ombudsman.example.id", world.ombudsman),
        ksp=_seat("Kasih KSP", "pengawas@ksp.example.id", ksp),
        in_national=world.oversight,  # an oversight membership in the national institution itself
        regional=_seat("Rega Regional", "pengawas@kota.example.id", world.city),
    )


def _make(world: World, kind: str) -> Report:
    report = world.submit(
        is_confidential=kind in ("unverified_confidential", "dispatched_confidential", "taken_over"),
        is_anonymous=kind == "anonymous",
        target_institution=None,
    )
    if kind.startswith("unverified"):
        return report
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    if kind == "taken_over":
        # What services.report_refer leaves once the overall deadline passed and the reporter consented
        # (the deadline itself is that service's test); the access rule reads only the owner.
        Report.objects.filter(pk=report.pk).update(
            owner=world.ombudsman, status=Status.REFERRED, referral_consent_at=timezone.now()
        )
        report.refresh_from_db()
    return report


@pytest.fixture
def reports(world: World) -> dict[str, Report]:
    return {kind: _make(world, kind) for kind in KINDS}


def test_the_matrix_covers_every_seat_and_kind():
    assert set(READS) == set(SEATS)
    for seat in SEATS:
        assert set(READS[seat]) == set(KINDS)


@pytest.mark.parametrize("seat", SEATS)
def test_what_each_oversight_seat_reads_and_whether_it_learns_the_reporter(world, seats, reports, seat):
    user = getattr(seats, seat)
    visible = set(visible_reports(user).values_list("tracking_id", flat=True))
    for kind in KINDS:
        report = reports[kind]
        expected = READS[seat][kind]
        # Published reports are public anyway; the matrix is about what oversight reads as oversight.
        assert (Actor.OVERSIGHT in capacities(user, report)) is expected, (seat, kind)
        if not expected:
            if report.tracking_id in visible:
                assert Actor.PUBLIC in capacities(user, report), (seat, kind)
            with pytest.raises(ReportError):
                staff_view(report, viewer=user)
            continue
        assert report.tracking_id in visible, (seat, kind)
        seen = access_report(user, report.tracking_id)
        view = staff_view(seen, viewer=user)
        knows = KNOWS_REPORTER[(seat, kind)]
        assert (view.reporter is not None) is knows, (seat, kind)
        assert view.reporter_hidden is not knows, (seat, kind)
        assert (reporter_identity(seen, capacities(user, seen), viewer=user) is not None) is knows, (seat, kind)
        if not knows:
            assert world.reporter.full_name not in str(dataclasses.asdict(view)), (seat, kind)
            assert world.reporter.email not in str(dataclasses.asdict(view)), (seat, kind)


@pytest.mark.parametrize("seat", SEATS)
def test_the_oversight_inbox_lists_its_reach(world, seats, reports, seat):
    user = getattr(seats, seat)
    inbox = staff_inbox(user)
    listed = set(inbox.reports.filter(inbox.queues[InboxQueue.ALL]).values_list("tracking_id", flat=True))
    expected = {reports[kind].tracking_id for kind in KINDS if READS[seat][kind]}
    assert listed == expected
    assert inbox_counts(inbox)[InboxQueue.ALL] == len(expected)


def test_oversight_bodies_reach_beside_themselves_and_other_seats_their_own_subtree(world, seats):
    assert staff_scope(seats.ombudsman).oversight_paths == (world.national_root.path,)
    assert staff_scope(seats.ombudsman).oversight_bodies == {world.ombudsman.pk}
    assert staff_scope(seats.regional).oversight_paths == (world.city.path,)
    assert staff_scope(seats.regional).oversight_bodies == frozenset()
    assert staff_scope(seats.in_national).oversight_bodies == frozenset()
