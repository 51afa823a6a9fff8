"""The report workspace (console:report and its actions): what each capacity sees and may do, routing
suggestions and duplicate candidates, files through the access layer, anonymity, the outsider's 404,
and a page whose cost does not grow with the report's history."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lapor.accounts.services import user_create
from lapor.console.views.workspace import PANELS
from lapor.institutions.models import Category
from lapor.institutions.services import category_create, follow_up_template_create, institution_set_categories
from lapor.notifications.choices import Audience
from lapor.notifications.models import Notification
from lapor.regions.choices import RegionKind, RegionLevel
from lapor.regions.models import Region
from lapor.reports.choices import Action, ArchiveReason, ReportWeight, Status, Visibility
from lapor.reports.models import Attachment, Report, ReportAssignment, ReportCopy, ReportEvent
from lapor.reports.selectors import duplicate_candidates, routing_suggestions
from lapor.reports.services import (
    report_attach,
    report_claim_by_contact,
    report_dispatch,
    report_follow_up,
    report_forward,
    report_note,
)
from tests.console.conftest import ConsoleClient
from tests.images import large_png, photo_upload, record_decodes
from tests.reports.conftest import World
from tests.reports.test_claim import verified

OTHER_VILLAGE = "36.74.01.1002"  # same district (Serpong), another village
FAR_VILLAGE = "36.03.01.1001"  # Kabupaten Tangerang


@dataclasses.dataclass
class Setting:
    world: World
    lights: Category  # street lights: the transport office handles them


@pytest.fixture
def setting(world: World) -> Setting:
    rows = [
        (OTHER_VILLAGE, "36.74.01", RegionLevel.VILLAGE, RegionKind.URBAN_VILLAGE, "Lengkong Gudang"),
        ("36.03.01", "36.03", RegionLevel.DISTRICT, RegionKind.DISTRICT, "Balaraja"),
        (FAR_VILLAGE, "36.03.01", RegionLevel.VILLAGE, RegionKind.RURAL_VILLAGE, "Saga"),
    ]
    for code, parent, level, kind, name in rows:
        Region.objects.create(code=code, parent_id=parent, level=level, kind=kind, name=name)
    infrastructure = category_create(code="infrastruktur", name="Infrastruktur", name_en="Infrastructure")
    lights = category_create(
        code="penerangan-jalan", name="Penerangan Jalan Umum", name_en="Street lights", parent=infrastructure
    )
    institution_set_categories(institution=world.transport, category_codes=["infrastruktur"])
    return Setting(world=world, lights=lights)


def page(report: Report) -> str:
    return reverse("console:report", args=[report.tracking_id])


def action_url(report: Report, name: str) -> str:
    return reverse(f"console:report_{name}", args=[report.tracking_id])


def fresh(report: Report) -> Report:
    return Report.objects.get(pk=report.pk)


def event_count(report: Report) -> int:
    return ReportEvent.objects.filter(report=report).count()


def submitted(setting: Setting, **overrides: object) -> Report:
    fields: dict[str, object] = {"category": setting.lights}
    fields.update(overrides)
    return setting.world.submit(**fields)


def dispatched_to_city(setting: Setting, **overrides: object) -> Report:
    world = setting.world
    report = submitted(setting, **overrides)
    return report_dispatch(user=world.national_admin, report=report, institution=world.city).report


def forwarded_to_transport(setting: Setting, **overrides: object) -> Report:
    world = setting.world
    report = dispatched_to_city(setting, **overrides)
    return report_forward(user=world.coordinator, report=report, units=[world.transport]).report


def text_of(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def refused(client: Client, report: Report, name: str, data: Mapping[str, object]) -> None:
    """POSTing an action the workflow does not allow this person now changes nothing."""
    before = (fresh(report).status, fresh(report).owner_id, event_count(report))
    response = client.post(action_url(report, name), data)
    assert response.status_code == 302
    assert response["Location"] == page(report)
    after = fresh(report)
    assert (after.status, after.owner_id, event_count(report)) == before
    shown = text_of(client.get(page(report)))
    assert "This cannot be done to the report in its current state." in shown


# --- who sees the page -------------------------------------------------------------------------------


def test_each_staff_capacity_sees_the_page_and_others_get_404(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    report = forwarded_to_transport(setting)
    ReportCopy.objects.create(report=report, institution=world.social_ministry)
    expectations = {
        world.national_admin: 200,
        world.coordinator: 200,
        world.officer: 200,
        world.oversight: 200,
        world.copy_officer: 200,
        world.environment_officer: 404,  # staff of the city, but neither owner nor assigned unit
        world.outsider: 404,  # staff of an unrelated institution: the public may read it, not here
    }
    for user, status in expectations.items():
        response = console_client(user).get(page(report))
        assert response.status_code == status, user.full_name
        if status == 404:
            assert report.title not in text_of(response)
    # Not staff at all: the reporter and a member of the public get 404 from the console's guard.
    for user in (world.reporter, world.member_of_public):
        client = Client()
        client.force_login(user)
        assert client.get(page(report)).status_code == 404


def test_the_outsider_gets_404_on_the_page_and_every_post_url(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    published = forwarded_to_transport(setting)  # published: the outsider may read it on the portal
    (attachment,) = report_attach(
        user=world.reporter,
        report=published,
        files=[SimpleUploadedFile("surat.txt", b"Surat dari warga.", content_type="text/plain")],
        visibility=Visibility.PUBLIC,
    ).attachments
    unverified = submitted(setting)
    client = console_client(world.outsider)
    for report in (published, unverified):
        before = (fresh(report).status, event_count(report))
        assert client.get(page(report)).status_code == 404
        for panel in PANELS:
            response = client.post(action_url(report, panel.name), {f"{panel.name}-message": "Halo", "x": "1"})
            assert response.status_code == 404, panel.name
        assert (fresh(report).status, event_count(report)) == before
    url = reverse("console:report_attachment", args=[published.tracking_id, attachment.pk])
    assert client.get(url).status_code == 404
    # Another method answers 404 too; staff who see the report are told which method to use.
    assert client.get(action_url(published, "note")).status_code == 404
    assert client.post(page(published)).status_code == 404
    assert client.post(url).status_code == 404
    coordinator = console_client(world.coordinator)
    assert coordinator.get(action_url(published, "note")).status_code == 405
    assert coordinator.post(page(published)).status_code == 405
    # A tracking ID that does not exist answers the same.
    assert client.get(reverse("console:report", args=["ABCDEFGHJ"])).status_code == 404


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(setting: Setting) -> None:
    report = submitted(setting)
    response = Client().get(page(report))
    assert response.status_code == 302
    assert reverse("console:login") in response["Location"]
    response = Client().post(action_url(report, "note"), {"note-message": "Halo"})
    assert response.status_code == 302
    assert event_count(report) == 1


# --- what the page shows -----------------------------------------------------------------------------


def test_the_page_shows_timeline_with_internal_notes_marked_deadlines_and_copies(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report = submitted(setting)
    report_dispatch(
        user=world.national_admin,
        report=report,
        institution=world.city,
        copies=[world.social_ministry],
        note="Mohon segera ditangani.",
    )
    report_note(user=world.coordinator, report=report, message="Catatan internal: cek lokasi besok.")
    html = text_of(console_client(world.coordinator).get(page(report)))
    assert "Mohon segera ditangani." in html
    internal = re.search(r'<li class="event event-internal"[^>]*>(.*?)</li>', html, re.S)
    assert internal is not None
    assert "Catatan internal: cek lokasi besok." in internal.group(1)
    assert "Internal" in internal.group(1)
    # The dispatch names the institutions in words, copies included.
    assert "Kementerian Sosial" in html
    assert "Pemerintah Kota Tangerang Selatan" in html
    # Deadlines: state in words and in colour.
    assert re.search(r'class="badge state-green">On time<', html)
    assert "First follow-up" in html
    assert "Resolution" in html


def test_an_overdue_deadline_shows_red_with_its_state_in_words(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    report = dispatched_to_city(setting)
    report.clocks.filter(clock="first_follow_up", stopped_at__isnull=True).update(
        due_at=timezone.now() - timedelta(hours=1), yellow_at=timezone.now() - timedelta(days=1)
    )
    html = text_of(console_client(world.coordinator).get(page(report)))
    assert re.search(r'class="badge state-red">Overdue<', html)


# --- verify and dispatch, with routing suggestions ---------------------------------------------------


def test_routing_suggestions_are_the_covering_handlers_deepest_first_with_their_reasons(setting: Setting) -> None:
    world = setting.world
    report = submitted(setting)
    suggestions = routing_suggestions(report)
    codes = [item.institution.code for item in suggestions]
    # The transport office (a unit of the city, handles Infrastructure) before the city (every category);
    # the environment office covers the village but not the category; the national dispatcher never.
    assert codes == [world.transport.code, world.city.code]
    transport, city = (str(item.reason) for item in suggestions)
    assert "Kota Tangerang Selatan (36.74)" in transport
    assert "Infrastruktur" in transport
    assert "every category" in city
    # Within the city, without the city itself: what a coordinator forwards to.
    assert [item.institution.code for item in routing_suggestions(report, within=world.city, include_within=False)] == [
        world.transport.code
    ]
    # No village, no suggestion (coverage is by area).
    assert routing_suggestions(submitted(setting, village_code="")) == []


def test_the_national_admin_dispatches_with_one_click_on_a_suggestion(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report = submitted(setting)
    client = console_client(world.national_admin)
    html = text_of(client.get(page(report)))
    radios = re.findall(r'name="dispatch-institution" value="([^"]+)"', html)
    assert radios == [world.transport.code, world.city.code]
    assert "covers Kota Tangerang Selatan (36.74); handles Infrastruktur" in html
    response = client.post(
        action_url(report, "dispatch"),
        {
            "dispatch-institution": world.transport.code,
            "dispatch-weight": ReportWeight.LIGHT,
            "dispatch-copies": world.social_ministry.code,
            "dispatch-note": "Lampu jalan: Dishub.",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == page(report)
    report = fresh(report)
    assert (report.status, report.owner_id, report.weight) == (
        Status.DISPATCHED,
        world.transport.pk,
        ReportWeight.LIGHT,
    )
    assert list(report.copies.values_list("institution_id", flat=True)) == [world.social_ministry.pk]
    assert "The report was verified and dispatched." in text_of(client.get(page(report)))


def test_dispatch_errors_are_shown_next_to_their_fields(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    report = submitted(setting)
    client = console_client(world.national_admin)
    response = client.post(action_url(report, "dispatch"), {"dispatch-weight": ReportWeight.LIGHT})
    assert response.status_code == 400
    assert re.search(r'id="id_dispatch-institution-error">Choose the institution with authority.<', text_of(response))
    response = client.post(
        action_url(report, "dispatch"),
        {"dispatch-other_institution": "tidak-ada", "dispatch-weight": ReportWeight.LIGHT},
    )
    assert response.status_code == 400
    assert 'id="id_dispatch-other_institution-error">No institution you may choose is called “tidak-ada”.<' in text_of(
        response
    )
    assert fresh(report).status == Status.SUBMITTED


def test_without_a_village_there_is_no_suggestion_and_the_code_is_typed(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report = submitted(setting, village_code="")
    client = console_client(world.national_admin)
    html = text_of(client.get(page(report)))
    assert "No suggestion: the report names no village" in html
    assert 'name="dispatch-institution"' not in html
    response = client.post(action_url(report, "dispatch"), {"dispatch-weight": ReportWeight.NORMATIVE})
    assert response.status_code == 400
    assert 'id="id_dispatch-other_institution-error">This field is required.<' in text_of(response)
    response = client.post(
        action_url(report, "dispatch"),
        {"dispatch-other_institution": world.city.code, "dispatch-weight": ReportWeight.NORMATIVE},
    )
    assert response.status_code == 302
    assert fresh(report).owner_id == world.city.pk


def test_a_coordinator_dispatches_only_within_its_institution(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    report = submitted(setting, target_institution=world.city)  # sent to the city directly: it verifies
    client = console_client(world.coordinator)
    html = text_of(client.get(page(report)))
    assert re.findall(r'name="dispatch-institution" value="([^"]+)"', html) == [world.transport.code, world.city.code]
    response = client.post(
        action_url(report, "dispatch"),
        {"dispatch-other_institution": world.social_ministry.code, "dispatch-weight": ReportWeight.NORMATIVE},
    )
    assert response.status_code == 400
    # Only the city's own subtree is offered or accepted, by name or by code.
    assert f"No institution you may choose is called “{world.social_ministry.code}”." in text_of(response)
    assert fresh(report).owner_id == world.city.pk
    response = client.post(
        action_url(report, "dispatch"),
        {"dispatch-institution": world.transport.code, "dispatch-weight": ReportWeight.NORMATIVE},
    )
    assert response.status_code == 302
    assert fresh(report).owner_id == world.transport.pk


def test_staff_find_institutions_by_name_within_what_they_may_choose(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report = submitted(setting, target_institution=world.city)  # the city's coordinator verifies it
    url = reverse("console:report_institutions", args=[report.tracking_id])
    coordinator = console_client(world.coordinator)

    def found(**query: str) -> list[str]:
        response = coordinator.get(url, query)
        assert response.status_code == 200
        return [row["label"] for row in response.json()["results"]]

    # Where to dispatch: within the city only; a copy: any active institution.
    assert found(q="dinas", untuk="tujuan") == [
        "Dinas Lingkungan Hidup (kota-tangsel-dlh)",
        "Dinas Perhubungan (kota-tangsel-dishub)",
    ]
    assert found(q="sosial", untuk="tujuan") == []
    assert found(q="sosial") == ["Kementerian Sosial (kemensos)"]
    assert found(q="d") == []  # too short to search
    # Nobody else reads the list through this report: not a unit officer, not an outsider.
    for other in (world.officer, world.outsider):
        assert console_client(other).get(url, {"q": "dinas"}).status_code == 404

    # Names are typed: one that names several institutions is asked again, with the matches.
    response = coordinator.post(
        action_url(report, "dispatch"),
        {"dispatch-other_institution": "Dinas", "dispatch-weight": ReportWeight.LIGHT},
    )
    assert response.status_code == 400
    assert "“Dinas” names several institutions: Dinas Lingkungan Hidup (kota-tangsel-dlh); Dinas Perhubungan" in (
        text_of(response)
    )
    response = coordinator.post(
        action_url(report, "dispatch"),
        {
            "dispatch-other_institution": "dinas perhubungan",
            "dispatch-weight": ReportWeight.LIGHT,
            "dispatch-copies": "Kementerian Sosial (kemensos), Dinas Lingkungan",
        },
    )
    assert response.status_code == 302
    report = fresh(report)
    assert report.owner_id == world.transport.pk
    assert set(report.copies.values_list("institution_id", flat=True)) == {
        world.social_ministry.pk,
        world.environment.pk,
    }


def test_the_weight_says_what_it_means_and_the_deadline_it_sets(
    setting: Setting, console_client: ConsoleClient
) -> None:
    html = text_of(console_client(setting.world.national_admin).get(page(submitted(setting))))
    hint = re.search(r'<select name="dispatch-weight"[^>]*aria-describedby="([^"]+)"', html)
    assert hint is not None
    explanation = re.search(rf'id="{hint.group(1)}">([^<]*)<', html)
    assert explanation is not None
    for part in ("Light: a simple matter", "2 working days", "5 working days", "14 working days", "60 working days"):
        assert part in explanation.group(1)


def test_dispatch_is_refused_for_oversight_and_the_report_is_unchanged(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report = submitted(setting)
    client = console_client(world.oversight)
    assert "dispatch-institution" not in text_of(client.get(page(report)))
    refused(client, report, "dispatch", {"dispatch-institution": world.city.code, "dispatch-weight": "ringan"})


# --- forward, "not our authority" --------------------------------------------------------------------


def test_the_coordinator_forwards_to_a_suggested_unit(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    report = dispatched_to_city(setting)
    client = console_client(world.coordinator)
    html = text_of(client.get(page(report)))
    units = re.findall(r'name="forward-units" value="([^"]+)"', html)
    # The suggestion (with its reason) first, then the other units of the city.
    assert units == [world.transport.code, world.environment.code]
    assert f"Dinas Perhubungan ({world.transport.code}): covers Kota Tangerang Selatan" in html
    response = client.post(action_url(report, "forward"), {"forward-units": [world.transport.code]})
    assert response.status_code == 302
    assert list(ReportAssignment.objects.filter(report=report, is_active=True).values_list("unit_id", flat=True)) == [
        world.transport.pk
    ]


def test_forward_is_refused_outside_the_subtree_and_for_the_unit_officer(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report = forwarded_to_transport(setting)
    coordinator = console_client(world.coordinator)
    response = coordinator.post(action_url(report, "forward"), {"forward-other_units": world.regency.code})
    assert response.status_code == 400
    assert "Forward only to active units of the owning institution." in text_of(response)
    assert ReportAssignment.objects.filter(report=report, unit=world.regency).count() == 0
    refused(console_client(world.officer), report, "forward", {"forward-units": [world.environment.code]})


def test_not_our_authority_needs_a_reason_and_goes_back(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    report = forwarded_to_transport(setting)
    officer = console_client(world.officer)
    response = officer.post(action_url(report, "return"), {"return-reason": "  "})
    assert response.status_code == 400
    assert 'id="id_return-reason-error"' in text_of(response)
    assert ReportAssignment.objects.filter(report=report, unit=world.transport, is_active=True).exists()
    response = officer.post(action_url(report, "return"), {"return-reason": "Bukan lampu jalan kota."})
    assert response.status_code == 302
    # A unit hands the report back to its coordinator: the officer no longer sees it.
    assert not ReportAssignment.objects.filter(report=report, is_active=True).exists()
    assert officer.get(page(report)).status_code == 404
    coordinator = console_client(world.coordinator)
    response = coordinator.post(action_url(report, "return"), {"return-reason": "Wewenang provinsi."})
    assert response.status_code == 302
    report = fresh(report)
    assert (report.status, report.owner.code) == (Status.RETURNED, "nasional")
    # The dispatcher routes it again, with the same suggestions.
    html = text_of(console_client(world.national_admin).get(page(report)))
    assert "Wewenang provinsi." in html
    assert 'name="dispatch-institution"' in html


# --- request information, hold, resume, archive ------------------------------------------------------


def test_request_information_hold_resume_and_archive(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    client = console_client(world.national_admin)
    report = submitted(setting)
    response = client.post(action_url(report, "request_information"), {"request_information-question": "Di mana?"})
    assert response.status_code == 302
    assert fresh(report).status == Status.AWAITING_INFORMATION

    report = submitted(setting)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.post(action_url(report, "hold"), {"hold-reason": "Menunggu data.", "hold-resume_on": yesterday})
    assert response.status_code == 400
    assert re.search(r'id="id_hold-resume_on-error">The resume date must be in the future.<', text_of(response))
    assert fresh(report).status == Status.SUBMITTED
    later = (timezone.localdate() + timedelta(days=7)).isoformat()
    response = client.post(action_url(report, "hold"), {"hold-reason": "Menunggu data.", "hold-resume_on": later})
    assert response.status_code == 302
    assert fresh(report).status == Status.ON_HOLD
    assert 'id="resume"' in text_of(client.get(page(report)))
    assert client.post(action_url(report, "resume"), {}).status_code == 302
    assert fresh(report).status == Status.SUBMITTED

    response = client.post(action_url(report, "archive"), {"archive-reason": ArchiveReason.OUT_OF_SCOPE})
    assert response.status_code == 400
    assert 'id="id_archive-explanation-error"' in text_of(response)
    response = client.post(
        action_url(report, "archive"),
        {"archive-reason": ArchiveReason.OUT_OF_SCOPE, "archive-explanation": "Perkara pidana: lapor ke polisi."},
    )
    assert response.status_code == 302
    report = fresh(report)
    assert (report.status, report.archive_reason) == (Status.ARCHIVED, ArchiveReason.OUT_OF_SCOPE)
    assert "Perkara pidana: lapor ke polisi." in text_of(client.get(page(report)))


def test_hold_and_archive_are_refused_for_the_unit_officer(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    report = forwarded_to_transport(setting)
    officer = console_client(world.officer)
    later = (timezone.localdate() + timedelta(days=7)).isoformat()
    refused(officer, report, "hold", {"hold-reason": "Tunda.", "hold-resume_on": later})
    refused(officer, report, "archive", {"archive-reason": "duplicate", "archive-explanation": "Ganda."})
    refused(officer, report, "merge", {"merge-other_into": report.tracking_id})


# --- duplicate candidates and merge ------------------------------------------------------------------


def test_duplicates_rank_category_and_place_first_and_ignore_words_most_reports_share(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    # The district's everyday words: most reports here are about something on a "jalan raya".
    for topic in ("Parkir liar", "Trotoar rusak", "Pohon tumbang", "Genangan air", "Pedagang kaki lima", "Halte"):
        dispatched_to_city(setting, category=None, title=f"{topic} di jalan raya", body=f"{topic} di jalan raya.")
    same_road = dispatched_to_city(
        setting, category=None, title="Sampah menumpuk di jalan raya", body="Sampah di jalan raya belum diangkut."
    )
    same_thing = dispatched_to_city(
        setting,
        village_code=OTHER_VILLAGE,
        title="Penerangan jalan umum tidak menyala",
        body="PJU di depan sekolah tidak menyala sejak Senin.",
    )
    same_spot = dispatched_to_city(
        setting,
        village_code=OTHER_VILLAGE,
        title="PJU rusak",
        body="Tiang PJU miring.",
        latitude=Decimal("-6.301000"),
        longitude=Decimal("106.700500"),
    )
    wordy = dispatched_to_city(
        setting, category=None, title="Lampu taman padam gelap total", body="Lampu taman padam, gelap total malam hari."
    )
    report = submitted(
        setting,
        title="Lampu penerangan jalan raya padam",
        body="Lampu padam, jalan raya gelap total malam hari.",
        latitude=Decimal("-6.300000"),
        longitude=Decimal("106.700000"),
    )

    candidates = duplicate_candidates(report, world.national_admin)

    # Same category at the same spot, then same category in the district, before a report of another
    # category that shares many words; "jalan raya", shared by most reports here, makes nobody a candidate.
    assert [candidate.report.pk for candidate in candidates] == [same_spot.pk, same_thing.pk, wordy.pk]
    assert same_road.pk not in {candidate.report.pk for candidate in candidates}
    assert not {"jalan", "raya"} & {word for candidate in candidates for word in candidate.shared_words}
    assert candidates[0].distance_metres is not None
    assert candidates[0].distance_metres < 200
    html = text_of(console_client(world.national_admin).get(page(report)))
    assert re.search(r"about 1\d\d m away", html)


def test_duplicate_candidates_say_why_and_one_click_merges(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    original = dispatched_to_city(setting, title="Lampu jalan mati di depan pasar Ciater")
    nearby = dispatched_to_city(
        setting,
        village_code=OTHER_VILLAGE,
        category=None,
        title="Pasar gelap, lampu jalan mati",
        body="Lampu jalan dekat pasar mati sejak minggu lalu.",
    )
    far = report_dispatch(
        user=world.national_admin,
        report=submitted(setting, village_code=FAR_VILLAGE),
        institution=world.regency,
    ).report
    confidential = dispatched_to_city(setting, is_confidential=True)
    unverified = submitted(setting)
    duplicate = submitted(setting, title="Lampu jalan pasar Ciater mati lagi")

    candidates = duplicate_candidates(duplicate, world.national_admin)
    found = [candidate.report.pk for candidate in candidates]
    # The same village and category first; the nearby one shares words; the far, the confidential
    # and the unverified ones cannot survive a merge here.
    assert found == [original.pk, nearby.pk]
    assert far.pk not in found
    assert confidential.pk not in found
    assert unverified.pk not in found
    first, second = candidates
    assert first.same_category
    assert first.same_village
    assert not second.same_category
    assert second.same_district
    assert {"lampu", "jalan", "pasar"} <= set(second.shared_words)

    client = console_client(world.national_admin)
    html = text_of(client.get(page(duplicate)))
    assert re.findall(r'name="merge-into" value="([^"]+)"', html) == [original.tracking_id, nearby.tracking_id]
    assert "same category (Penerangan Jalan Umum)" in html or "same category (Street lights)" in html
    assert "same village (Ciater)" in html
    assert "nearby: same district (Serpong)" in html
    assert "shares the words" in html
    response = client.post(action_url(duplicate, "merge"), {"merge-into": original.tracking_id})
    assert response.status_code == 302
    duplicate = fresh(duplicate)
    assert (duplicate.status, duplicate.merged_into_id) == (Status.MERGED, original.pk)
    html = text_of(client.get(page(duplicate)))
    assert reverse("console:report", args=[original.tracking_id]) in html


def test_merge_into_a_report_one_may_not_see_is_a_field_error(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    # Not yet verified: the city's coordinator may not see it at all.
    hidden = submitted(setting, village_code=FAR_VILLAGE)
    # The regency's published report: the coordinator reads it as the public does, but does not own it.
    published = report_dispatch(
        user=world.national_admin, report=submitted(setting, village_code=FAR_VILLAGE), institution=world.regency
    ).report
    duplicate = submitted(setting, target_institution=world.city)
    client = console_client(world.coordinator)
    response = client.post(action_url(duplicate, "merge"), {"merge-other_into": hidden.tracking_id})
    assert response.status_code == 400
    assert 'id="id_merge-other_into-error">No report with this tracking ID.<' in text_of(response)
    response = client.post(action_url(duplicate, "merge"), {"merge-other_into": published.tracking_id})
    assert response.status_code == 400
    assert 'id="id_merge-other_into-error">Merge into another open report.<' in text_of(response)
    assert fresh(duplicate).status == Status.SUBMITTED


# --- follow-up composer, notes, redaction, privacy ---------------------------------------------------


def test_the_officer_posts_a_final_follow_up_with_a_photo_joined_to_it(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report = forwarded_to_transport(setting)
    officer = console_client(world.officer)
    html = text_of(officer.get(page(report)))
    assert 'enctype="multipart/form-data"' in html
    response = officer.post(
        action_url(report, "follow_up"),
        {
            "follow_up-kind": "final",
            "follow_up-message": "Lampu sudah diganti hari ini.",
            "follow_up-visibility": Visibility.PUBLIC,
            "follow_up-attachments": [photo_upload("lampu baru.jpg")],
        },
    )
    assert response.status_code == 302
    report = fresh(report)
    assert report.status == Status.COMPLETED
    (attachment,) = Attachment.objects.filter(report=report)
    assert attachment.event is not None
    assert (attachment.event.action, attachment.event.actor_id) == (Action.FOLLOW_UP_FINAL, world.officer.pk)
    assert attachment.visibility == Visibility.PUBLIC


def test_a_refused_file_refuses_the_follow_up_with_the_error_next_to_the_files(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report = forwarded_to_transport(setting)
    before = event_count(report)
    response = console_client(world.officer).post(
        action_url(report, "follow_up"),
        {
            "follow_up-kind": "progress",
            "follow_up-message": "Sedang dikerjakan.",
            "follow_up-visibility": Visibility.REPORTER,
            "follow_up-attachments": [SimpleUploadedFile("foto.jpg", b"MZ bukan foto", content_type="image/jpeg")],
        },
    )
    assert response.status_code == 400
    assert 'id="id_follow_up-attachments-error"' in text_of(response)
    assert (fresh(report).status, event_count(report)) == (Status.DISPATCHED, before)


@pytest.mark.parametrize(
    ("files", "limit", "message"),
    [
        pytest.param(
            lambda: [SimpleUploadedFile("denah.png", large_png(7000, 7000), content_type="image/png")],
            {},
            "“denah.png” has too many pixels; send a smaller picture (at most 40 megapixels).",
            id="a picture of 49 megapixels",
        ),
        pytest.param(
            lambda: [SimpleUploadedFile("laporan.txt", b"a" * 2049, content_type="text/plain")],
            {"REPORT_ATTACHMENT_MAX_FILE_BYTES": 2048},
            "“laporan.txt” is too big: each file may be at most 2.0\xa0KB.",
            id="a file over the size of one file",
        ),
        pytest.param(
            lambda: [photo_upload(f"foto {number}.jpg") for number in range(3)],
            {"REPORT_ATTACHMENT_MAX_COUNT": 2},
            "A report may have at most 2 files",
            id="more files than a report may have",
        ),
    ],
)
def test_staff_files_are_bound_as_citizens_files_are(
    setting: Setting, console_client: ConsoleClient, *, settings, tmp_path, monkeypatch, files, limit, message
) -> None:
    settings.MEDIA_ROOT = tmp_path
    for name, value in limit.items():
        setattr(settings, name, value)
    report = forwarded_to_transport(setting)
    before = event_count(report)
    decoded = record_decodes(monkeypatch)
    response = console_client(setting.world.officer).post(
        action_url(report, "follow_up"),
        {
            "follow_up-kind": "progress",
            "follow_up-message": "Foto pekerjaan terlampir.",
            "follow_up-visibility": Visibility.PUBLIC,
            "follow_up-attachments": files(),
        },
    )
    assert response.status_code == 400
    assert 'id="id_follow_up-attachments-error"' in text_of(response)
    assert message in text_of(response)
    assert (fresh(report).status, event_count(report)) == (Status.DISPATCHED, before)
    assert not Attachment.objects.filter(report=report).exists()
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []
    assert decoded == []


def test_follow_up_is_refused_for_the_national_admin_and_the_copy_holder(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report = forwarded_to_transport(setting)
    ReportCopy.objects.create(report=report, institution=world.social_ministry)
    data = {"follow_up-kind": "progress", "follow_up-message": "Bukan urusan kami.", "follow_up-visibility": "reporter"}
    refused(console_client(world.national_admin), report, "follow_up", data)
    refused(console_client(world.copy_officer), report, "follow_up", data)


def test_institution_templates_fill_the_composer(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    follow_up_template_create(
        institution=world.city,
        name="Sedang ditinjau",
        body="Laporan {tracking_id} sedang ditinjau oleh {institution}. Salam, {officer_name}.",
    )
    report = forwarded_to_transport(setting)
    client = console_client(world.officer)
    html = text_of(client.get(page(report)))
    assert "Sedang ditinjau · Pemerintah Kota Tangerang Selatan" in html
    template_id = re.search(r'<option value="(\d+)" data-text=', html)
    assert template_id is not None
    html = text_of(client.get(page(report) + f"?templat={template_id.group(1)}"))
    textarea = re.search(r'<textarea name="follow_up-message"[^>]*>(.*?)</textarea>', html, re.S)
    assert textarea is not None
    formatted = f"{report.tracking_id[:3]}-{report.tracking_id[3:6]}-{report.tracking_id[6:]}"
    assert f"Laporan {formatted} sedang ditinjau oleh Dinas Perhubungan. Salam, Pandu Penghubung." in textarea.group(1)


def test_notes_redaction_and_comment(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    report = forwarded_to_transport(setting)
    officer = console_client(world.officer)
    assert officer.post(action_url(report, "note"), {"note-message": "Tim berangkat besok."}).status_code == 302
    note = ReportEvent.objects.filter(report=report).order_by("-sequence").first()
    assert note is not None
    assert (note.action, note.visibility) == (Action.NOTE, Visibility.STAFF)
    response = officer.post(
        action_url(report, "redact"),
        {"redact-public_title": "Lampu jalan mati", "redact-public_body": "Lampu jalan di dekat pasar mati."},
    )
    assert response.status_code == 302
    assert fresh(report).public_title == "Lampu jalan mati"
    response = officer.post(action_url(report, "redact"), {"redact-public_title": "", "redact-public_body": "x"})
    assert response.status_code == 400
    assert 'id="id_redact-public_title-error"' in text_of(response)
    assert officer.post(action_url(report, "comment"), {"comment-message": "Terima kasih."}).status_code == 302
    assert ReportEvent.objects.filter(report=report, action=Action.COMMENT).count() == 1


def test_staff_make_a_report_more_private_only_the_national_admin_less(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report = forwarded_to_transport(setting)
    coordinator = console_client(world.coordinator)
    response = coordinator.post(action_url(report, "privacy"), {"privacy-is_confidential": "on"})
    assert response.status_code == 302
    assert fresh(report).is_confidential
    before = event_count(report)
    response = coordinator.post(action_url(report, "privacy"), {})
    assert response.status_code == 400
    assert "Only the national admin may make a report less private." in text_of(response)
    assert fresh(report).is_confidential
    assert event_count(report) == before
    national = console_client(world.national_admin)
    response = national.post(action_url(report, "privacy"), {"privacy-note": "Keliru."})
    assert response.status_code == 302
    assert not fresh(report).is_confidential
    change = ReportEvent.objects.filter(report=report).order_by("-sequence").first()
    assert change is not None
    assert (change.visibility, change.details) == (
        Visibility.STAFF,
        {"privacy": {"is_anonymous": False, "is_confidential": False}},
    )
    assert "<dt>Privacy</dt><dd>not anonymous, not confidential</dd>" in text_of(national.get(page(report)))
    response = national.post(action_url(report, "privacy"), {})
    assert response.status_code == 400
    assert "The privacy flags are as they were: nothing to change." in text_of(response)
    # At dispatch, too: the coordinator cannot lift the anonymity the reporter asked for. The box comes
    # ticked and fixed, and a form sent without it (as a browser sends an unticked box) lifts nothing.
    report = submitted(setting, target_institution=world.city, is_anonymous=True)
    html = text_of(coordinator.get(page(report)))
    box = re.search(r'<input type="checkbox" name="dispatch-is_anonymous"[^>]*>', html)
    assert box is not None
    assert " disabled " in box.group()
    assert " checked>" in box.group()
    response = coordinator.post(
        action_url(report, "dispatch"),
        {"dispatch-institution": world.transport.code, "dispatch-weight": ReportWeight.NORMATIVE},
    )
    assert response.status_code == 302
    assert fresh(report).status == Status.DISPATCHED
    assert fresh(report).is_anonymous


def test_a_dispatch_sent_without_the_privacy_boxes_keeps_the_report_private(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report = submitted(setting, is_anonymous=True, is_confidential=True)
    response = console_client(world.national_admin).post(
        action_url(report, "dispatch"),
        {"dispatch-institution": world.city.code, "dispatch-weight": ReportWeight.NORMATIVE},
    )
    assert response.status_code == 302
    report = fresh(report)
    assert (report.status, report.is_anonymous, report.is_confidential) == (Status.DISPATCHED, True, True)
    assert not ReportEvent.objects.filter(report=report, action=Action.REDACT).exists()


def test_ticking_the_privacy_boxes_at_dispatch_goes_through_the_privacy_service(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report = submitted(setting)
    response = console_client(world.national_admin).post(
        action_url(report, "dispatch"),
        {
            "dispatch-institution": world.city.code,
            "dispatch-weight": ReportWeight.NORMATIVE,
            "dispatch-is_anonymous": "on",
            "dispatch-is_confidential": "on",
        },
    )
    assert response.status_code == 302
    report = fresh(report)
    assert (report.status, report.is_anonymous, report.is_confidential) == (Status.DISPATCHED, True, True)
    change = ReportEvent.objects.get(report=report, action=Action.REDACT)
    assert (change.visibility, change.details) == (
        Visibility.STAFF,
        {"privacy": {"is_anonymous": True, "is_confidential": True}},
    )
    # Recorded before the dispatch, and the reporter is told of it.
    dispatch = ReportEvent.objects.get(report=report, action=Action.DISPATCH)
    assert change.sequence < dispatch.sequence
    told = Notification.objects.get(event=change)
    assert (told.audience, told.address) == (Audience.REPORTER, world.reporter.email)


# --- who reads what staff write --------------------------------------------------------------------


def reporter_texts(report: Report) -> str:
    rows = Notification.objects.filter(report_id=report.pk, audience=Audience.REPORTER)
    return "\n".join(f"{row.subject}\n{row.body}" for row in rows)


def test_internal_notes_stay_with_staff_and_the_message_reaches_the_reporter(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report, secret = world.submit_with_link(category=setting.lights)
    national = console_client(world.national_admin)
    response = national.post(
        action_url(report, "dispatch"),
        {
            "dispatch-institution": world.city.code,
            "dispatch-weight": ReportWeight.NORMATIVE,
            "dispatch-note": "INTERNAL-D7: pelapor ini sering melapor",
            "dispatch-message": "PESAN-D7: laporan Anda kami teruskan ke pemerintah kota.",
        },
    )
    assert response.status_code == 302
    coordinator = console_client(world.coordinator)
    response = coordinator.post(
        action_url(report, "forward"),
        {
            "forward-units": [world.transport.code],
            "forward-note": "INTERNAL-F7: tolong cepat, sudah viral",
            "forward-message": "PESAN-F7: Dinas Perhubungan akan menindaklanjuti.",
        },
    )
    assert response.status_code == 302
    told = reporter_texts(report)
    assert "PESAN-D7: laporan Anda kami teruskan ke pemerintah kota." in told
    assert "PESAN-F7: Dinas Perhubungan akan menindaklanjuti." in told
    assert "INTERNAL" not in told
    private = Client().get(reverse("portal:track_private", args=[report.tracking_id, secret]), follow=True)
    assert private.status_code == 200
    assert "PESAN-D7" in text_of(private)
    assert "PESAN-F7" in text_of(private)
    assert "INTERNAL" not in text_of(private)
    # Staff read the internal notes: in the timeline, marked internal, and in the news of the dispatch.
    html = text_of(coordinator.get(page(report)))
    internal = re.findall(r'<li class="event event-internal"[^>]*>(.*?)</li>', html, re.S)
    assert any("INTERNAL-D7" in item for item in internal)
    assert any("INTERNAL-F7" in item for item in internal)
    assert "<strong>Message to the reporter:</strong> PESAN-D7" in html
    staff = Notification.objects.filter(report_id=report.pk, audience=Audience.STAFF)
    assert any("INTERNAL-D7: pelapor ini sering melapor" in row.body for row in staff)


def test_every_staff_text_field_says_who_reads_it(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    audiences = ("Only for staff:", "Sent to the reporter:", "Public:")
    pages = [
        text_of(console_client(world.national_admin).get(page(submitted(setting)))),
        text_of(console_client(world.coordinator).get(page(dispatched_to_city(setting)))),
        text_of(console_client(world.officer).get(page(forwarded_to_transport(setting)))),
    ]
    seen = set()
    for html in pages:
        for name, described in re.findall(r'<textarea name="([^"]+)"[^>]*aria-describedby="([^" ]+)', html):
            hint = re.search(rf'id="{described}">([^<]*)<', html)
            assert hint is not None, name
            assert hint.group(1).startswith(audiences), (name, hint.group(1))
            seen.add(name)
        assert not re.search(r"<textarea(?![^>]*aria-describedby)[^>]*>", html)
    expected = {
        "dispatch-note",
        "dispatch-message",
        "forward-note",
        "forward-message",
        "follow_up-message",
        "note-message",
        "comment-message",
        "redact-public_body",
        "privacy-note",
        "return-reason",
        "hold-reason",
        "archive-explanation",
        "request_information-question",
    }
    assert expected <= seen


# --- copies -------------------------------------------------------------------------------------------


def test_copy_holders_see_note_and_comment_but_do_not_act(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    report = submitted(setting)
    report_dispatch(user=world.national_admin, report=report, institution=world.city, copies=[world.social_ministry])
    client = console_client(world.copy_officer)
    html = text_of(client.get(page(report)))
    assert "Your institution holds a copy of this report" in html
    shown = {panel.name for panel in PANELS if f'id="{panel.name}-heading"' in html}
    assert shown == {"note", "comment"}
    assert client.post(action_url(report, "comment"), {"comment-message": "Kami pantau."}).status_code == 302
    refused(client, report, "return", {"return-reason": "Bukan kami."})
    refused(client, report, "forward", {"forward-other_units": world.transport.code})
    refused(client, report, "redact", {"redact-public_title": "x", "redact-public_body": "y"})


# --- files ---------------------------------------------------------------------------------------------


def test_files_are_downloads_through_the_access_layer(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    report = forwarded_to_transport(setting)
    (staff_file,) = report_attach(
        user=world.officer,
        report=report,
        files=[SimpleUploadedFile("hasil survei.txt", b"Hasil survei lapangan.", content_type="text/plain")],
        visibility=Visibility.STAFF,
    ).attachments
    other = forwarded_to_transport(setting)
    (other_file,) = report_attach(
        user=world.reporter,
        report=other,
        files=[SimpleUploadedFile("lain.txt", b"Laporan lain.", content_type="text/plain")],
    ).attachments
    client = console_client(world.coordinator)
    html = text_of(client.get(page(report)))
    url = reverse("console:report_attachment", args=[report.tracking_id, staff_file.pk])
    assert url in html
    assert "hasil survei.txt" in html
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"Hasil survei lapangan."  # type: ignore[attr-defined]
    # Another report's file through this report's URL: 404, though the coordinator may see both.
    assert client.get(reverse("console:report_attachment", args=[report.tracking_id, other_file.pk])).status_code == 404
    assert client.get(reverse("console:report_attachment", args=[report.tracking_id, 999_999])).status_code == 404
    # Someone who may not see the report gets 404 for its file too.
    assert console_client(world.environment_officer).get(url).status_code == 404


# --- anonymity -----------------------------------------------------------------------------------------

SENTINEL_NAME = "Zakaria Sentinelwati"
SENTINEL_EMAIL = "zakaria.sentinel@example.id"
SENTINEL_PHONE = "+6281299887766"


def test_an_anonymous_report_shows_no_identity_to_institution_staff(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    reporter = user_create(full_name=SENTINEL_NAME, email=SENTINEL_EMAIL, phone=SENTINEL_PHONE)
    report = submitted(
        setting,
        reporter=reporter,
        is_anonymous=True,
        body="Saya Zakaria Sentinelwati, hubungi 081299887766. Lampu jalan mati.",
    )
    report_attach(user=reporter, report=report, files=[photo_upload("KTP Zakaria Sentinelwati.jpg")])
    report_dispatch(user=world.national_admin, report=report, institution=world.city, copies=[world.social_ministry])
    report_forward(user=world.coordinator, report=report, units=[world.transport])
    for user in (world.national_admin, world.coordinator, world.officer, world.oversight, world.copy_officer):
        response = console_client(user).get(page(report))
        assert response.status_code == 200
        html = text_of(response)
        for sentinel in ("Zakaria", "Sentinelwati", SENTINEL_EMAIL, "81299887766", "zakaria.sentinel"):
            assert sentinel not in html, (user.full_name, sentinel)
        assert '<span class="badge badge-private">Anonymous</span>' in html
        (attachment,) = Attachment.objects.filter(report=report)
        download = console_client(user).get(
            reverse("console:report_attachment", args=[report.tracking_id, attachment.pk])
        )
        assert "Sentinelwati" not in download["Content-Disposition"]


def test_a_named_report_shows_its_reporter_to_the_staff_handling_it(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    reporter = user_create(full_name=SENTINEL_NAME, email=SENTINEL_EMAIL, phone=SENTINEL_PHONE)
    report = forwarded_to_transport(setting, reporter=reporter)
    ReportCopy.objects.create(report=report, institution=world.social_ministry)
    html = text_of(console_client(world.officer).get(page(report)))
    assert SENTINEL_NAME in html
    assert SENTINEL_EMAIL in html
    # A copy holder does not learn who filed it.
    html = text_of(console_client(world.copy_officer).get(page(report)))
    assert SENTINEL_NAME not in html
    assert SENTINEL_EMAIL not in html


def test_a_claimed_guest_report_still_shows_the_phone_the_guest_gave(
    setting: Setting, console_client: ConsoleClient
) -> None:
    world = setting.world
    report = forwarded_to_transport(
        setting, reporter=None, guest_name="Tamu", guest_email="tamu@example.id", guest_phone="0812-3456-7000"
    )
    assert "0812-3456-7000" in text_of(console_client(world.officer).get(page(report)))
    account = user_create(full_name="Tamu Terdaftar", email="tamu@example.id", password=None)
    account = verified(account, "tamu@example.id")
    report_claim_by_contact(user=account)
    html = text_of(console_client(world.officer).get(page(report)))
    assert "Tamu Terdaftar" in html
    assert "0812-3456-7000" in html


# --- cost ----------------------------------------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_page_costs_a_bounded_number_of_queries(setting: Setting, console_client: ConsoleClient) -> None:
    world = setting.world
    follow_up_template_create(institution=world.city, name="Terima kasih", body="Terima kasih.")
    report = forwarded_to_transport(setting)
    dispatched_to_city(setting)  # a duplicate candidate
    client = console_client(world.coordinator)
    client.get(page(report))  # the session's first request settles what it caches
    few = _queries(client, page(report))
    for number in range(12):
        report_note(user=world.coordinator, report=report, message=f"Catatan {number}")
    report_follow_up(user=world.officer, report=report, message="Sedang dikerjakan.")
    report_attach(
        user=world.officer,
        report=report,
        files=[SimpleUploadedFile(f"foto{n}.txt", b"isi", content_type="text/plain") for n in range(3)],
    )
    ReportCopy.objects.create(report=report, institution=world.social_ministry)
    many = _queries(client, page(report))
    assert many == few
    assert many <= 30
