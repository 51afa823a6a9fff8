"""Privacy by construction.

An anonymous reporter's identity appears in nothing that institution staff, the public, API clients,
exports or staff notifications can get; a confidential report is invisible to the public and to every
institution except its owner and copies. Before a report is published, NIK numbers, phone numbers and
e-mail addresses in its public text are masked; staff can redact more (reports.services.report_redact);
the original stays visible only to those allowed.

The tests plant a sentinel name, e-mail, phone and NIK in an anonymous report, drive it through its
whole life with the real services, and scan every output for them.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from lapor.accounts.services import user_create
from lapor.notifications.models import Notification
from lapor.reports.access import access_report, capacities, reporter_identity, visible_reports
from lapor.reports.choices import Action, Actor, ArchiveReason, Clock, ClockState, Status, Visibility
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Attachment, Report, ReportClock, ReportEvent
from lapor.reports.privacy import MASK, mask_personal_data
from lapor.reports.read_models import InstitutionRef, RegionNames, ReporterContact
from lapor.reports.serializers import export_rows, public_report, reporter_view, staff_view
from lapor.reports.services import (
    report_archive,
    report_attach,
    report_comment,
    report_confirm,
    report_dispatch,
    report_dispute,
    report_follow_up,
    report_forward,
    report_merge,
    report_note,
    report_provide_information,
    report_rate,
    report_redact,
    report_request_information,
)

# --- masking ----------------------------------------------------------------------------------------

PERSONAL = [
    # mobile numbers, as people type them
    "0812-3456-7890",
    "0812 3456 7890",
    "0812.3456.7890",
    "081234567890",
    "08123456789",
    "0811-123-456",
    "+62 812 3456 7890",
    "+62-812-3456-7890",
    "+6281234567890",
    "(+62) 812 3456 7890",
    "6281234567890",
    "62 812-3456-7890",
    # fixed lines with area codes
    "(021) 555-1234",
    "(021) 5551234",
    "021-555-1234",
    "021 5551 2345",
    "(0274) 512345",
    "0251-8312345",
    "+62 21 555 1234",
    "+62 (21) 555-1234",
    # NIK (and family card numbers, also 16 digits)
    "3674015708900003",
    "3674 0157 0890 0003",
    "3674.0157.0890.0003",
    "367401 570890 0003",
    "3674-0157-0890-0003",
    # e-mail addresses
    "rina@example.id",
    "rina.pelapor+lapor@gmail.com",
    "budi_santoso@mail.dinas.tangerangselatankota.go.id",
    "admin@dpmptsp.jakarta.go.id",
    "budi [at] gmail [dot] com",
    "budi(at)yahoo.co.id",
]


@pytest.mark.parametrize("value", PERSONAL)
def test_personal_data_is_masked_alone(value):
    assert mask_personal_data(value) == MASK


@pytest.mark.parametrize("value", PERSONAL)
def test_personal_data_is_masked_in_a_sentence(value):
    text = f"Mohon hubungi saya di {value}, terima kasih."
    assert mask_personal_data(text) == f"Mohon hubungi saya di {MASK}, terima kasih."


NOT_PERSONAL = [
    # dates and times
    "12-03-2024",
    "12/03/2024",
    "02.03.2024",
    "5/6/2024",
    "1-1-24",
    "2024-03-12",
    "pukul 08.00",
    "08.00-16.00 WIB",
    "jam 14:30",
    "02.03.2024 08.00",
    # amounts
    "Rp 1.500.000",
    "Rp1.500.000,00",
    "Rp. 250.000",
    "Rp 62.500.000.000",
    "IDR 250000",
    "62.500.000 rupiah",
    "1.062.500.000",
    "sekitar 25.000 orang",
    "1,5 juta",
    # addresses and registrations
    "RT 003/RW 012",
    "RT.03/RW.05",
    "RT 03 RW 05",
    "Jl. Merdeka No. 62",
    "kode pos 15310",
    "Kecamatan Serpong 15310",
    "tahun 2024",
    "B 1234 ABC",
    "D 1234 XY",
    "nomor surat 045/123/2024",
    "koordinat -6.2088, 106.8456",
    "NIP 198503122010011002",
    "0,5 km",
    "nomor antrean 021",
    "kode 0812",
]


@pytest.mark.parametrize("value", NOT_PERSONAL)
def test_other_numbers_are_kept(value):
    text = f"Kejadian: {value}."
    assert mask_personal_data(text) == text


def test_a_realistic_complaint_keeps_its_facts_and_loses_its_contacts():
    body = (
        "Pada 12-03-2024 pukul 08.00 saya mengurus KTP di Kelurahan Ciater, RT 003/RW 012, kode pos 15310. "
        "Petugas meminta Rp 150.000 tanpa kuitansi. Mobil dinas B 1234 ABC parkir di trotoar. "
        "NIK saya 3674 0157 0890 0003, HP 0812-3456-7890, WA +62 813 9876 5432, "
        "kantor (021) 555-1234, e-mail rina.pelapor@gmail.com."
    )
    masked = mask_personal_data(body)
    for kept in ("12-03-2024", "08.00", "RT 003/RW 012", "15310", "Rp 150.000", "B 1234 ABC"):
        assert kept in masked
    for gone in ("3674", "0812", "813 9876", "555-1234", "rina.pelapor"):
        assert gone not in masked
    assert masked.count(MASK) == 5


def test_the_reporters_name_is_masked_whole_or_in_parts_as_whole_words():
    text = "Saya Budi Santoso dari RT 03. Pak budi sudah lapor; Santosoan bukan nama; Ani tetap."
    assert mask_personal_data(text, names=["Budi Santoso", "Ani"]) == (
        f"Saya {MASK} dari RT 03. Pak {MASK} sudah lapor; Santosoan bukan nama; {MASK} tetap."
    )
    # Parts shorter than four letters are masked only as part of the whole name.
    assert mask_personal_data("Ani dan Ani Lestari", names=["Ani Lestari"]) == f"Ani dan {MASK}"


@pytest.mark.django_db
def test_a_name_signed_in_the_text_is_not_published(world):
    report = world.submit(body=f"Saya {world.reporter.full_name}, warga Ciater. Lampu mati.")
    assert world.reporter.full_name not in report.public_body
    assert report.body.startswith(f"Saya {world.reporter.full_name}")


def test_a_number_written_after_a_phone_number_is_kept():
    assert mask_personal_data("HP 0812 3456 7890 15310") == f"HP {MASK} 15310"


def test_masking_is_linear_on_hostile_input():
    # A pattern that backtracks would take minutes on these; each must come back at once.
    for hostile in ("a" * 20_000, "1" * 20_000, "0 " * 10_000, "0812-" * 4_000, "x (at) " * 3_000, "1.2" * 7_000):
        mask_personal_data(hostile)


# --- sentinels --------------------------------------------------------------------------------------

SENTINEL_NAME = "Zulkarnain Sentinelwati"
SENTINEL_EMAIL = "zulkarnain.sentinel@rahasia-pelapor.example.id"
SENTINEL_PHONE = "0812-9988-7766"
SENTINEL_NIK = "3674015708900003"
# Personal data the reporter writes into the text (their own, as people do).
BODY_EMAIL = "zs.pribadi@mail.example.co.id"
BODY_PHONE = "+62 813 1122 3344"
BODY_NIK = "3674 0157 0890 0004"
ANSWER_PHONE = "(021) 777-6655"


def _digits(text: str) -> str:
    return re.sub(r"[\s.()+\-]", "", text)


def _needles(*values: str) -> list[str]:
    """Each value, and for numbers every way of writing it (+62…, 62…, 0…, separators or none)."""
    needles = []
    for value in values:
        needles.append(value.lower())
        if "@" not in value and _digits(value).isdigit():
            digits = _digits(value)
            national = digits[2:] if digits.startswith("62") else digits.lstrip("0")
            needles.extend({digits, national, "0" + national, "62" + national})
    return needles


IDENTITY = _needles(SENTINEL_NAME, SENTINEL_EMAIL, SENTINEL_PHONE, SENTINEL_NIK)
WRITTEN = _needles(BODY_EMAIL, BODY_PHONE, BODY_NIK, ANSWER_PHONE)


def _as_json(value: Any) -> Any:
    # Read models are dataclasses: scan every field of them, not their repr.
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) and not isinstance(value, type) else str(value)


def _leaks(output: Any, needles: list[str]) -> list[str]:
    text = json.dumps(output, default=_as_json, ensure_ascii=False).lower()
    squeezed = _digits(text)
    return [needle for needle in needles if needle in text or (needle.isdigit() and needle in squeezed)]


def _photo_with_metadata() -> bytes:
    """A JPEG as phones make them: the owner's name in EXIF, and where it was taken."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x013B] = SENTINEL_NAME  # Artist
    exif[0x8298] = SENTINEL_EMAIL  # Copyright
    exif[0x010E] = f"HP {SENTINEL_PHONE}"  # ImageDescription
    exif[0x8825] = {1: "S", 2: (6.0, 17.0, 30.0), 3: "E", 4: (106.0, 40.0, 10.0)}  # GPS
    output = io.BytesIO()
    image.save(output, "JPEG", exif=exif, comment=SENTINEL_NAME.encode())
    return output.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def sentinel(world):
    return user_create(full_name=SENTINEL_NAME, email=SENTINEL_EMAIL, phone=SENTINEL_PHONE, nik=SENTINEL_NIK)


