"""A guest's reports join the account that proved the guest's e-mail address or phone number, and no
other account's; each claim is written in the report's trail."""

from __future__ import annotations

import dataclasses
import re

import pytest

from lapor.accounts.choices import OneTimeCodePurpose
from lapor.accounts.models import User
from lapor.accounts.services import user_contact_code_send, user_contact_verify, user_create
from lapor.core.audit import chain_verify
from lapor.notifications.models import Notification
from lapor.reports.access import capacities, visible_reports
from lapor.reports.choices import Action, Actor, Status, Visibility
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report, ReportEvent
from lapor.reports.serializers import reporter_view, staff_view
from lapor.reports.services import report_claim_by_contact, report_claim_candidates, report_dispatch
from tests.reports.conftest import World

EMAIL = "tamu@example.id"
PHONE = "+6281234567890"


def verified(user: User, address: str) -> User:
    """Prove ``address`` of ``user`` the way the portal does: a claim code sent and typed back."""
    user_contact_code_send(user=user, address=address, purpose=OneTimeCodePurpose.CLAIM, language="id")
    message = Notification.objects.filter(dedupe_key__startswith="one-time-code:").latest("pk")
    code = re.findall(r"(?<!\d)\d{6}(?!\d)", message.body)[0]
    return user_contact_verify(user=user, address=address, purpose=OneTimeCodePurpose.CLAIM, code=code)


def guest_report(world: World, **fields: object) -> Report:
    return world.submit(reporter=None, guest_name="Tamu", **fields)


def claimed_ids(user: User) -> set[str]:
    return {report.tracking_id for report in report_claim_by_contact(user=user)}


def test_claims_the_guest_reports_of_the_verified_email_only(world):
    mine = guest_report(world, guest_email=EMAIL)
    mine_capitalised = guest_report(world, guest_email=" Tamu@Example.ID ")
    someone_elses = guest_report(world, guest_email="lain@example.id")
    own_account = world.submit()  # filed by world.reporter's account
    user = verified(user_create(full_name="Tamu Terdaftar", email=EMAIL, password=None), EMAIL)

    assert set(report_claim_candidates(user=user).values_list("pk", flat=True)) == {mine.pk, mine_capitalised.pk}
    assert claimed_ids(user) == {mine.tracking_id, mine_capitalised.tracking_id}
    assert set(Report.objects.filter(reporter=user).values_list("pk", flat=True)) == {mine.pk, mine_capitalised.pk}
    assert Report.objects.get(pk=someone_elses.pk).reporter_id is None
    assert Report.objects.get(pk=own_account.pk).reporter_id == world.reporter.pk
    # Nothing is left to claim: a second claim is an empty answer.
    assert claimed_ids(user) == set()


def test_the_claim_is_an_event_of_each_report_and_changes_nothing_else(world):
    report = guest_report(world, guest_email=EMAIL)
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    user = verified(user_create(full_name="Tamu Terdaftar", email=EMAIL, password=None), EMAIL)
    notifications_before = Notification.objects.count()

    report_claim_by_contact(user=user)

    report.refresh_from_db()
    assert report.status == Status.DISPATCHED
    assert (report.guest_name, report.guest_email) == ("Tamu", EMAIL)
    event = ReportEvent.objects.filter(report=report).latest("sequence")
    assert event.action == Action.CLAIM
    assert (event.actor, event.actor_role, event.actor_institution) == (user, Actor.REPORTER, None)
    assert (event.from_status, event.to_status) == (Status.DISPATCHED, Status.DISPATCHED)
    assert event.visibility == Visibility.REPORTER
    assert event.details == {"contact": "email"}
    assert chain_verify(ReportEvent, chain_id=report.pk).ok
    # Nobody is told: the reporter did it, and staff have no business with it.
    assert Notification.objects.count() == notifications_before


def test_claimed_reports_are_the_accounts_own(world):
    report = guest_report(world, guest_email=EMAIL, is_confidential=True)
    user = verified(user_create(full_name="Tamu Terdaftar", email=EMAIL, password=None), EMAIL)
    assert not visible_reports(user).filter(pk=report.pk).exists()

    report_claim_by_contact(user=user)

    assert visible_reports(user).filter(pk=report.pk).exists()
    report.refresh_from_db()
    assert Actor.REPORTER in capacities(user, report)
    assert any(event.action == Action.CLAIM for event in reporter_view(report).events)


def test_staff_never_learn_who_claimed_an_anonymous_report(world):
    report = guest_report(world, guest_email=EMAIL, is_anonymous=True)
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    user = verified(user_create(full_name="Tamu Rahasia", email=EMAIL, password=None), EMAIL)
    report_claim_by_contact(user=user)
    report.refresh_from_db()

    seen = str(dataclasses.asdict(staff_view(report, viewer=world.coordinator)))

    assert "Tamu Rahasia" not in seen
    assert EMAIL not in seen
    claim = next(event for event in staff_view(report, viewer=world.coordinator).events if event.action == "claim")
    assert claim.actor_name is None


