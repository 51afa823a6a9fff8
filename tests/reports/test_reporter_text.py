"""Every free-text field a reporter writes reaches every viewer who may not know the reporter masked,
on every page and shape that shows it; and an institution's own contact in its answer stays public.

The fields are the ones `Report.REPORTER_TEXT_FIELDS` declares; the first test walks the model so that
a new text field must be declared as the reporter's or as not theirs, and the others plant the
reporter's identity in every declared field, whatever it is.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.test import Client
from django.urls import reverse

from lapor.accounts.models import User
from lapor.accounts.services import user_create
from lapor.core.ids import format_tracking_id
from lapor.notifications.models import Notification
from lapor.reports.access import access_report
from lapor.reports.models import Report
from lapor.reports.privacy import MASK, mask_reporter_identity, reporter_text
from lapor.reports.selectors import staff_inbox
from lapor.reports.serializers import public_report, public_report_summary, reporter_view, staff_view
from lapor.reports.services import (
    report_comment,
    report_confirm,
    report_dispatch,
    report_follow_up,
    report_forward,
    report_rate,
)
from tests.console.conftest import verified_login
from tests.reports.conftest import World
from tests.reports.test_privacy import (
    SENTINEL_EMAIL,
    SENTINEL_NAME,
    SENTINEL_NIK,
    SENTINEL_PHONE,
    _leaks,
    _needles,
)

IDENTITY = _needles(SENTINEL_NAME, SENTINEL_EMAIL, SENTINEL_PHONE, SENTINEL_NIK)
# What a reporter writes in any box: their name, phone, e-mail and NIK.
PLANTED = f"{SENTINEL_NAME} {SENTINEL_PHONE} {SENTINEL_EMAIL} NIK {SENTINEL_NIK}"


def _text_fields() -> list[str]:
    return [
        field.name
        for field in Report._meta.get_fields()
        if isinstance(field, models.CharField | models.TextField) and field.concrete
    ]


def test_every_text_field_of_a_report_is_declared_as_the_reporters_or_not():
    declared = set(Report.REPORTER_TEXT_FIELDS) | set(Report.NOT_REPORTER_TEXT_FIELDS)
    undeclared = [name for name in _text_fields() if name not in declared]
    assert undeclared == [], f"Declare these in Report.REPORTER_TEXT_FIELDS or NOT_REPORTER_TEXT_FIELDS: {undeclared}"
    assert set(Report.REPORTER_TEXT_FIELDS).isdisjoint(Report.NOT_REPORTER_TEXT_FIELDS)
    # Nothing declared that the model does not have (a renamed field would otherwise go unmasked).
    assert declared <= set(_text_fields())
    assert {"title", "body", "address", "rating_comment"} <= set(Report.REPORTER_TEXT_FIELDS)


def test_only_declared_fields_pass_through_the_reporter_text_door(world: World):
    report = world.submit()
    with pytest.raises(ValueError, match="not a field the reporter writes"):
        reporter_text(report, "guest_name", known=False)


@pytest.fixture
def sentinel(world: World) -> User:
    return user_create(full_name=SENTINEL_NAME, email=SENTINEL_EMAIL, phone=SENTINEL_PHONE, nik=SENTINEL_NIK)


def _planted_report(world: World, reporter: User, *, anonymous: bool) -> Report:
    """A report dispatched to the city with a copy to the social ministry, forwarded to its transport
    office, answered, confirmed and rated, with the reporter's identity written in every box of the
    way (so that the notifications of each step carry it too); then planted again in every field the
    model declares as the reporter's, however many there are."""
    report = world.submit(
        reporter=reporter,
        is_anonymous=anonymous,
        target_institution=None,
        title=PLANTED,
        body=PLANTED,
        address=PLANTED,
    )
    report = report_dispatch(
        user=world.national_admin, report=report, institution=world.city, copies=[world.social_ministry]
    ).report
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report
    report = report_follow_up(user=world.officer, report=report, message="Lampu sudah diganti.", final=True).report
    report = report_confirm(user=reporter, report=report).report
    report = report_rate(user=reporter, report=report, rating=5, comment=PLANTED).report
    Report.objects.filter(pk=report.pk).update(**dict.fromkeys(Report.REPORTER_TEXT_FIELDS, PLANTED))
    report.refresh_from_db()
    return report