def _live_an_anonymous_life(world, reporter) -> Report:
    """Submit anonymously with personal data in the text and a photo full of metadata, then go
    through verification, a question, dispatch with a copy, forwarding, follow-ups, comments, notes,
    a dispute, completion, confirmation and rating."""
    photo = SimpleUploadedFile(f"KTP {SENTINEL_NAME}.jpg", _photo_with_metadata(), content_type="image/jpeg")
    report = world.file(
        reporter=reporter,
        is_anonymous=True,
        target_institution=None,
        title=f"Pungli KTP, hubungi {BODY_PHONE}",
        body=f"Saya diminta Rp 150.000. Hubungi saya: {BODY_EMAIL}, {BODY_PHONE}. NIK saya {BODY_NIK}.",
        files=[photo],
    ).report
    # Filed with the report, the photo is for the reporter; they publish it, as they may.
    Attachment.objects.filter(report=report).update(visibility=Visibility.PUBLIC)
    report = report_request_information(user=world.national_admin, report=report, question="Di kelurahan mana?").report
    report = report_provide_information(
        user=reporter, report=report, answer=f"Ciater. Kantor saya {ANSWER_PHONE}."
    ).report
    report = report_dispatch(
        user=world.national_admin, report=report, institution=world.city, copies=[world.social_ministry]
    ).report
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report
    report = report_follow_up(user=world.officer, report=report, message="Kami sedang memeriksa loket.").report
    report_comment(user=reporter, report=report, message=f"Terima kasih. Kabari saya di {BODY_EMAIL}.")
    report_comment(user=world.member_of_public, report=report, message="Saya juga mengalami hal yang sama.")
    report_comment(user=world.copy_officer, report=report, message="Kemensos memantau.")
    report_note(user=world.coordinator, report=report, message="Cek CCTV loket 2.")
    report_attach(
        user=world.officer,
        report=report,
        files=[SimpleUploadedFile("loket.jpg", _photo_with_metadata())],
        visibility=Visibility.STAFF,
    )
    report = report_follow_up(user=world.officer, report=report, message="Petugas diberi sanksi.", final=True).report
    report = report_dispute(user=reporter, report=report, reason=f"Belum ada pengembalian uang. NIK {BODY_NIK}").report
    report = report_follow_up(user=world.officer, report=report, message="Uang dikembalikan.", final=True).report
    report = report_confirm(user=reporter, report=report).report
    return report_rate(
        user=reporter, report=report, rating=4, comment=f"Telepon saya {ANSWER_PHONE} tidak dijawab"
    ).report


