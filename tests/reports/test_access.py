"""The permission matrix of the one door to reports: who sees which report (visible_reports,
access_report) and in which capacities (capacities), for every kind of viewer and of report; and
what reading through the door costs in queries."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from lapor.accounts.choices import Role
from lapor.reports.access import access_report, capacities, reporter_identity, visible_reports
from lapor.reports.choices import Action, Actor, ArchiveReason
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report
from lapor.reports.serializers import export_rows
from lapor.reports.services import report_archive, report_dispatch, report_forward

VIEWERS = (
    "anonymous",
    "reporter",
    "member_of_public",
    "officer",  # liaison officer of the unit the report is forwarded to
    "environment_officer",  # liaison officer of a sibling unit it is not forwarded to
    "outsider",  # coordinator of another regional government
    "coordinator",  # coordinator of the owning city
    "national_admin",
    "oversight",  # oversight body at the root of the tree
    "copy_officer",  # officer of the ministry holding a copy
)
KINDS = ("submitted", "forwarded", "confidential", "anonymous", "archived")

PUBLIC = frozenset({Actor.PUBLIC})
NONE: frozenset[Actor] = frozenset()
# Capacities per (report kind, viewer); an empty set means the viewer cannot see the report at all.
FORWARDED = {
    "anonymous": NONE,
    "reporter": frozenset({Actor.REPORTER, Actor.PUBLIC}),
    "member_of_public": PUBLIC,
    "officer": frozenset({Actor.UNIT_OFFICER, Actor.PUBLIC}),
    "environment_officer": PUBLIC,
    "outsider": PUBLIC,
    "coordinator": frozenset({Actor.COORDINATOR, Actor.UNIT_OFFICER, Actor.PUBLIC}),
    "national_admin": frozenset({Actor.NATIONAL_ADMIN, Actor.PUBLIC}),
    "oversight": frozenset({Actor.OVERSIGHT, Actor.PUBLIC}),
    "copy_officer": frozenset({Actor.COPY_HOLDER, Actor.PUBLIC}),
}
# Not yet verified, owned by the national queue: the reporter, the national admin and the oversight
# body above everything.
UNVERIFIED = {
    **dict.fromkeys(VIEWERS, NONE),
    "reporter": frozenset({Actor.REPORTER}),
    "national_admin": frozenset({Actor.NATIONAL_ADMIN}),
    "oversight": frozenset({Actor.OVERSIGHT}),
}
EXPECTED_CAPACITIES = {
    "submitted": UNVERIFIED,
    "forwarded": FORWARDED,
    "anonymous": FORWARDED,
    "archived": UNVERIFIED,
    # Nobody in the public capacity, and the oversight body above the owner loses sight of it.
    "confidential": {
        viewer: (capacities_ - {Actor.PUBLIC}) - ({Actor.OVERSIGHT} if viewer == "oversight" else set())
        for viewer, capacities_ in FORWARDED.items()
    },
}
# Who sees it, whether or not they hold a capacity: the anonymous visitor holds none, yet reads
# every published report.
PUBLISHED_KINDS = {"forwarded", "anonymous"}


def _user(world, viewer: str):
    return AnonymousUser() if viewer == "anonymous" else getattr(world, viewer)


def _sees(kind: str, viewer: str) -> bool:
    return kind in PUBLISHED_KINDS or bool(EXPECTED_CAPACITIES[kind][viewer])


def _make(world, kind: str) -> Report:
    report = world.submit(is_confidential=kind == "confidential", is_anonymous=kind == "anonymous")
    if kind == "submitted":
        return report
    if kind == "archived":
        return report_archive(user=world.national_admin, report=report, reason=ArchiveReason.DUPLICATE).report
    report = report_dispatch(
        user=world.national_admin, report=report, institution=world.city, copies=[world.social_ministry]
    ).report
    return report_forward(user=world.coordinator, report=report, units=[world.transport]).report


@pytest.fixture
def reports(world) -> dict[str, Report]:
    return {kind: _make(world, kind) for kind in KINDS}


def test_the_matrix_covers_every_viewer_and_kind():
    for kind in KINDS:
        assert set(EXPECTED_CAPACITIES[kind]) == set(VIEWERS)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_visible_reports(world, reports, viewer):
    user = _user(world, viewer)
    visible = set(visible_reports(user).values_list("tracking_id", flat=True))
    expected = {reports[kind].tracking_id for kind in KINDS if _sees(kind, viewer)}
    assert visible == expected
    assert set(Report.objects.visible_to(user).values_list("tracking_id", flat=True)) == expected


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("viewer", VIEWERS)
def test_access_report(world, reports, viewer, kind):
    user = _user(world, viewer)
    report = reports[kind]
    if _sees(kind, viewer):
        assert access_report(user, report.tracking_id).pk == report.pk
    else:
        with pytest.raises(ReportError) as hidden:
            access_report(user, report.tracking_id)
        with pytest.raises(ReportError) as missing:
            access_report(user, "ZZZZZZZZZ")
        assert hidden.value.code == missing.value.code == ReportErrorCode.NOT_FOUND
        assert str(hidden.value.message) == str(missing.value.message)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("viewer", VIEWERS)
def test_capacities(world, reports, viewer, kind):
    assert capacities(_user(world, viewer), reports[kind]) == EXPECTED_CAPACITIES[kind][viewer]


@pytest.mark.parametrize("viewer", VIEWERS)
def test_only_the_reporter_learns_who_filed_an_anonymous_report(world, reports, viewer):
    user = _user(world, viewer)
    for kind in ("anonymous", "forwarded"):
        report = reports[kind]
        identity = reporter_identity(report, capacities(user, report))
        if viewer == "reporter":
            expected = True
        elif kind == "anonymous":
            expected = False
        else:
            # Oversight reads the report but not who filed it (docs/adr/0008-oversight-reach.md).
            expected = viewer in ("officer", "coordinator", "national_admin")
        assert (identity is not None) is expected, (viewer, kind)


def test_an_action_the_viewer_may_not_take_is_refused_as_such(world, reports):
    # The member of the public sees the published report but may not write an internal note on it.
    with pytest.raises(ReportError) as refused:
        access_report(world.member_of_public, reports["forwarded"].tracking_id, Action.NOTE)
    assert refused.value.code == ReportErrorCode.ACTION_NOT_ALLOWED
    assert access_report(world.officer, reports["forwarded"].tracking_id, Action.NOTE)


def test_a_revoked_membership_no_longer_opens_the_door(world, reports):
    from lapor.accounts.models import Membership

    Membership.objects.filter(user=world.copy_officer).update(is_active=False)
    assert set(visible_reports(world.copy_officer).values_list("tracking_id", flat=True)) == {
        reports[kind].tracking_id for kind in PUBLISHED_KINDS
    }
    assert capacities(world.copy_officer, reports["forwarded"]) == PUBLIC


# --- cost -------------------------------------------------------------------------------------------


def _more_reports(world, count: int) -> None:
    for number in range(count):
        report = world.submit(title=f"Laporan {number}", is_confidential=number % 3 == 0)
        if number % 2:
            report = report_dispatch(
                user=world.national_admin, report=report, institution=world.city, copies=[world.social_ministry]
            ).report
            report_forward(user=world.coordinator, report=report, units=[world.transport])


# An authenticated viewer costs one query for their memberships and one for the list.
LIST_QUERIES = dict.fromkeys(VIEWERS, 2) | {"anonymous": 1}


@pytest.mark.parametrize("viewer", VIEWERS)
def test_listing_costs_the_same_queries_for_any_number_of_reports(world, reports, viewer, django_assert_num_queries):
    user = _user(world, viewer)
    with django_assert_num_queries(LIST_QUERIES[viewer]):
        few = len(list(visible_reports(user).select_related("owner", "category")))
    _more_reports(world, 12)
    with django_assert_num_queries(LIST_QUERIES[viewer]):
        many = len(list(visible_reports(user).select_related("owner", "category")))
    assert many >= few
    if viewer in ("national_admin", "reporter"):
        assert many == few + 12


# Staff: their memberships, then the report's assignments and copies among their institutions (one
# query, a UNION).
CAPACITY_QUERIES = {"anonymous": 0, "reporter": 1, "member_of_public": 1} | {
    viewer: 2 for viewer in VIEWERS if viewer not in ("anonymous", "reporter", "member_of_public")
}


@pytest.mark.parametrize("viewer", VIEWERS)
def test_capacities_cost_a_fixed_number_of_queries(world, reports, viewer, django_assert_num_queries):
    user = _user(world, viewer)
    report = Report.objects.select_related("owner").filter(pk=reports["forwarded"].pk).first()
    assert report is not None
    with django_assert_num_queries(CAPACITY_QUERIES[viewer]):
        capacities(user, report)


def test_an_export_costs_one_query_however_many_reports_it_holds(world, reports, django_assert_num_queries):
    _more_reports(world, 12)
    queryset = visible_reports(world.national_admin)
    expected = queryset.count()
    with django_assert_num_queries(2):  # the national admin's memberships, then the rows
        rows = list(export_rows(visible_reports(world.national_admin)))
    assert len(rows) == expected == len(KINDS) + 12


def test_an_oversight_seat_in_a_unit_does_not_read_the_confidential_reports_forwarded_to_it(world, reports):
    """Oversight reads and never handles (docs/adr/0008-oversight-reach.md): a seat in the unit a
    confidential report is forwarded to neither lists nor opens it, as it holds no capacity on it."""
    from lapor.accounts.services import membership_grant

    membership_grant(user=world.member_of_public, institution=world.transport, role=Role.OVERSIGHT)
    confidential = reports["confidential"]
    assert capacities(world.member_of_public, confidential) == NONE
    assert not visible_reports(world.member_of_public).filter(pk=confidential.pk).exists()
    with pytest.raises(ReportError):
        access_report(world.member_of_public, confidential.tracking_id)
    # Its reach still reads the reports of the unit that are not confidential.
    assert visible_reports(world.member_of_public).filter(pk=reports["forwarded"].pk).exists()