def test_claims_by_phone_whatever_the_format_the_guest_typed(world):
    typed = ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "(0812) 3456.7890"]
    mine = [guest_report(world, guest_phone=phone) for phone in typed]
    other = guest_report(world, guest_phone="0812-3456-7891")
    longer = guest_report(world, guest_phone="0812-3456-78901")
    user = verified(user_create(full_name="Tamu", phone="0812 3456 7890", password=None), PHONE)

    assert claimed_ids(user) == {report.tracking_id for report in mine}
    assert Report.objects.get(pk=other.pk).reporter_id is None
    assert Report.objects.get(pk=longer.pk).reporter_id is None
    claims = ReportEvent.objects.filter(action=Action.CLAIM)
    assert [event.details for event in claims] == [{"contact": "phone"}] * len(mine)


def test_an_unverified_contact_claims_nothing(world):
    report = guest_report(world, guest_email=EMAIL, guest_phone=PHONE)
    user = user_create(full_name="Tamu", email=EMAIL, phone=PHONE, password=None)
    assert user.verified_contacts() == []

    assert list(report_claim_candidates(user=user)) == []
    assert report_claim_by_contact(user=user) == []
    assert Report.objects.get(pk=report.pk).reporter_id is None
    assert not ReportEvent.objects.filter(action=Action.CLAIM).exists()


def test_only_the_verified_one_of_two_contacts_claims(world):
    by_email = guest_report(world, guest_email=EMAIL)
    by_phone = guest_report(world, guest_phone=PHONE)
    user = verified(user_create(full_name="Tamu", email=EMAIL, phone=PHONE, password=None), PHONE)

    assert claimed_ids(user) == {by_phone.tracking_id}
    assert Report.objects.get(pk=by_email.pk).reporter_id is None


def test_a_contact_verified_then_changed_claims_nothing(world):
    guest_report(world, guest_email=EMAIL)
    guest_report(world, guest_email="baru@example.id")
    user = verified(user_create(full_name="Tamu", email=EMAIL, password=None), EMAIL)
    # Changed where no code was asked for (the admin): the proof of the old address does not carry over.
    User.objects.filter(pk=user.pk).update(email="baru@example.id")
    user.refresh_from_db()

    assert report_claim_by_contact(user=user) == []
    assert not Report.objects.filter(reporter=user).exists()


def test_a_report_claimed_meanwhile_is_left_alone(world):
    report = guest_report(world, guest_email=EMAIL)
    first = verified(user_create(full_name="Tamu", email=EMAIL, password=None), EMAIL)
    Report.objects.filter(pk=report.pk).update(reporter=world.member_of_public)

    assert report_claim_by_contact(user=first) == []
    assert Report.objects.get(pk=report.pk).reporter_id == world.member_of_public.pk


def test_a_deactivated_or_anonymous_user_cannot_claim(world):
    from django.contrib.auth.models import AnonymousUser

    user = verified(user_create(full_name="Tamu", email=EMAIL, password=None), EMAIL)
    user.is_active = False
    for who in (user, AnonymousUser()):
        with pytest.raises(ReportError) as error:
            report_claim_by_contact(user=who)  # type: ignore[arg-type]
        assert error.value.code == ReportErrorCode.ACTION_NOT_ALLOWED


def test_staff_still_see_the_phone_the_guest_gave_after_an_email_claim(world):
    report = guest_report(world, guest_email=EMAIL, guest_phone="0812-3456-7000")
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    before = staff_view(report, viewer=world.coordinator).reporter
    user = verified(user_create(full_name="Tamu Terdaftar", email=EMAIL, password=None), EMAIL)

    report_claim_by_contact(user=user)

    after = staff_view(Report.objects.get(pk=report.pk), viewer=world.coordinator).reporter
    assert before is not None
    assert after is not None
    assert before.phone == after.phone == "0812-3456-7000"
    assert after.email == EMAIL
    assert after.name == "Tamu Terdaftar"


def test_an_account_phone_comes_first_and_a_different_one_given_on_the_report_stays(world):
    report = guest_report(world, guest_email=EMAIL, guest_phone="0812-3456-7000")
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    user = user_create(full_name="Tamu Terdaftar", email=EMAIL, phone="0813 9999 0000", password=None)
    verified(user, EMAIL)

    report_claim_by_contact(user=user)

    after = staff_view(Report.objects.get(pk=report.pk), viewer=world.coordinator).reporter
    assert after is not None
    assert after.phone == "+6281399990000, 0812-3456-7000"