STAFF_WHO_HANDLE = ("national_admin", "coordinator", "officer", "oversight", "copy_officer")
STAFF_WHO_DO_NOT = ("environment_officer", "outsider")


def test_an_anonymous_reporters_identity_reaches_no_one(world, sentinel, media):
    report = _live_an_anonymous_life(world, sentinel)
    assert report.status == Status.CLOSED
    report = access_report(world.national_admin, report.tracking_id)

    public = public_report(access_report(AnonymousUser(), report.tracking_id))
    assert _leaks(public, IDENTITY) == []
    assert _leaks(public, WRITTEN) == []
    assert MASK in public.title
    assert MASK in public.body
    assert "Rp 150.000" in public.body
    assert any(MASK in event.text for event in public.events if event.action == "comment")

    for name in STAFF_WHO_HANDLE:
        viewer = getattr(world, name)
        seen = access_report(viewer, report.tracking_id)
        view = staff_view(seen, viewer=viewer)
        assert view.reporter is None, name
        assert view.reporter_hidden is True
        assert _leaks(view, IDENTITY) == [], name
        # The reporter's own words carry their contacts: staff read them masked as well.
        assert _leaks(view, WRITTEN) == [], name
        assert reporter_identity(seen, capacities(viewer, seen)) is None
        assert _leaks(list(export_rows(visible_reports(viewer))), IDENTITY + WRITTEN) == [], name

    for name in STAFF_WHO_DO_NOT:
        viewer = getattr(world, name)
        seen = access_report(viewer, report.tracking_id)  # published: they see what the public sees
        with pytest.raises(ReportError) as refused:
            staff_view(seen, viewer=viewer)
        assert refused.value.code == ReportErrorCode.NOT_FOUND
        assert _leaks(public_report(seen), IDENTITY + WRITTEN) == []

    # The stored files hold no trace of the phone that took the photo, nor of the file's name.
    for attachment in Attachment.objects.filter(report=report):
        with attachment.file.open("rb") as stored:
            content = stored.read()
        assert SENTINEL_NAME.encode() not in content
        assert SENTINEL_EMAIL.encode() not in content
        assert b"Exif" not in content
        assert SENTINEL_NAME not in (attachment.file.name or "")

    # Every message the outbox holds for anyone but the reporter (notifications.services.notify_for_event
    # writes them in the transaction of each event).
    staff_rows = Notification.objects.exclude(recipient=sentinel)
    for row in staff_rows:
        assert _leaks([row.address, row.subject, row.body], IDENTITY + WRITTEN) == [], row.pk


