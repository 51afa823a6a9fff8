"""Whether a staff recipient may read who filed a report is the reach table's answer (`knows_reporter`),
which the notices ask with the membership that made each person a recipient instead of reading every
person's memberships again: checked for every relation a recipient stands in (the owner's coordinator, a
copy holder, a liaison officer of a unit the report is forwarded to, a coordinator above the owner, the
national admin, oversight within its reach and the oversight body owning the report), for people who
hold a second membership besides, for a staff member who filed the report, and for people named by id,
under every privacy of the report; and the queries of a dispatch do not grow with its recipients."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from lapor.accounts.choices import Role
from lapor.accounts.models import User
from lapor.accounts.services import membership_grant, user_create
from lapor.core.audit import chain_append
from lapor.institutions.models import Institution
from lapor.notifications.choices import Audience
from lapor.notifications.models import Notification
from lapor.reports.access import knows_reporter
from lapor.reports.choices import Action, Actor
from lapor.reports.models import Report, ReportEvent
from lapor.reports.notices.compose import drafts_for_event
from lapor.reports.notices.services import notify_for_event
from lapor.reports.services import report_dispatch, report_forward, report_return
from tests.reports.conftest import World
from tests.reports.notices.conftest import texts

PRIVACY = list(itertools.product((False, True), repeat=2))  # (is_anonymous, is_confidential)
_emails = itertools.count(1)


def _person(name: str, *seats: tuple[Institution, Role]) -> User:
    user = user_create(full_name=name, email=f"staf{next(_emails)}@example.id", password=None)
    for institution, role in seats:
        membership_grant(user=user, institution=institution, role=role)
    return user


@dataclasses.dataclass
class Cast:
    copy_coordinator: User  # a copy holder only
    copy_and_above: User  # a copy holder, and a coordinator of the national root above the owner
    copy_and_national: User  # a copy holder, and a national admin
    root_coordinator: User  # a coordinator above the owner only
    ombudsman_member: User  # oversight in the Ombudsman, which sits beside the institutions it oversees


def _cast(world: World) -> Cast:
    return Cast(
        copy_coordinator=_person("Kosi Salinan", (world.social_ministry, Role.COORDINATOR)),
        copy_and_above=_person(
            "Dua Kursi", (world.social_ministry, Role.COORDINATOR), (world.national_root, Role.COORDINATOR)
        ),
        copy_and_national=_person(
            "Nana Salinan", (world.social_ministry, Role.COORDINATOR), (world.kemenpanrb, Role.NATIONAL_ADMIN)
        ),
        root_coordinator=_person("Atas Koordinator", (world.national_root, Role.COORDINATOR)),
        ombudsman_member=_person("Ombi Perwakilan", (world.ombudsman, Role.OVERSIGHT)),
    )


def _note(report: Report) -> str:
    return f"Pelapor {_reporter_name(report)} minta dihubungi."


def _reporter_name(report: Report) -> str:
    return report.reporter.full_name if report.reporter is not None else report.guest_name


def _timer_event(report: Report, action: Action, **details: object) -> ReportEvent:
    with transaction.atomic():
        event = chain_append(
            ReportEvent,
            chain_id=report.pk,
            actor=None,
            actor_role=Actor.SYSTEM,
            action=action,
            from_status=report.status,
            to_status=report.status,
            message=_note(report),
            details=details,
        )
        notify_for_event(event=event)
    return event


def _latest(report: Report) -> ReportEvent:
    return ReportEvent.objects.filter(report=report).latest("sequence")


def _check(event: ReportEvent) -> dict[int, bool]:
    """Who of the event's staff recipients read the reporter's name (the staff's own note names them),
    checked against the table's answer for each, taken now, before anything else happens to the report."""
    report = Report.objects.select_related("owner", "reporter").get(pk=event.report_id)
    name = _reporter_name(report)
    rows = Notification.objects.filter(event=event, audience=Audience.STAFF).select_related("recipient")
    read = {row.recipient_id: name in texts(row) for row in rows if row.recipient_id is not None}
    assert read, event.action
    # Composed again outside the event's transaction (a retry), where the forwards and copies the event
    # names are no longer taken on its word. The drafts also hold the staff message of a staff member
    # who filed the report, which the outbox drops: they hear of it once, as its reporter.
    drafted = {
        draft.recipient.user: name in f"{draft.subject}\n{draft.body}"
        for draft in drafts_for_event(event)
        if draft.recipient.audience == Audience.STAFF and draft.recipient.user is not None
    }
    again = {user.pk: known for user, known in drafted.items()}
    assert {user_pk: again[user_pk] for user_pk in read} == read, event.action
    expected = {user.pk: knows_reporter(user, report) for user in drafted}
    assert again == expected, (event.action, report.is_anonymous, report.is_confidential)
    return again


@pytest.mark.parametrize(("is_anonymous", "is_confidential"), PRIVACY)
@pytest.mark.parametrize("filed_by", ["citizen", "copy holder"])
def test_each_staff_recipient_reads_the_reporter_exactly_when_the_table_says_they_may_know_them(
    world: World, is_anonymous: bool, is_confidential: bool, filed_by: str
) -> None:
    cast = _cast(world)
    reporter = world.reporter if filed_by == "citizen" else cast.copy_coordinator
    report = world.submit(reporter=reporter, is_anonymous=is_anonymous, is_confidential=is_confidential)
    read: dict[tuple[str, int], bool] = {}

    def record(label: str, event: ReportEvent) -> None:
        read.update({(label, user_pk): known for user_pk, known in _check(event).items()})

    report = report_dispatch(
        user=world.national_admin,
        report=report,
        institution=world.city,
        copies=[world.social_ministry],
        note=_note(report),
    ).report
    record("dispatch", _latest(report))
    report = report_forward(
        user=world.coordinator, report=report, units=[world.transport, world.environment], note=_note(report)
    ).report
    record("forward", _latest(report))
    record("above", _timer_event(report, Action.WARN, notify_institution=world.national_root.pk))
    record(
        "oversight reach",
        _timer_event(report, Action.WARN, notify_institution=world.national_root.pk, notify_roles=[Role.OVERSIGHT]),
    )
    record(
        "ombudsman reach",
        _timer_event(report, Action.ESCALATE, notify_institution=world.ombudsman.pk, notify_roles=[Role.OVERSIGHT]),
    )
    record(
        "named",
        _timer_event(report, Action.ESCALATE, notify_user_ids=[world.national_admin.pk, world.outsider.pk]),
    )
    report = report_return(user=world.environment_officer, report=report, reason=_note(report)).report
    record("unit return", _latest(report))
    report = report_return(user=world.coordinator, report=report, reason=_note(report)).report
    record("return", _latest(report))
    # The Ombudsman took the case over (as `report_refer` does once the reporter consents).
    Report.objects.filter(pk=report.pk).update(owner=world.ombudsman)
    record(
        "ombudsman owns",
        _timer_event(report, Action.WARN, notify_institution=world.ombudsman.pk, notify_roles=[Role.OVERSIGHT]),
    )

    # Every relation was met: the comparisons above were made for each.
    heard = {
        ("dispatch", world.coordinator.pk),
        ("dispatch", cast.copy_coordinator.pk),
        ("dispatch", cast.copy_and_above.pk),
        ("dispatch", cast.copy_and_national.pk),
        ("forward", world.officer.pk),
        ("forward", world.environment_officer.pk),
        ("above", cast.copy_and_above.pk),
        ("above", cast.root_coordinator.pk),
        ("oversight reach", world.oversight.pk),
        ("ombudsman reach", cast.ombudsman_member.pk),
        ("named", world.national_admin.pk),
        ("named", world.outsider.pk),
        ("unit return", world.coordinator.pk),
        ("return", world.national_admin.pk),
        ("return", cast.copy_and_national.pk),
        ("ombudsman owns", cast.ombudsman_member.pk),
    }
    assert heard <= set(read)
    knowing = {key for key, known in read.items() if known}
    if is_anonymous:
        # Nobody but whoever filed it learns who filed an anonymous report.
        assert {user_pk for _label, user_pk in knowing} <= {reporter.pk}
        if filed_by == "copy holder":
            assert ("dispatch", cast.copy_coordinator.pk) in knowing
    elif filed_by == "citizen":
        # The answers differ between people, so the comparisons above could not pass by chance.
        assert ("dispatch", world.coordinator.pk) in knowing
        assert ("dispatch", cast.copy_and_national.pk) in knowing
        assert ("forward", world.officer.pk) in knowing
        assert ("ombudsman owns", cast.ombudsman_member.pk) in knowing
        assert ("dispatch", cast.copy_coordinator.pk) not in knowing
        assert ("oversight reach", world.oversight.pk) not in knowing
        # A second seat above the owner reveals a named report that is not confidential.
        assert (("dispatch", cast.copy_and_above.pk) in knowing) is not is_confidential


def _dispatch_queries(world: World, *, is_anonymous: bool) -> tuple[int, int]:
    """The queries of a dispatch with copies, and how many staff it told."""
    report = world.submit(is_anonymous=is_anonymous)
    with CaptureQueriesContext(connection) as queries:
        report_dispatch(
            user=world.national_admin,
            report=report,
            institution=world.city,
            copies=[world.social_ministry],
            note=_note(report),
        )
    told = Notification.objects.filter(event=_latest(report), audience=Audience.STAFF).count()
    return len(queries), told


@pytest.mark.parametrize("is_anonymous", [False, True])
def test_a_dispatch_sends_as_many_queries_to_many_staff_as_to_few(world: World, is_anonymous: bool) -> None:
    # The copy holders are the staff whose own membership does not settle a named report.
    _person("Kosi Salinan", (world.social_ministry, Role.COORDINATOR))
    few, told_few = _dispatch_queries(world, is_anonymous=is_anonymous)
    for number in range(3):
        _person(f"Koordinator Kota {number}", (world.city, Role.COORDINATOR))
        _person(f"Salinan Kedua {number}", (world.social_ministry, Role.COORDINATOR), (world.regency, Role.OVERSIGHT))

    many, told_many = _dispatch_queries(world, is_anonymous=is_anonymous)

    assert (told_few, told_many) == (2, 8)
    assert many == few
