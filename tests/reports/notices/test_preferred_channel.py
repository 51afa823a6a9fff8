"""The channel a person chose in their preferences decides where their messages go, when it can reach
them; without a choice Lapor keeps choosing (e-mail, or SMS for a report that came by SMS)."""

from __future__ import annotations

import pytest

from lapor.accounts.choices import PreferredChannel
from lapor.accounts.models import User
from lapor.accounts.services import user_create, user_preferences_set
from lapor.notifications.choices import NotificationChannel
from lapor.notifications.models import Notification
from lapor.reports.choices import Channel
from lapor.reports.models import Report, ReportEvent
from lapor.reports.services import report_dispatch
from tests.reports.conftest import World

PHONE = "+6281234567890"


def reporter_message(report: Report) -> Notification:
    event = ReportEvent.objects.filter(report=report).latest("sequence")
    return Notification.objects.get(event=event, recipient=report.reporter)


def reporter_with_both(channel: str) -> User:
    user = user_create(full_name="Dua Kontak", email="dua@example.id", phone="0812 3456 7890", password=None)
    return user_preferences_set(user=user, preferred_language="id", preferred_channel=channel)


@pytest.mark.parametrize(
    ("preference", "report_channel", "expected"),
    [
        (PreferredChannel.AUTOMATIC, Channel.WEB, (NotificationChannel.EMAIL, "dua@example.id")),
        (PreferredChannel.AUTOMATIC, Channel.SMS, (NotificationChannel.SMS, PHONE)),
        (PreferredChannel.SMS, Channel.WEB, (NotificationChannel.SMS, PHONE)),
        (PreferredChannel.EMAIL, Channel.SMS, (NotificationChannel.EMAIL, "dua@example.id")),
    ],
)
def test_the_reporters_choice_wins_over_the_reports_channel(world: World, preference, report_channel, expected):
    reporter = reporter_with_both(preference)

    report = world.submit(reporter=reporter, channel=report_channel)

    message = reporter_message(report)
    assert (message.channel, message.address) == expected


def test_a_choice_that_cannot_reach_the_person_falls_back(world: World):
    reporter = reporter_with_both(PreferredChannel.SMS)
    User.objects.filter(pk=reporter.pk).update(phone=None)  # the number was removed since
    reporter.refresh_from_db()

    report = world.submit(reporter=reporter)

    message = reporter_message(report)
    assert (message.channel, message.address) == (NotificationChannel.EMAIL, "dua@example.id")


def test_staff_preferences_are_honoured_too(world: World):
    coordinator = world.coordinator
    User.objects.filter(pk=coordinator.pk).update(phone=PHONE)
    coordinator.refresh_from_db()
    user_preferences_set(user=coordinator, preferred_language="id", preferred_channel=PreferredChannel.SMS)
    report = world.submit()

    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report

    event = ReportEvent.objects.filter(report=report).latest("sequence")
    message = Notification.objects.get(event=event, recipient=coordinator)
    assert (message.channel, message.address) == (NotificationChannel.SMS, PHONE)
    assert "\n" not in message.body