def test_the_reporter_still_sees_everything_they_wrote(world, sentinel, media):
    """The scanner's positive control: the same needles are found where they belong."""
    report = _live_an_anonymous_life(world, sentinel)
    own = reporter_view(access_report(sentinel, report.tracking_id))
    found = _leaks(own, WRITTEN)
    for value in (BODY_EMAIL, BODY_PHONE, BODY_NIK, ANSWER_PHONE):
        assert value.lower() in found
    assert [item.name for item in own.attachments] == [f"KTP {SENTINEL_NAME}.jpg"]
    assert reporter_identity(report, capacities(sentinel, report)) is not None


def test_staff_see_a_named_reporter_and_the_original_text(world, sentinel, media):
    report = world.submit(reporter=sentinel, body=f"Hubungi saya di {BODY_PHONE}.")
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    view = staff_view(report, viewer=world.coordinator)
    assert view.reporter == ReporterContact(name=SENTINEL_NAME, email=SENTINEL_EMAIL, phone="+6281299887766")
    assert view.body == f"Hubungi saya di {BODY_PHONE}."
    assert _leaks(view, IDENTITY)
    assert _leaks(public_report(report), IDENTITY + WRITTEN) == []


def test_a_guest_reporters_contact_stays_with_staff_who_may_know_it(world, media):
    named = world.submit(reporter=None, guest_name=SENTINEL_NAME, guest_email=SENTINEL_EMAIL)
    anonymous = world.submit(reporter=None, guest_name=SENTINEL_NAME, guest_phone=SENTINEL_PHONE, is_anonymous=True)
    for report in (named, anonymous):
        report_dispatch(user=world.national_admin, report=report, institution=world.city)
    named_view = staff_view(access_report(world.coordinator, named.tracking_id), viewer=world.coordinator)
    assert named_view.reporter is not None
    assert named_view.reporter.email == SENTINEL_EMAIL
    anonymous_report = access_report(world.coordinator, anonymous.tracking_id)
    assert _leaks(staff_view(anonymous_report, viewer=world.coordinator), IDENTITY) == []
    assert _leaks(public_report(anonymous_report), IDENTITY) == []
    assert _leaks(list(export_rows(visible_reports(world.national_admin))), IDENTITY) == []


