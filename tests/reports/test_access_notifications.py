"""Staff notifications follow the reach table: a staff member who may not know who filed a report (a
copy holder, anyone for an anonymous report) reads no trace of the reporter in what they are sent,
whoever filed it (an account, a guest, or a guest report later claimed by an account); the staff
handling a named report read it as it was written."""

from __future__ import annotations

from lapor.accounts.choices import Role
from lapor.accounts.services import membership_grant, user_create
from lapor.notifications.choices import Audience
from lapor.notifications.models import Notification
from lapor.reports.services import report_claim_by_contact, report_dispatch
from tests.reports.conftest import World
from tests.reports.test_claim import verified

NAME = "Sentinela Rahasiawati"
EMAIL = "sentinela.rahasia@example.id"
NOTE = f"Pelapor {NAME} minta dihubungi."


def _staff_texts(report_pk: int, address: str) -> list[str]:
    rows = Notification.objects.filter(report_id=report_pk, audience=Audience.STAFF, address=address)
    return [f"{row.subject}\n{row.body}" for row in rows]


def test_a_copy_holder_hears_of_a_named_report_without_its_reporter(world: World) -> None:
    copy_coordinator = user_create(full_name="Kosi Salinan", email="salinan@example.id")
    membership_grant(user=copy_coordinator, institution=world.social_ministry, role=Role.COORDINATOR)
    reporter = user_create(full_name=NAME, email=EMAIL)
    report = world.submit(reporter=reporter)

    report_dispatch(
        user=world.national_admin, report=report, institution=world.city, copies=[world.social_ministry], note=NOTE
    )

    copy_texts = _staff_texts(report.pk, "salinan@example.id")
    owner_texts = _staff_texts(report.pk, "koordinator@example.id")
    assert copy_texts
    assert owner_texts
    for text in copy_texts:
        assert "sentinela" not in text.lower(), text
        assert "rahasiawati" not in text.lower(), text
    # The owner's coordinator handles the report and may know its reporter: the note reads as written.
    assert any(NAME in text for text in owner_texts)


def test_an_anonymous_report_claimed_by_an_account_keeps_the_guest_s_name_out_of_staff_messages(
    world: World,
) -> None:
    report = world.submit(reporter=None, guest_name=NAME, guest_email=EMAIL, is_anonymous=True)
    account = user_create(full_name="Budi Akun", email=EMAIL)
    account = verified(account, EMAIL)
    assert [claimed.pk for claimed in report_claim_by_contact(user=account)] == [report.pk]
    report.refresh_from_db()

    report_dispatch(user=world.national_admin, report=report, institution=world.city, note=NOTE)

    texts = _staff_texts(report.pk, "koordinator@example.id")
    assert texts
    for text in texts:
        assert "sentinela" not in text.lower(), text
        assert "rahasiawati" not in text.lower(), text


def test_a_copy_holder_reads_a_staff_note_about_a_named_report_without_its_reporter_on_screen_too(
    world: World,
) -> None:
    from lapor.reports.serializers import staff_view

    copy_coordinator = user_create(full_name="Kosi Salinan", email="salinan@example.id")
    membership_grant(user=copy_coordinator, institution=world.social_ministry, role=Role.COORDINATOR)
    reporter = user_create(full_name=NAME, email=EMAIL)
    report = world.submit(reporter=reporter)
    office_note = f"{NOTE} Kantor kami: 021-5551234."
    report_dispatch(
        user=world.national_admin,
        report=report,
        institution=world.city,
        copies=[world.social_ministry],
        note=office_note,
    )
    report.refresh_from_db()

    def shown(viewer) -> str:
        return "\n".join(str(event.text) for event in staff_view(report, viewer=viewer).events)

    copy_screen = shown(copy_coordinator)
    assert "Sentinela" not in copy_screen
    assert "Rahasiawati" not in copy_screen
    # Only the reporter's identity is masked: the office's own number stays for staff to use.
    assert "021-5551234" in copy_screen
    assert NAME in shown(world.coordinator)
