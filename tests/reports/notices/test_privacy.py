"""Staff never learn from a notification who filed an anonymous report, and reporters never read
internal notes: every notification's subject and body is scanned for sentinel values."""

from __future__ import annotations

import pytest
from django.db import transaction

from lapor.accounts.services import user_create
from lapor.core.audit import chain_append
from lapor.notifications.choices import Audience
from lapor.notifications.models import Notification
from lapor.reports.access import reporter_proof_by_contact
from lapor.reports.choices import Action, Actor, Clock
from lapor.reports.models import Report, ReportEvent
from lapor.reports.notices.services import notify_for_event
from lapor.reports.services import (
    report_dispatch,
    report_follow_up,
    report_forward,
    report_note,
    report_provide_information,
    report_request_information,
    report_return,
)
from tests.reports.conftest import World
from tests.reports.notices.conftest import texts

SENTINEL_NAME = "Sentinela Rahasiawati"
SENTINEL_EMAIL = "sentinela.rahasia@example.id"
SENTINEL_PHONE = "081299887766"
# Substrings that every way of writing the identity contains (the phone in any format keeps these digits).
SENTINEL_TRACES = ("sentinela", "rahasiawati", "rahasia@", "99887766", "9988-7766", "9988 7766")
INTERNAL_NOTE = "CATATAN-INTERNAL-7Q: pelapor pernah melapor hal serupa"


def leaks(notification: Notification) -> list[str]:
    text = texts(notification).lower()
    return [trace for trace in SENTINEL_TRACES if trace in text]


def whole_life(world: World, report: Report) -> Report:
    """Every staff-facing event, with staff writing the reporter's identity into their own notes."""
    leaky_note = f"Pelapor {SENTINEL_NAME} ({SENTINEL_EMAIL}, 0812-9988-7766) minta dihubungi."
    report = report_request_information(user=world.national_admin, report=report, question="Lokasi tepatnya?").report
    if report.reporter is None:
        # A guest answers as the e-mail channel would: from the address the report was filed with.
        _report, proof = reporter_proof_by_contact(report.tracking_id, email=SENTINEL_EMAIL)
        report = report_provide_information(user=None, report=report, answer="Depan pasar.", proof=proof).report
    else:
        report = report_provide_information(user=report.reporter, report=report, answer="Depan pasar.").report
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city, note=leaky_note).report
    report = report_forward(
        user=world.coordinator, report=report, units=[world.transport, world.environment], note=leaky_note
    ).report
    report = report_return(user=world.environment_officer, report=report, reason=f"Bukan kami. {leaky_note}").report
    report_note(user=world.coordinator, report=report, message=f"{INTERNAL_NOTE} {leaky_note}")
    report = report_follow_up(user=world.officer, report=report, message="Sedang dikerjakan.").report
    for action in (Action.WARN, Action.ESCALATE):
        with transaction.atomic():
            event = chain_append(
                ReportEvent,
                chain_id=report.pk,
                actor=None,
                actor_role=Actor.SYSTEM,
                action=action,
                from_status=report.status,
                to_status=report.status,
                details={
                    "notify_institution": world.city.pk,
                    "notify_user_ids": [world.national_admin.pk],
                    "clock": Clock.RESOLUTION,
                    "level": 1,
                },
            )
            notify_for_event(event=event)
    report = report_return(user=world.coordinator, report=report, reason=f"Bukan wewenang kota. {leaky_note}").report
    return report


@pytest.mark.parametrize("filed_as", ["account", "guest"])
def test_staff_notifications_of_an_anonymous_report_carry_no_trace_of_the_reporter(world, filed_as):
    if filed_as == "account":
        sentinel = user_create(full_name=SENTINEL_NAME, email=SENTINEL_EMAIL, phone=SENTINEL_PHONE)
        report = world.submit(reporter=sentinel, is_anonymous=True, title=f"Lampu mati kata {SENTINEL_NAME}")
    else:
        report = world.submit(
            reporter=None,
            guest_name=SENTINEL_NAME,
            guest_email=SENTINEL_EMAIL,
            guest_phone=SENTINEL_PHONE,
            is_anonymous=True,
            title=f"Lampu mati, hubungi {SENTINEL_EMAIL}",
        )

    whole_life(world, report)

    staff = list(Notification.objects.filter(report=report, audience=Audience.STAFF))
    # Each kind of staff message was written, so the scan below has something to find.
    assert {row.event.action for row in staff if row.event} == {
        Action.DISPATCH,
        Action.FORWARD,
        Action.RETURN_TO_DISPATCHER,
        Action.WARN,
        Action.ESCALATE,
    }
    assert {row.address for row in staff} >= {"koordinator@example.id", "dishub@example.id", "nasional@example.id"}
    for row in staff:
        assert leaks(row) == [], (row.address, texts(row))
    # The reporter themselves is reached, on the contact that must not reach staff.
    assert Notification.objects.filter(report=report, audience=Audience.REPORTER, address=SENTINEL_EMAIL).exists()


def test_staff_of_a_named_report_still_read_only_its_public_title_and_tracking_id(world):
    sentinel = user_create(full_name=SENTINEL_NAME, email=SENTINEL_EMAIL, phone=SENTINEL_PHONE)
    report = world.submit(reporter=sentinel, title=f"Lampu mati, telepon {SENTINEL_PHONE}")

    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report

    staff = list(Notification.objects.filter(report=report, audience=Audience.STAFF))
    assert len(staff) == 2
    for row in staff:
        assert leaks(row) == [], texts(row)
        assert "Lampu mati, telepon [disamarkan]" in row.body


def test_internal_notes_never_reach_the_reporter(world):
    report = world.submit()

    whole_life(world, report)

    everything = list(Notification.objects.filter(report=report))
    assert any(row.audience == Audience.REPORTER for row in everything)
    for row in everything:
        assert "CATATAN-INTERNAL-7Q" not in texts(row)
    assert not Notification.objects.filter(event__action=Action.NOTE).exists()