def test_the_event_trail_as_staff_read_it_names_no_anonymous_reporter(world, sentinel, media):
    report = _live_an_anonymous_life(world, sentinel)
    view = staff_view(report, viewer=world.national_admin)
    assert len(view.events) == ReportEvent.objects.filter(report=report).count()
    for event in view.events:
        assert _leaks(event, IDENTITY + WRITTEN) == [], event.action
        if event.actor_role == Actor.REPORTER:
            assert event.actor_name is None
            assert event.institution is None


def test_a_merged_anonymous_report_does_not_hand_over_its_reporter(world, sentinel, media):
    survivor = report_dispatch(user=world.national_admin, report=world.submit(), institution=world.city).report
    duplicate = world.submit(reporter=sentinel, is_anonymous=True, body=f"Sama. Hubungi {BODY_PHONE}.")
    report_merge(user=world.national_admin, report=duplicate, into=survivor)
    merged = access_report(world.national_admin, duplicate.tracking_id)
    view = staff_view(merged, viewer=world.national_admin)
    merge = next(event for event in view.events if event.action == Action.MERGE)
    # The trail records the accounts that now follow the survivor (the reporter's among them);
    # staff read only where the report went.
    assert merge.details == {"into": survivor.tracking_id}
    assert ReportEvent.objects.get(report=merged, action=Action.MERGE).details["followers"] == [sentinel.pk]
    assert _leaks(view, IDENTITY + WRITTEN) == []
    survivor_view = staff_view(access_report(world.coordinator, survivor.tracking_id), viewer=world.coordinator)
    assert _leaks(survivor_view, IDENTITY + WRITTEN) == []
    assert survivor_view.reporter is not None
    assert survivor_view.reporter.name == world.reporter.full_name


def test_public_output_names_no_person(world, media):
    report = world.submit()
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    report_comment(user=world.member_of_public, report=report, message="Setuju, mohon segera.")
    report_follow_up(user=world.coordinator, report=report, message="Kami tindak lanjuti.")
    text = json.dumps(dataclasses.asdict(public_report(report)), ensure_ascii=False)
    for person in (world.reporter, world.member_of_public, world.coordinator, world.national_admin):
        assert person.full_name not in text
        assert person.email not in text
    assert world.city.name in text


# --- redaction and the original ---------------------------------------------------------------------


def test_staff_redact_more_and_the_original_stays_for_those_allowed(world, media):
    report = world.submit(body="Pak Joko di loket 3 meminta uang. Hubungi 0812-1111-2222.")
    report = report_dispatch(
        user=world.national_admin, report=report, institution=world.city, copies=[world.social_ministry]
    ).report
    assert report.public_body == f"Pak Joko di loket 3 meminta uang. Hubungi {MASK}."
    report = report_redact(
        user=world.coordinator,
        report=report,
        public_title=report.public_title,
        public_body="Petugas di loket meminta uang. Hubungi 0812-1111-2222.",
    ).report
    public = public_report(report)
    assert public.body == f"Petugas di loket meminta uang. Hubungi {MASK}."
    coordinator = staff_view(report, viewer=world.coordinator)
    assert coordinator.body == "Pak Joko di loket 3 meminta uang. Hubungi 0812-1111-2222."
    assert coordinator.public_body == public.body
    # A copy holder may not learn who filed it, so the reporter's words reach it masked.
    copy_holder = staff_view(access_report(world.copy_officer, report.tracking_id), viewer=world.copy_officer)
    assert copy_holder.reporter is None
    assert "0812-1111-2222" not in copy_holder.body
    assert reporter_view(report).body == "Pak Joko di loket 3 meminta uang. Hubungi 0812-1111-2222."


