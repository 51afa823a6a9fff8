"""Who hears of what, driven through the real report services (the outbox rows, before delivery)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone, translation

from lapor.accounts.choices import Role
from lapor.accounts.models import Membership
from lapor.accounts.services import membership_grant, user_create
from lapor.core.audit import chain_append
from lapor.core.ids import format_tracking_id
from lapor.notifications.choices import Audience, DeliveryStatus, NotificationChannel
from lapor.notifications.models import Notification
from lapor.reports.choices import Action, Actor, ArchiveReason, Clock, Status
from lapor.reports.models import Report, ReportClock, ReportEvent
from lapor.reports.notices.compose import SMS_LENGTH, format_deadline
from lapor.reports.notices.services import notify_for_event
from lapor.reports.services import (
    report_archive,
    report_comment,
    report_confirm,
    report_deem_complete,
    report_dispatch,
    report_follow_up,
    report_forward,
    report_hold,
    report_merge,
    report_note,
    report_provide_information,
    report_rate,
    report_refer,
    report_request_information,
    report_return,
    report_set_privacy,
)
from lapor.reports.timers import clock_escalate, clock_warn
from tests.reports.conftest import World


def latest_event(report: Report) -> ReportEvent:
    return ReportEvent.objects.filter(report=report).latest("sequence")


def addresses(event: ReportEvent) -> dict[str, str]:
    """address -> audience of every notification the event produced."""
    return {row.address: row.audience for row in Notification.objects.filter(event=event)}


def reporter_addresses(event: ReportEvent) -> set[str]:
    return {address for address, audience in addresses(event).items() if audience == Audience.REPORTER}


def only(event: ReportEvent, address: str) -> Notification:
    return Notification.objects.get(event=event, address=address)


def due_of(report: Report, clock: Clock) -> str:
    running = ReportClock.objects.get(report=report, clock=clock, stopped_at__isnull=True)
    return format_deadline(running.due_at, report.time_zone)


def system_event(report: Report, action: Action, **details: object) -> ReportEvent:
    with transaction.atomic():
        return chain_append(
            ReportEvent,
            chain_id=report.pk,
            actor=None,
            actor_role=Actor.SYSTEM,
            action=action,
            from_status=report.status,
            to_status=report.status,
            details=details,
        )


def dispatched(world: World, **submit: object) -> Report:
    report = world.submit(**submit)
    return report_dispatch(user=world.national_admin, report=report, institution=world.city).report


def test_submission_tells_the_reporter_the_tracking_id_status_and_verification_deadline(world):
    report = world.submit()

    event = latest_event(report)
    assert addresses(event) == {"rina@example.id": Audience.REPORTER}
    receipt = only(event, "rina@example.id")
    assert receipt.channel == NotificationChannel.EMAIL
    assert receipt.recipient == world.reporter
    assert receipt.report == report
    assert receipt.status == DeliveryStatus.PENDING
    assert receipt.language == "id"
    assert format_tracking_id(report.tracking_id) in receipt.subject
    assert "Laporan diterima" in receipt.subject
    assert "Status: Belum Terverifikasi" in receipt.body
    assert f"Batas waktu berikutnya: {due_of(report, Clock.VERIFY_DISPATCH)}" in receipt.body
    assert receipt.body.startswith("Yth. Rina Pelapor,")


def test_the_deadline_reads_as_indonesians_write_it():
    end_of_wednesday_in_jakarta = datetime(2026, 12, 2, 16, 59, 59, 999999, tzinfo=UTC)
    assert format_deadline(end_of_wednesday_in_jakarta, "Asia/Jakarta") == "Rabu, 2 Desember 2026 23.59 WIB"
    assert format_deadline(end_of_wednesday_in_jakarta, "Asia/Jayapura") == "Kamis, 3 Desember 2026 01.59 WIT"
    assert format_deadline(end_of_wednesday_in_jakarta, "Asia/Makassar", short=True) == "3 Des 2026 00.59 WITA"
    with translation.override("en"):
        assert format_deadline(end_of_wednesday_in_jakarta, "Asia/Jakarta") == "Wednesday 2 December 2026, 23:59 WIB"


def test_dispatch_tells_the_reporter_and_the_coordinators_of_the_new_owner(world):
    report = dispatched(world)

    event = latest_event(report)
    assert addresses(event) == {"rina@example.id": Audience.REPORTER, "koordinator@example.id": Audience.STAFF}
    reporter = only(event, "rina@example.id")
    assert "Didisposisikan ke Pemerintah Kota Tangerang Selatan" in reporter.subject
    assert "Status: Terdisposisi Belum Ditindaklanjuti" in reporter.body
    assert due_of(report, Clock.FIRST_FOLLOW_UP) in reporter.body
    coordinator = only(event, "koordinator@example.id")
    assert coordinator.recipient == world.coordinator
    assert "Laporan baru untuk Pemerintah Kota Tangerang Selatan" in coordinator.subject
    assert report.public_title in coordinator.body
    assert due_of(report, Clock.FIRST_FOLLOW_UP) in coordinator.body


def test_a_copy_tells_the_coordinators_of_the_copied_institution_for_their_information(world):
    social_coordinator = user_create(full_name="Koordinator Kemensos", email="koord.sosial@example.id")
    membership_grant(user=social_coordinator, institution=world.social_ministry, role=Role.COORDINATOR)
    report = world.submit()
    report = report_dispatch(
        user=world.national_admin, report=report, institution=world.city, copies=[world.social_ministry]
    ).report

    event = latest_event(report)
    assert addresses(event) == {
        "rina@example.id": Audience.REPORTER,
        "koordinator@example.id": Audience.STAFF,
        "koord.sosial@example.id": Audience.STAFF,
    }
    copy = only(event, "koord.sosial@example.id")
    assert "Salinan laporan untuk Kementerian Sosial" in copy.subject
    assert "Pemerintah Kota Tangerang Selatan bertanggung jawab atas tindak lanjutnya" in copy.body
    assert "Laporan baru untuk Pemerintah Kota Tangerang Selatan" in only(event, "koordinator@example.id").subject


def test_forward_tells_the_liaison_officers_of_each_unit_and_not_the_reporter(world):
    report = dispatched(world)

    report = report_forward(user=world.coordinator, report=report, units=[world.transport, world.environment]).report

    event = latest_event(report)
    assert addresses(event) == {"dishub@example.id": Audience.STAFF, "dlh@example.id": Audience.STAFF}
    assert "Laporan diteruskan ke Dinas Perhubungan" in only(event, "dishub@example.id").subject
    assert "Laporan diteruskan ke Dinas Lingkungan Hidup" in only(event, "dlh@example.id").subject


def test_inactive_members_and_the_actor_hear_nothing(world):
    revoked = user_create(full_name="Mantan Koordinator", email="mantan@example.id")
    membership = membership_grant(user=revoked, institution=world.city, role=Role.COORDINATOR)
    Membership.objects.filter(pk=membership.pk).update(is_active=False)
    colleague = user_create(full_name="Rekan Koordinator", email="rekan@example.id")
    membership_grant(user=colleague, institution=world.city, role=Role.COORDINATOR)
    report = world.submit(target_institution=world.city)

    # The city's coordinator verifies a report sent straight to the city and keeps it there.
    report = report_dispatch(user=world.coordinator, report=report, institution=world.city).report

    assert addresses(latest_event(report)) == {
        "rekan@example.id": Audience.STAFF,
        "rina@example.id": Audience.REPORTER,
    }


def test_follow_ups_carry_the_message_and_what_the_reporter_can_do_next(world):
    report = dispatched(world)
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report

    report = report_follow_up(user=world.officer, report=report, message="Petugas sudah dijadwalkan hari Kamis.").report
    progress = only(latest_event(report), "rina@example.id")
    assert addresses(latest_event(report)) == {"rina@example.id": Audience.REPORTER}
    assert "Perkembangan penanganan" in progress.subject
    assert "Tindak lanjut:\nPetugas sudah dijadwalkan hari Kamis." in progress.body
    assert "Status: Terdisposisi Sedang Diproses" in progress.body
    assert due_of(report, Clock.RESOLUTION) in progress.body

    # A second progress follow-up changes no status, and the reporter still hears of it.
    report = report_follow_up(user=world.officer, report=report, message="Tiang lampu sudah dipesan.").report
    assert "Tiang lampu sudah dipesan." in only(latest_event(report), "rina@example.id").body

    report = report_follow_up(user=world.officer, report=report, message="Lampu sudah diganti.", final=True).report
    final = only(latest_event(report), "rina@example.id")
    assert "Tindak lanjut akhir: mohon ditanggapi" in final.subject
    assert "Lampu sudah diganti." in final.body
    assert "Status: Terdisposisi Selesai" in final.body
    assert f"Batas waktu berikutnya: {due_of(report, Clock.REPORTER_REPLY)}" in final.body
    for next_step in ("konfirmasi hasilnya", "sanggah", "penilaian"):
        assert next_step in final.body

    report = report_confirm(user=world.reporter, report=report).report
    closed = only(latest_event(report), "rina@example.id")
    assert "Laporan ditutup" in closed.subject
    assert "penilaian" in closed.body  # not rated yet
    assert "Batas waktu" not in closed.body

    report = report_rate(user=world.reporter, report=report, rating=5).report
    assert not Notification.objects.filter(event=latest_event(report)).exists()


def test_archive_tells_the_reason_label_the_explanation_and_how_to_appeal(world):
    report = world.submit()

    report = report_archive(
        user=world.national_admin,
        report=report,
        reason=ArchiveReason.DUPLICATE,
        explanation="Sama dengan laporan minggu lalu.",
    ).report

    event = latest_event(report)
    assert addresses(event) == {"rina@example.id": Audience.REPORTER}
    notice = only(event, "rina@example.id")
    assert "Laporan diarsipkan" in notice.subject
    assert "Alasan: Laporan yang sama sudah pernah disampaikan." in notice.body
    assert "Penjelasan:\nSama dengan laporan minggu lalu." in notice.body
    assert "mengajukan keberatan" in notice.body
    assert "Status: Arsip" in notice.body


def test_a_request_for_details_carries_the_question_and_the_reporters_deadline(world):
    report = world.submit()

    report = report_request_information(
        user=world.national_admin, report=report, question="Di nomor berapa tiang lampunya?"
    ).report

    notice = only(latest_event(report), "rina@example.id")
    assert "Perlu kelengkapan data" in notice.subject
    assert "Pertanyaan:\nDi nomor berapa tiang lampunya?" in notice.body
    assert f"Batas waktu berikutnya: {due_of(report, Clock.INFORMATION_REPLY)}" in notice.body
    assert "diarsipkan" in notice.body

    reminder_event = system_event(report, Action.REMIND, reminder=1)
    notify_for_event(event=reminder_event)
    reminder = only(reminder_event, "rina@example.id")
    assert "Pengingat" in reminder.subject
    assert "Di nomor berapa tiang lampunya?" in reminder.body
    assert due_of(report, Clock.INFORMATION_REPLY) in reminder.body

    report = report_provide_information(user=world.reporter, report=report, answer="Tiang nomor 17.").report
    answered = only(latest_event(report), "rina@example.id")
    assert "Kelengkapan data diterima" in answered.subject
    # The reporter's own words are not echoed back to them.
    assert "Tiang nomor 17." not in answered.body
    assert due_of(report, Clock.VERIFY_DISPATCH) in answered.body


def test_hold_tells_the_reason_and_the_date_it_resumes(world, today):
    report = world.submit()
    resume_on = today + timedelta(days=14)

    report = report_hold(
        user=world.national_admin, report=report, reason="Menunggu anggaran.", resume_on=resume_on
    ).report

    notice = only(latest_event(report), "rina@example.id")
    assert "Laporan ditunda" in notice.subject
    assert "Alasan:\nMenunggu anggaran." in notice.body
    assert str(resume_on.year) in notice.body
    assert "Status: Tertunda" in notice.body


def test_merge_points_the_reporter_to_the_surviving_report(world):
    survivor = dispatched(world, title="Lampu jalan mati (laporan pertama)")
    other_reporter = user_create(full_name="Budi Kedua", email="budi@example.id")
    duplicate = world.submit(reporter=other_reporter)

    duplicate = report_merge(user=world.national_admin, report=duplicate, into=survivor).report

    merge_event = ReportEvent.objects.get(report=duplicate, action=Action.MERGE)
    notice = only(merge_event, "budi@example.id")
    assert f"Digabungkan ke laporan {format_tracking_id(survivor.tracking_id)}" in notice.subject
    assert format_tracking_id(survivor.tracking_id) in notice.body
    # The staff-only note written on the survivor tells nobody anything.
    assert not Notification.objects.filter(event__report=survivor, event__action=Action.NOTE).exists()


def test_a_unit_returning_the_report_tells_its_coordinators_only(world):
    report = dispatched(world)
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report

    report = report_return(user=world.officer, report=report, reason="Ini urusan Dinas Lingkungan Hidup.").report

    event = latest_event(report)
    assert addresses(event) == {"koordinator@example.id": Audience.STAFF}
    notice = only(event, "koordinator@example.id")
    assert "Laporan dikembalikan oleh Dinas Perhubungan" in notice.subject
    assert "Alasan:\nIni urusan Dinas Lingkungan Hidup." in notice.body


def test_an_institution_returning_to_the_national_queue_tells_the_national_admins_and_the_reporter(world):
    report = dispatched(world)

    report = report_return(user=world.coordinator, report=report, reason="Bukan kewenangan kota.").report

    event = latest_event(report)
    assert report.status == Status.RETURNED
    assert addresses(event) == {"nasional@example.id": Audience.STAFF, "rina@example.id": Audience.REPORTER}
    assert "Laporan dikembalikan oleh Pemerintah Kota Tangerang Selatan" in only(event, "nasional@example.id").subject
    reporter = only(event, "rina@example.id")
    assert "Status: Bukan Wewenang: Dialihkan" in reporter.body
    assert due_of(report, Clock.VERIFY_DISPATCH) in reporter.body


def test_a_return_to_a_regional_dispatcher_tells_its_coordinators(world):
    report = world.submit(target_institution=world.city)
    report = report_dispatch(user=world.coordinator, report=report, institution=world.transport).report
    officer_coordinator = user_create(full_name="Dina Dishub", email="kadis@example.id")
    membership_grant(user=officer_coordinator, institution=world.transport, role=Role.COORDINATOR)

    report = report_return(user=officer_coordinator, report=report, reason="Salah alamat.").report

    assert addresses(latest_event(report)) == {
        "koordinator@example.id": Audience.STAFF,
        "rina@example.id": Audience.REPORTER,
    }


def test_deemed_complete_and_referral_tell_the_reporter(world):
    report = dispatched(world)
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report
    report = report_follow_up(user=world.officer, report=report, message="Selesai.", final=True).report
    past = timezone.now() - timedelta(minutes=1)
    ReportClock.objects.filter(report=report, clock=Clock.REPORTER_REPLY).update(due_at=past)

    closed = report_deem_complete(report=report)

    assert closed is not None
    notice = only(latest_event(report), "rina@example.id")
    assert "Laporan ditutup tanpa tanggapan Anda" in notice.subject
    assert "dianggap selesai" in notice.body

    stuck = dispatched(world)
    ReportClock.objects.filter(report=stuck, clock=Clock.OVERALL).update(due_at=past)
    stuck = report_refer(user=world.reporter, report=stuck).report
    referral = only(latest_event(stuck), "rina@example.id")
    assert "Dilimpahkan ke Ombudsman RI" in referral.subject


@pytest.mark.parametrize("action", [Action.WARN, Action.ESCALATE])
def test_timer_events_reach_whoever_their_details_name_and_never_the_reporter(world, action):
    report = dispatched(world)
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report

    by_institution = system_event(
        report, action, notify_institution=world.city.pk, level=1, clock=Clock.FIRST_FOLLOW_UP
    )
    by_role = system_event(
        report, action, notify_institution=world.transport.pk, notify_roles=[Role.LIAISON_OFFICER], level=2
    )
    # People named by id win over the institution and roles they were chosen by.
    by_user = system_event(
        report,
        action,
        notify_user_ids=[world.oversight.pk],
        notify_institution=world.city.pk,
        notify_roles=[Role.COORDINATOR],
        clock=Clock.RESOLUTION,
        level=3,
    )
    for event in (by_institution, by_role, by_user):
        notify_for_event(event=event)

    assert addresses(by_institution) == {"koordinator@example.id": Audience.STAFF}
    assert addresses(by_role) == {"dishub@example.id": Audience.STAFF}
    assert addresses(by_user) == {"ombudsman@example.id": Audience.STAFF}
    notice = only(by_institution, "koordinator@example.id")
    assert "Tindak lanjut pertama" in notice.subject
    assert due_of(report, Clock.FIRST_FOLLOW_UP) in notice.body
    if action == Action.ESCALATE:
        assert "Melewati batas waktu" in notice.subject
        assert "Eskalasi tingkat 3." in only(by_user, "ombudsman@example.id").body
    else:
        assert "Batas waktu mendekat" in notice.subject


def test_the_timers_warn_the_handlers_and_escalate_to_the_national_admins(world):
    report = dispatched(world)
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report
    clock = ReportClock.objects.get(report=report, clock=Clock.FIRST_FOLLOW_UP, stopped_at__isnull=True)

    assert clock_warn(clock_id=clock.pk, now=clock.yellow_at)
    warning = latest_event(report)
    assert clock_escalate(clock_id=clock.pk, now=clock.due_at + timedelta(seconds=1)) == 2  # nobody in between
    escalation = latest_event(report)

    assert (warning.action, escalation.action) == (Action.WARN, Action.ESCALATE)
    assert addresses(warning) == {"koordinator@example.id": Audience.STAFF, "dishub@example.id": Audience.STAFF}
    assert addresses(escalation) == {"nasional@example.id": Audience.STAFF}
    notice = only(escalation, "nasional@example.id")
    assert "Melewati batas waktu: Tindak lanjut pertama" in notice.subject
    assert "Eskalasi tingkat 2." in notice.body
    assert format_deadline(clock.due_at, report.time_zone) in notice.body


def test_comments_notes_and_redactions_notify_nobody(world):
    report = dispatched(world)
    before = Notification.objects.count()

    report_comment(user=world.member_of_public, report=report, message="Saya juga mengalami.")
    report_note(user=world.coordinator, report=report, message="Catatan internal.")

    assert Notification.objects.count() == before


def test_the_reporter_hears_when_staff_change_who_may_see_the_report_but_not_their_note(world):
    report = world.submit(is_anonymous=True)
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    before = Notification.objects.count()

    report = report_set_privacy(
        user=world.national_admin, report=report, is_anonymous=False, is_confidential=True, note="Catatan internal."
    ).report

    event = latest_event(report)
    assert addresses(event) == {"rina@example.id": Audience.REPORTER}
    notice = only(event, "rina@example.id")
    assert "Catatan internal." not in notice.body
    assert Notification.objects.count() == before + 1
    assert "Siapa yang dapat melihat laporan Anda telah berubah" in notice.subject
    assert "kini dapat melihat nama dan kontak Anda" in notice.body
    assert "Laporan Anda tidak dipublikasikan." in notice.body


def test_notifying_twice_for_the_same_event_writes_nothing_new(world):
    report = dispatched(world)
    event = latest_event(report)
    first = Notification.objects.filter(event=event).order_by("pk")
    assert first.count() == 2

    again = notify_for_event(event=event)

    assert [row.pk for row in again] == [row.pk for row in first]
    assert Notification.objects.filter(event=event).count() == 2
    assert {row.dedupe_key for row in again} == {
        f"event:{event.pk}:user:{world.reporter.pk}:email",
        f"event:{event.pk}:user:{world.coordinator.pk}:email",
    }


def test_english_for_those_who_prefer_it(world):
    world.reporter.preferred_language = "en"
    world.reporter.save(update_fields=["preferred_language"])

    report = dispatched(world)

    notice = only(latest_event(report), "rina@example.id")
    assert notice.language == "en"
    assert "Dispatched to Pemerintah Kota Tangerang Selatan" in notice.subject
    assert notice.body.startswith("Dear Rina Pelapor,")
    assert "Status: Dispatched, no follow-up yet" in notice.body
    assert "Next deadline: " in notice.body
    assert "WIB (the institution's first follow-up)" in notice.body
    # The coordinator keeps Indonesian.
    assert "Laporan baru" in only(latest_event(report), "koordinator@example.id").subject


def test_guests_are_told_on_the_contact_they_gave(world):
    by_phone = world.submit(reporter=None, guest_name="Tamu", guest_phone="0812-3456-7890")
    sms = only(latest_event(by_phone), "+6281234567890")
    assert (sms.channel, sms.recipient, sms.language, sms.subject) == (NotificationChannel.SMS, None, "id", "")
    assert sms.dedupe_key.endswith(":guest:sms")

    # The acknowledgement (the guest's only way to their private link) goes to every contact given;
    # what follows goes to one of them, so that nobody gets every message twice.
    both = world.submit(reporter=None, guest_email="tamu@example.id", guest_phone="081234567890")
    assert addresses(latest_event(both)) == {"tamu@example.id": Audience.REPORTER, "+6281234567890": Audience.REPORTER}
    assert only(latest_event(both), "tamu@example.id").body.startswith("Yth. Pelapor,")
    both = report_dispatch(user=world.national_admin, report=both, institution=world.city).report
    assert reporter_addresses(latest_event(both)) == {"tamu@example.id"}

    # Who reported by SMS is answered by SMS.
    texted = world.submit(reporter=None, guest_email="tamu@example.id", guest_phone="081234567890", channel="sms")
    texted = report_dispatch(user=world.national_admin, report=texted, institution=world.city).report
    assert reporter_addresses(latest_event(texted)) == {"+6281234567890"}


def test_staff_without_e_mail_get_sms(world):
    phone_only = user_create(full_name="Pak Lurah", phone="081311112222")
    membership_grant(user=phone_only, institution=world.transport, role=Role.LIAISON_OFFICER)
    report = dispatched(world)

    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report

    assert addresses(latest_event(report)) == {"dishub@example.id": Audience.STAFF, "+6281311112222": Audience.STAFF}


def test_sms_fit_in_one_message_and_long_messages_are_cut(world):
    report = world.submit(reporter=None, guest_phone="081234567890")
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report
    report = report_follow_up(
        user=world.officer, report=report, message="Diperbaiki besok." + " Terima kasih" * 40
    ).report

    sms = Notification.objects.filter(report=report, channel=NotificationChannel.SMS).order_by("pk")
    assert sms.count() == 3
    for row in sms:
        assert len(row.body) <= SMS_LENGTH, row.body
        assert row.body.isascii(), row.body  # GSM-7 friendly: one non-GSM character halves the room
        assert format_tracking_id(report.tracking_id) in row.body
    follow_up = sms.last()
    assert follow_up is not None
    assert "Diperbaiki besok." in follow_up.body
    assert follow_up.body.endswith("...")
    assert "Batas: " in follow_up.body