def _page(user: User | None, url: str) -> str:
    client = Client()
    if user is not None:
        verified_login(client, user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _console_pages(viewer: User, report: Report) -> list[str]:
    """The report's workspace page, and the first inbox queue of ``viewer`` that lists the report."""
    inbox = staff_inbox(viewer)
    queue = next(queue for queue, condition in inbox.queues.items() if inbox.reports.filter(condition, pk=report.pk))
    return [reverse("console:report", args=[report.tracking_id]), f"{reverse('console:inbox')}?antrian={queue}"]


def _console_page(viewer: User, url: str, report: Report) -> str:
    page = _page(viewer, url)
    assert format_tracking_id(report.tracking_id) in page, url  # the report is on the page, its text masked
    return page


# Everyone who handles an anonymous report for an institution: none may know who filed it.
HANDLERS = ("national_admin", "coordinator", "officer", "oversight", "copy_officer")


@pytest.mark.django_db
def test_an_anonymous_reporter_is_masked_in_every_field_they_write_for_every_handler(world, sentinel):
    report = _planted_report(world, sentinel, anonymous=True)
    for name in HANDLERS:
        viewer = getattr(world, name)
        view = staff_view(access_report(viewer, report.tracking_id), viewer=viewer)
        for field in Report.REPORTER_TEXT_FIELDS:
            assert MASK in getattr(view, field), (name, field)
            assert _leaks(getattr(view, field), IDENTITY) == [], (name, field)
        assert _leaks(view, IDENTITY) == [], name
        for url in _console_pages(viewer, report):
            assert _leaks(_console_page(viewer, url, report), IDENTITY) == [], (name, url)


@pytest.mark.django_db
def test_a_copy_holder_reads_a_named_reporters_fields_masked_and_the_owner_reads_them_whole(world, sentinel):
    report = _planted_report(world, sentinel, anonymous=False)
    copy_view = staff_view(access_report(world.copy_officer, report.tracking_id), viewer=world.copy_officer)
    for field in Report.REPORTER_TEXT_FIELDS:
        assert _leaks(getattr(copy_view, field), IDENTITY) == [], field
    for url in _console_pages(world.copy_officer, report):
        assert _leaks(_console_page(world.copy_officer, url, report), IDENTITY) == [], url
    # The positive control: staff who may know the reporter read the very same fields as written.
    owner_view = staff_view(access_report(world.coordinator, report.tracking_id), viewer=world.coordinator)
    for field in Report.REPORTER_TEXT_FIELDS:
        assert getattr(owner_view, field) == PLANTED, field
    assert SENTINEL_EMAIL in _page(world.coordinator, reverse("console:report", args=[report.tracking_id]))


@pytest.mark.django_db
def test_the_public_and_other_institutions_never_read_the_reporters_fields(world, sentinel):
    report = _planted_report(world, sentinel, anonymous=False)
    public: list[Any] = [
        public_report(access_report(AnonymousUser(), report.tracking_id)),
        public_report_summary(report),
    ]
    pages = [reverse("portal:report", args=[report.tracking_id]), reverse("portal:feed")]
    for url in pages:
        public.append(_page(None, url))
        public.append(_page(world.outsider, url))
    assert _leaks(public, IDENTITY) == []
    staff_messages = Notification.objects.exclude(recipient=sentinel).values_list("subject", "body")
    assert staff_messages.exists()
    assert _leaks(list(staff_messages), IDENTITY) == []
    # The reporter reads their own words whole.
    own = reporter_view(access_report(sentinel, report.tracking_id))
    assert own.title == own.body == own.address == PLANTED


# --- the institution's own answer ---------------------------------------------------------------------

OFFICE_PHONE = "021-1234567"
OFFICE_EMAIL = "pengaduan@dishub.tangerangselatankota.go.id"


@pytest.mark.django_db
def test_an_office_number_in_a_follow_up_is_published_while_the_reporters_own_contact_is_masked(world, sentinel):
    report = world.submit(reporter=sentinel)
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    message = (
        f"Hubungi {OFFICE_PHONE} atau {OFFICE_EMAIL}. Kami sudah menelepon Bapak {SENTINEL_NAME} "
        f"di {SENTINEL_PHONE} dan menulis ke {SENTINEL_EMAIL}; NIK {SENTINEL_NIK} sudah dicek."
    )
    report = report_follow_up(user=world.coordinator, report=report, message=message).report
    report_comment(user=world.coordinator, report=report, message=f"Informasi lanjut: {OFFICE_PHONE}.")
    events = public_report(access_report(AnonymousUser(), report.tracking_id)).events
    texts = [event.text for event in events if event.text]
    assert texts[0] == (
        f"Hubungi {OFFICE_PHONE} atau {OFFICE_EMAIL}. Kami sudah menelepon Bapak {MASK} "
        f"di {MASK} dan menulis ke {MASK}; NIK {MASK} sudah dicek."
    )
    assert texts[1] == f"Informasi lanjut: {OFFICE_PHONE}."
    page = _page(None, reverse("portal:report", args=[report.tracking_id]))
    assert f"Hubungi {OFFICE_PHONE}" in page
    assert _leaks(page, IDENTITY) == []


@pytest.mark.django_db
def test_a_citizens_comment_still_has_every_number_masked(world, sentinel):
    report = report_dispatch(user=world.national_admin, report=world.submit(), institution=world.city).report
    report_comment(user=world.member_of_public, report=report, message=f"Saya juga, hubungi {OFFICE_PHONE}.")
    events = public_report(access_report(AnonymousUser(), report.tracking_id)).events
    assert [event.text for event in events if event.text] == [f"Saya juga, hubungi {MASK}."]


@pytest.mark.parametrize(
    "written",
    [
        "+62 812-9988-7766",
        "0812 9988 7766",
        "6281299887766",
        "0812.9988.7766",
        "ZULKARNAIN.SENTINEL@rahasia-pelapor.example.id",
    ],
)
@pytest.mark.django_db
def test_the_reporters_own_contact_is_masked_in_staff_text_however_it_is_written(world, sentinel, written):
    report = world.submit(reporter=sentinel)
    assert mask_reporter_identity(report, f"Dihubungi di {written}, kantor {OFFICE_PHONE}.") == (
        f"Dihubungi di {MASK}, kantor {OFFICE_PHONE}."
    )