# --- confidential reports ---------------------------------------------------------------------------


def _confidential(world) -> tuple[Report, Report]:
    """One owned by the city and forwarded to its transport office; one owned by the transport office
    itself, so that the city's coordinator stands above its owner. Both copied to the social ministry."""
    by_city = world.submit(is_confidential=True)
    by_city = report_dispatch(
        user=world.national_admin, report=by_city, institution=world.city, copies=[world.social_ministry]
    ).report
    by_city = report_forward(user=world.coordinator, report=by_city, units=[world.transport]).report
    by_unit = world.submit(is_confidential=True)
    by_unit = report_dispatch(
        user=world.national_admin, report=by_unit, institution=world.transport, copies=[world.social_ministry]
    ).report
    return by_city, by_unit


@pytest.mark.parametrize(
    ("viewer", "sees_city_owned", "sees_unit_owned"),
    [
        ("anonymous", False, False),
        ("member_of_public", False, False),
        ("outsider", False, False),
        ("oversight", False, False),
        ("environment_officer", False, False),
        ("coordinator", True, False),  # owner of the first; only above the owner of the second
        ("officer", True, True),  # assigned unit of the first, owner of the second
        ("copy_officer", True, True),
        ("national_admin", True, True),
        ("reporter", True, True),
    ],
)
def test_a_confidential_report_is_seen_only_by_its_owner_units_copies_and_the_national_admin(
    world, viewer, sees_city_owned, sees_unit_owned
):
    by_city, by_unit = _confidential(world)
    user = AnonymousUser() if viewer == "anonymous" else getattr(world, viewer)
    visible = set(visible_reports(user).values_list("tracking_id", flat=True))
    assert (by_city.tracking_id in visible) is sees_city_owned
    assert (by_unit.tracking_id in visible) is sees_unit_owned
    assert set(Report.objects.visible_to(user).values_list("tracking_id", flat=True)) == visible
    for report, sees in ((by_city, sees_city_owned), (by_unit, sees_unit_owned)):
        if sees:
            assert access_report(user, report.tracking_id).pk == report.pk
        else:
            _assert_looks_missing(user, report.tracking_id)


def _assert_looks_missing(user, tracking_id: str) -> None:
    """Refused exactly as a tracking ID that does not exist, so that existence is not revealed."""
    with pytest.raises(ReportError) as hidden:
        access_report(user, tracking_id)
    with pytest.raises(ReportError) as missing:
        access_report(user, "ZZZZZZZZZ")
    assert hidden.value.code == missing.value.code == ReportErrorCode.NOT_FOUND
    assert str(hidden.value.message) == str(missing.value.message)
    assert hidden.value.context == missing.value.context


def test_a_confidential_report_has_no_public_shape(world):
    by_city, _by_unit = _confidential(world)
    with pytest.raises(ReportError) as refused:
        public_report(by_city)
    assert refused.value.code == ReportErrorCode.NOT_FOUND
    assert by_city.tracking_id not in {row["tracking_id"] for row in export_rows(visible_reports(world.oversight))}


def test_an_unpublished_report_has_no_public_shape(world):
    report = world.submit()
    with pytest.raises(ReportError):
        public_report(report)


def test_making_a_published_report_confidential_hides_it_at_once(world):
    report = world.submit()
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    assert access_report(AnonymousUser(), report.tracking_id)
    Report.objects.filter(pk=report.pk).update(is_confidential=True)
    _assert_looks_missing(AnonymousUser(), report.tracking_id)
    _assert_looks_missing(world.outsider, report.tracking_id)
    assert access_report(world.coordinator, report.tracking_id).pk == report.pk


def test_exports_carry_no_identity_and_no_free_text(world, sentinel):
    named = world.submit(reporter=sentinel, body=f"Saya {SENTINEL_NAME}, HP {SENTINEL_PHONE}.")
    report_dispatch(user=world.national_admin, report=named, institution=world.city)
    rows = list(export_rows(visible_reports(world.national_admin)))
    assert [row["tracking_id"] for row in rows] == [named.tracking_id]
    assert _leaks(rows, IDENTITY) == []
    assert rows[0]["institution_code"] == world.city.code
    assert rows[0]["village"] == "Ciater"
    assert rows[0]["regency"] == "Kota Tangerang Selatan"


# --- what each shape shows --------------------------------------------------------------------------


def test_internal_notes_reach_staff_only(world, media):
    report = report_dispatch(user=world.national_admin, report=world.submit(), institution=world.city).report
    report_note(user=world.coordinator, report=report, message="Catatan internal: cek CCTV.")
    report_follow_up(user=world.coordinator, report=report, message="Petugas dijadwalkan, hubungi 0812-1111-2222.")
    staff = staff_view(report, viewer=world.coordinator)
    public = public_report(report)
    own = reporter_view(report)
    assert "Catatan internal: cek CCTV." in [event.text for event in staff.events]
    for outside in (public, own):
        assert "Catatan internal" not in json.dumps(dataclasses.asdict(outside))
        assert Action.NOTE not in [event.action for event in outside.events]
    follow_up = next(event for event in public.events if event.action == Action.FOLLOW_UP)
    # The office's contact in its answer is published; only the reporter's identity is masked there.
    assert follow_up.text == "Petugas dijadwalkan, hubungi 0812-1111-2222."
    assert follow_up.institution == InstitutionRef(code=world.city.code, name=world.city.name)
    # Staff wrote it to the reporter, who reads it whole.
    assert "Petugas dijadwalkan, hubungi 0812-1111-2222." in [event.text for event in own.events]


def test_the_reporter_sees_why_the_report_was_archived(world):
    report = world.submit()
    report = report_archive(
        user=world.national_admin,
        report=report,
        reason=ArchiveReason.OUT_OF_SCOPE,
        explanation="Dugaan pidana: silakan lapor ke kepolisian.",
    ).report
    archive = reporter_view(report).archive
    assert archive is not None
    assert archive.reason == ArchiveReason.OUT_OF_SCOPE
    assert archive.label == str(ArchiveReason.OUT_OF_SCOPE.label)
    assert archive.explanation == "Dugaan pidana: silakan lapor ke kepolisian."


def test_the_reporter_sees_each_deadline_in_its_colour(world):
    report = world.submit()
    ReportClock.objects.filter(report=report, clock=Clock.VERIFY_DISPATCH).update(
        due_at=timezone.now() - timedelta(hours=1), yellow_at=timezone.now() - timedelta(days=1)
    )
    clocks = {clock.clock: clock for clock in reporter_view(report).clocks}
    assert clocks[Clock.VERIFY_DISPATCH].state == ClockState.RED
    assert clocks[Clock.OVERALL].state == ClockState.GREEN
    assert clocks[Clock.OVERALL].state_label == str(ClockState.GREEN.label)


def test_public_shape_has_no_address_or_map_point(world):
    report = world.submit(
        address="Jl. Melati No. 5, rumah pagar hijau", latitude=Decimal("-6.300000"), longitude=Decimal("106.700000")
    )
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    public = public_report(report)
    assert "Melati" not in json.dumps(dataclasses.asdict(public))
    assert "106.7" not in json.dumps(dataclasses.asdict(public))
    assert public.region == RegionNames(
        code="36.74.01.1001", province="Banten", regency="Kota Tangerang Selatan", district="Serpong", village="Ciater"
    )
    assert staff_view(report, viewer=world.coordinator).address == "Jl. Melati No. 5, rumah pagar hijau"
