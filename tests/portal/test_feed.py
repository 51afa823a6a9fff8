"""The public feed, its map, RSS and Atom, and the public report page with support and comments.

The permission matrix at the end walks every page for every kind of visitor and scans each response
for a sentinel word written only into reports the public must never see."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import clear_url_caches, reverse
from django.utils import timezone

from lapor.accounts.services import user_create
from lapor.core.ids import format_tracking_id
from lapor.institutions.services import category_create
from lapor.reports.choices import Action, ReportKind, Visibility
from lapor.reports.models import Report, ReportEvent, ReportSupport
from lapor.reports.privacy import MASK
from lapor.reports.selectors import MAP_MIN_SOURCES
from lapor.reports.services import (
    report_attach,
    report_comment,
    report_dispatch,
    report_follow_up,
    report_support,
)
from tests.console.conftest import verified_login

SENTINEL = "ZANZIBARSENTINEL"
SECRET_PHONE = "0812-9988-7766"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def publish(world, institution=None, **overrides) -> Report:
    report = world.submit(**overrides)
    return report_dispatch(user=world.national_admin, report=report, institution=institution or world.city).report


def text_of(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def shown_ids(response) -> list[str]:
    return [item.tracking_id for item in response.context["reports"]]


# --- the list ---------------------------------------------------------------------------------------


def test_the_feed_lists_published_reports_with_their_public_text(client, world):
    shown = publish(world, title="Lampu jalan mati", body=f"Hubungi saya di {SECRET_PHONE}.")
    world.submit(title="Belum diverifikasi")
    response = client.get(reverse("portal:feed"))
    assert response.status_code == 200
    page = text_of(response)
    assert "Lampu jalan mati" in page
    assert format_tracking_id(shown.tracking_id) in page
    assert reverse("portal:report", args=[shown.tracking_id]) in page
    assert "Belum diverifikasi" not in page
    assert SECRET_PHONE not in page
    assert "Kota Tangerang Selatan" not in page or "Serpong" in page
    assert 'type="application/rss+xml"' in page
    # Every field has its label.
    for field in ("q", "wilayah", "instansi", "kategori", "status", "jenis", "dari", "sampai", "urut"):
        assert f'<label for="id_{field}"' in page


def index_region_names(*codes: str) -> None:
    """The test world writes regions without their name tokens: rename them (through the service, which
    writes the tokens) and back."""
    from lapor.regions.models import Region
    from lapor.regions.services import region_update

    for code in codes:
        name = Region.objects.get(code=code).name
        region_update(code=code, name=f"{name} sementara", is_active=True)
        region_update(code=code, name=name, is_active=True)


def test_the_feed_filters_by_every_field(client, world):
    index_region_names("36.74", "36.03")
    lights = category_create(code="pju", name="Penerangan Jalan Umum")
    body = "Mohon segera ditangani."
    lamp = publish(world, title="Lampu jalan mati", body=body, category=lights)
    suggestion = publish(world, title="Taman kota", body=body, kind=ReportKind.SUGGESTION, institution=world.transport)
    progressing = report_follow_up(
        user=world.coordinator, report=publish(world, title="Sampah", body=body), message="Dicek."
    ).report
    old = publish(world, title="Laporan lama", body=body)
    Report.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    regency = publish(world, title="Jalan desa rusak", body=body, institution=world.regency, village_code="")
    url = reverse("portal:feed")

    def found(**query) -> set[str]:
        response = client.get(url, query)
        assert response.status_code == 200
        return set(shown_ids(response))

    everything = {lamp.tracking_id, suggestion.tracking_id, progressing.tracking_id, old.tracking_id}
    assert found() == everything | {regency.tracking_id}
    assert found(wilayah="36.74") == everything
    assert found(wilayah="36.74.01.1001") == everything
    assert found(wilayah="Tangerang Selatan") == everything  # a name, resolved to the city
    assert found(instansi="kota-tangsel-dishub") == {suggestion.tracking_id}
    assert found(instansi="kota-tangsel") == everything  # the city with its offices
    assert found(instansi="Pemerintah Kabupaten Tangerang") == {regency.tracking_id}
    assert found(kategori="pju") == {lamp.tracking_id}
    assert found(status="in_progress") == {progressing.tracking_id}
    assert found(jenis="aspirasi") == {suggestion.tracking_id}
    today = timezone.localdate()
    assert found(sampai=(today - timedelta(days=29)).isoformat()) == {old.tracking_id}
    assert old.tracking_id not in found(dari=(today - timedelta(days=1)).isoformat())
    assert found(q="lampu jalan") == {lamp.tracking_id}
    assert found(q="jalan") == {lamp.tracking_id, regency.tracking_id}


def test_filters_with_errors_are_shown_next_to_their_fields(client, world):
    publish(world)
    response = client.get(reverse("portal:feed"), {"wilayah": "Atlantis", "dari": "2026-03-10", "sampai": "2026-03-01"})
    assert response.status_code == 200
    page = text_of(response)
    assert response.context["reports"] == []
    assert "No region with this name or code." in page
    assert "The end of the period cannot be before its start." in page
    assert 'id="id_wilayah-error"' in page
    assert re.search(r'id="id_wilayah"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="id_wilayah"', page)
    assert 'value="Atlantis"' in page  # nothing typed is lost
    assert "Correct the filters above to see reports." in page
    assert client.get(reverse("portal:feed"), {"status": "submitted"}).context["form"].errors["status"]


def test_the_feed_sorts_by_support_and_pages_with_a_cursor(client, world):
    reports = [publish(world, title=f"Laporan nomor {index}") for index in range(25)]
    supporters = [user_create(full_name=f"Pendukung {index}", email=f"d{index}@example.id") for index in range(2)]
    for supporter in supporters:
        report_support(user=supporter, report=reports[3])
    report_support(user=supporters[0], report=reports[7])
    url = reverse("portal:feed")
    supported = client.get(url, {"urut": "dukungan"})
    assert shown_ids(supported)[:2] == [reports[3].tracking_id, reports[7].tracking_id]

    first = client.get(url)
    assert len(shown_ids(first)) == 20
    assert shown_ids(first)[0] == reports[-1].tracking_id
    next_url = first.context["next_url"]
    assert "setelah=" in next_url
    assert 'rel="next"' in text_of(first)
    second = client.get(next_url)
    assert second.status_code == 200
    assert len(shown_ids(second)) == 5
    assert set(shown_ids(first)) | set(shown_ids(second)) == {report.tracking_id for report in reports}
    assert second.context["next_url"] == ""
    assert "Back to the first page" in text_of(second)
    # Filters travel with the cursor.
    filtered = client.get(url, {"q": "nomor", "urut": "dukungan"})
    assert "q=nomor" in filtered.context["next_url"]
    assert "urut=dukungan" in filtered.context["next_url"]


def test_htmx_gets_only_the_results(client, world):
    publish(world, title="Lampu jalan mati")
    response = client.get(reverse("portal:feed"), {"q": "lampu"}, headers={"HX-Request": "true"})
    page = text_of(response)
    assert page.lstrip().startswith('<section id="feed-results"')
    assert "<html" not in page
    assert "Lampu jalan mati" in page
    assert "HX-Request" in response["Vary"]
    # Filters with errors: htmx loads the whole page, where the errors sit next to their fields.
    invalid = client.get(reverse("portal:feed"), {"wilayah": "Atlantis"}, headers={"HX-Request": "true"})
    assert invalid.status_code == 200
    assert invalid.content == b""
    assert invalid["HX-Redirect"] == "/laporan/?wilayah=Atlantis"


def test_htmx_is_loaded_only_once_vendored(client, world, monkeypatch):
    from lapor.portal.views import feed

    monkeypatch.setattr(feed, "vendored", lambda path: False)
    page = text_of(client.get(reverse("portal:feed")))
    assert "htmx" not in page
    monkeypatch.setattr(feed, "vendored", lambda path: True)
    page = text_of(client.get(reverse("portal:feed")))
    assert "portal/vendor/htmx.min.js" in page
    assert 'hx-get="/laporan/"' in page


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_feed_costs_the_same_queries_for_few_or_many_reports(
    client, world, signed_in, django_assert_max_num_queries
):
    if signed_in:
        client.force_login(world.member_of_public)
    for _ in range(3):
        publish(world)
    url = reverse("portal:feed")
    with django_assert_max_num_queries(5 if signed_in else 3):
        client.get(url, {"wilayah": "36.74", "urut": "dukungan"})
    for _ in range(25):
        publish(world)
    with django_assert_max_num_queries(5 if signed_in else 3):
        response = client.get(url, {"wilayah": "36.74", "urut": "dukungan"})
    assert len(response.context["reports"]) == 20


# --- the map ----------------------------------------------------------------------------------------


def located_reports(world, count: int) -> list[Report]:
    people = [user_create(full_name=f"Warga {index}", email=f"warga{index}@example.id") for index in range(count)]
    return [
        publish(
            world,
            reporter=person,
            latitude=Decimal("-6.30") + Decimal(index) / Decimal(1000) + Decimal("0.000123"),
            longitude=Decimal("106.66") + Decimal(index) / Decimal(1000) + Decimal("0.000456"),
            title=f"Jalan rusak {index}",
        )
        for index, person in enumerate(people)
    ]


def test_the_map_shows_districts_at_a_coarse_position_never_a_reports_point(client, world, monkeypatch):
    from lapor.portal.views import feed

    monkeypatch.setattr(feed, "vendored", lambda path: True)
    reports = located_reports(world, MAP_MIN_SOURCES)
    response = client.get(reverse("portal:feed_map"))
    assert response.status_code == 200
    page = text_of(response)
    found = re.search(r'<script id="feed-map-data" type="application/json">(.*?)</script>', page, re.S)
    assert found is not None
    data = json.loads(found[1])
    (marker,) = data["markers"]
    assert marker["name"] == "Serpong"
    assert (marker["lat"], marker["lng"]) == (-6.3, 106.66)
    assert len(marker["reports"]) == MAP_MIN_SOURCES
    for report in reports:
        assert str(report.latitude) not in page
        assert str(report.longitude) not in page
        assert report.address not in page or not report.address
    # Without JavaScript, the same reports as a list with their coarse positions.
    assert "District Serpong, around -6.3, 106.66" in page
    assert data["tile_url"] == ""
    assert "portal/vendor/leaflet.js" in page
    assert "portal/vendor/leaflet.css" in page
    assert "portal/feed-map.js" in page


def test_the_map_places_nothing_from_too_few_people(client, world):
    located_reports(world, MAP_MIN_SOURCES - 1)
    response = client.get(reverse("portal:feed_map"))
    page = text_of(response)
    assert response.context["map_data"]["markers"] == []
    assert "not placed on the map" in page
    assert response.context["placed"] == 0


def test_the_map_uses_the_configured_tile_server_and_loads_leaflet_only_when_vendored(
    client, world, settings, monkeypatch
):
    from lapor.portal.views import feed

    settings.MAP_TILE_URL = "https://tiles.example.go.id/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "© OpenStreetMap contributors"
    monkeypatch.setattr(feed, "vendored", lambda path: True)
    response = client.get(reverse("portal:feed_map"))
    assert response.context["map_data"]["tile_url"] == settings.MAP_TILE_URL
    assert response.context["map_data"]["tile_attribution"] == "© OpenStreetMap contributors"
    monkeypatch.setattr(feed, "vendored", lambda path: False)
    page = text_of(client.get(reverse("portal:feed_map")))
    assert "leaflet" not in page
    assert 'id="feed-map"' not in page
    # The map's library is never loaded by the list or the home page.
    assert "leaflet" not in text_of(client.get(reverse("portal:feed")))


def test_map_tile_url_is_checked_at_start_up(tmp_path):
    from lapor.config import ConfigError, load_config

    base = {"DEBUG": "1"}
    assert load_config(base, base_dir=tmp_path).map_tile_url == ""
    good = load_config({**base, "MAP_TILE_URL": "/tiles/{z}/{x}/{y}.png"}, base_dir=tmp_path)
    assert good.map_tile_url == "/tiles/{z}/{x}/{y}.png"
    for bad in ("tiles.example/{z}/{x}/{y}.png", "https://tiles.example.go.id/tile.png"):
        with pytest.raises(ConfigError, match="MAP_TILE_URL"):
            load_config({**base, "MAP_TILE_URL": bad}, base_dir=tmp_path)


# --- RSS and Atom -----------------------------------------------------------------------------------


def test_rss_and_atom_per_region_and_institution(client, world):
    city = publish(world, title="Lampu jalan mati", body=f"Telepon saya {SECRET_PHONE} kapan saja.")
    office = publish(world, title="Terminal kotor", institution=world.transport)
    regency = publish(world, title="Jalan desa rusak", institution=world.regency, village_code="")
    rss = client.get(reverse("portal:feed_rss"), {"wilayah": "36.74"})
    assert rss.status_code == 200
    assert rss["Content-Type"].startswith("application/rss+xml")
    body = text_of(rss)
    assert "Lampu jalan mati" in body
    assert "Terminal kotor" in body
    assert "Jalan desa rusak" not in body
    assert MASK in body
    assert SECRET_PHONE not in body
    assert f"http://testserver{reverse('portal:report', args=[city.tracking_id])}" in body

    atom = client.get(reverse("portal:feed_atom"), {"instansi": "kota-tangsel-dishub"})
    assert atom.status_code == 200
    assert atom["Content-Type"].startswith("application/atom+xml")
    body = text_of(atom)
    assert "Terminal kotor" in body
    assert "Lampu jalan mati" not in body
    assert office.tracking_id in body

    everything = text_of(client.get(reverse("portal:feed_rss")))
    for report in (city, office, regency):
        assert report.tracking_id in everything
    assert client.get(reverse("portal:feed_rss"), {"wilayah": "99.99"}).status_code == 404
    assert client.get(reverse("portal:feed_rss"), {"wilayah": "bukan"}).status_code == 404
    assert client.get(reverse("portal:feed_atom"), {"instansi": "tidak-ada"}).status_code == 404


MARKUP_BODY = f"Petugas menulis <script>alert(1)</script> dan &lt;b&gt;tebal&lt;/b&gt; lalu {SECRET_PHONE}."
ATOM = "{http://www.w3.org/2005/Atom}"


def test_rss_descriptions_are_text_a_reader_cannot_turn_into_markup(client, world):
    publish(world, title="Skrip di laporan", body=MARKUP_BODY)
    channel = ElementTree.fromstring(text_of(client.get(reverse("portal:feed_rss"))))
    [description] = [item.findtext("description") or "" for item in channel.iter("item")]
    # Readers render an RSS description as HTML: what they render must be the citizen's characters.
    assert "<" not in description
    assert html.unescape(description) == MARKUP_BODY.replace(SECRET_PHONE, MASK)


def test_atom_summaries_are_typed_as_text(client, world):
    publish(world, title="Skrip di laporan", body=MARKUP_BODY)
    feed = ElementTree.fromstring(text_of(client.get(reverse("portal:feed_atom"))))
    [summary] = list(feed.iter(f"{ATOM}summary"))
    assert summary.get("type") == "text"
    assert summary.text == MARKUP_BODY.replace(SECRET_PHONE, MASK)


def test_the_feed_page_links_the_feeds_of_its_region(client, world):
    response = client.get(reverse("portal:feed"), {"wilayah": "36.74"})
    assert response.context["feeds"]["rss"] == reverse("portal:feed_rss") + "?wilayah=36.74"
    assert response.context["feeds"]["atom"] == reverse("portal:feed_atom") + "?wilayah=36.74"


# --- one report -------------------------------------------------------------------------------------


def test_the_report_page_shows_the_public_report(client, world):
    report = publish(world, title="Lampu jalan mati", body=f"Hubungi saya di {SECRET_PHONE}.")
    report = report_follow_up(user=world.coordinator, report=report, message="Teknisi dikirim besok pagi.").report
    report_comment(user=world.member_of_public, report=report, message="Saya juga, WA 0813-1111-2222.")
    response = client.get(reverse("portal:report", args=[report.tracking_id]))
    assert response.status_code == 200
    page = text_of(response)
    assert "Lampu jalan mati" in page
    assert format_tracking_id(report.tracking_id) in page
    assert SECRET_PHONE not in page
    assert "0813-1111-2222" not in page
    assert MASK in page
    assert "Teknisi dikirim besok pagi." in page
    assert "Progress follow-up" in page
    assert world.reporter.full_name not in page
    assert world.member_of_public.full_name not in page
    assert "A citizen" in page
    # Deadlines: the state in words as well as in colour.
    assert 'class="badge state-green">On time<' in page
    assert "Resolution" in page
    assert "1 comment" in page
    assert "Sign in to comment" in page


def test_a_report_the_public_may_not_see_is_the_same_404_as_none(client, world):
    confidential = publish(world, is_confidential=True)
    unverified = world.submit()
    pages = []
    for tracking_id in (confidential.tracking_id, unverified.tracking_id, "ABCDEFGHJ", "nonsense"):
        response = client.get(reverse("portal:report", args=[tracking_id]))
        assert response.status_code == 404
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text_of(response))
        pages.append(page.replace(format_tracking_id(tracking_id), "").replace(tracking_id, ""))
        assert "No public report with this tracking ID" in pages[-1]
    assert len(set(pages)) == 1


def test_a_typed_tracking_id_leads_to_its_canonical_page(client, world):
    report = publish(world)
    typed = format_tracking_id(report.tracking_id).lower()
    response = client.get(reverse("portal:report", args=[typed]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:report", args=[report.tracking_id])


def test_public_files_are_listed_and_served_under_their_public_name(client, world, media):
    report = publish(world)
    (public_file,) = report_attach(
        user=world.coordinator,
        report=report,
        files=[SimpleUploadedFile("surat Rina.txt", b"Surat balasan dinas.", content_type="text/plain")],
        visibility=Visibility.PUBLIC,
    ).attachments
    (private_file,) = report_attach(
        user=world.reporter,
        report=report,
        files=[SimpleUploadedFile("KTP Rina.txt", b"NIK saya.", content_type="text/plain")],
        visibility=Visibility.REPORTER,
    ).attachments
    page = text_of(client.get(reverse("portal:report", args=[report.tracking_id])))
    assert "Rina" not in page
    download = reverse("portal:report_attachment", args=[report.tracking_id, public_file.pk])
    assert download in page
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"Surat balasan dinas."
    assert "lampiran-1.txt" in response["Content-Disposition"]
    hidden = reverse("portal:report_attachment", args=[report.tracking_id, private_file.pk])
    assert hidden not in page
    assert client.get(hidden).status_code == 404


# --- support ----------------------------------------------------------------------------------------


def test_guests_are_sent_to_sign_in_before_supporting(client, world):
    report = publish(world)
    url = reverse("portal:report_support", args=[report.tracking_id])
    response = client.post(url)
    assert response.status_code == 302
    login = reverse("portal:login")
    assert response["Location"].startswith(login)
    assert response["Location"] == f"{login}?next={reverse('portal:report', args=[report.tracking_id])}"
    assert client.get(url).status_code == 405
    assert ReportSupport.objects.count() == 0


def test_one_support_per_account(client, world):
    report = publish(world)
    client.force_login(world.member_of_public)
    url = reverse("portal:report_support", args=[report.tracking_id])
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "Thank you: your support is counted." in text_of(response)
    assert "You support this report." in text_of(response)
    assert Report.objects.get(pk=report.pk).support_count == 1
    again = client.post(url, follow=True)
    assert "You support this report already." in text_of(again)
    assert Report.objects.get(pk=report.pk).support_count == 1
    client.force_login(world.reporter)
    own = client.post(url, follow=True)
    assert "You filed this report." in text_of(own)
    assert Report.objects.get(pk=report.pk).support_count == 1


def test_support_is_rate_limited(client, world, settings):
    settings.RATE_LIMITS = {"support": {"account": ("2/10m",)}}
    reports = [publish(world) for _ in range(3)]
    client.force_login(world.member_of_public)
    for report in reports[:2]:
        assert client.post(reverse("portal:report_support", args=[report.tracking_id])).status_code == 302
    refused = client.post(reverse("portal:report_support", args=[reports[2].tracking_id]))
    assert refused.status_code == 429
    assert Report.objects.get(pk=reports[2].pk).support_count == 0


# --- comments ---------------------------------------------------------------------------------------


def test_a_signed_in_citizen_comments_and_their_contacts_are_masked(client, world):
    report = publish(world)
    url = reverse("portal:report_comment", args=[report.tracking_id])
    guest = client.post(url, {"message": "Halo"})
    assert guest.status_code == 302
    assert guest["Location"].startswith(reverse("portal:login"))
    client.force_login(world.member_of_public)
    response = client.post(url, {"message": "Sama di RT 03, hubungi 0813-1111-2222."}, follow=True)
    page = text_of(response)
    assert "Your comment is published." in page
    assert f"Sama di RT 03, hubungi {MASK}." in page
    assert "0813-1111-2222" not in page
    empty = client.post(url, {"message": "  "})
    assert empty.status_code == 400
    assert 'id="id_message-error"' in text_of(empty)
    assert ReportEvent.objects.filter(report=report, action=Action.COMMENT).count() == 1


def test_a_comment_that_trips_the_honeypot_is_refused(client, world):
    report = publish(world)
    client.force_login(world.member_of_public)
    from lapor.portal import abuse

    field = abuse.honeypot_field_name
    response = client.post(
        reverse("portal:report_comment", args=[report.tracking_id]), {"message": "Beli obat murah", field: "x"}
    )
    assert response.status_code == 400
    assert ReportEvent.objects.filter(report=report, action=Action.COMMENT).count() == 0


def test_comments_are_rate_limited(client, world, settings):
    settings.RATE_LIMITS = {"comment": {"account": ("2/10m",)}}
    report = publish(world)
    client.force_login(world.member_of_public)
    url = reverse("portal:report_comment", args=[report.tracking_id])
    for index in range(2):
        assert client.post(url, {"message": f"Komentar {index}"}).status_code == 302
    assert client.post(url, {"message": "Satu lagi"}).status_code == 429
    assert ReportEvent.objects.filter(report=report, action=Action.COMMENT).count() == 2


def test_staff_hide_a_comment_from_the_report_page(client, world):
    report = publish(world)
    rude = report_comment(user=world.member_of_public, report=report, message="Dasar malas semua!").event
    page_url = reverse("portal:report", args=[report.tracking_id])
    hide_url = reverse("portal:report_comment_hide", args=[report.tracking_id, rude.sequence])
    client.force_login(world.member_of_public)
    assert hide_url not in text_of(client.get(page_url))
    assert client.post(hide_url, {"reason": "Tidak suka"}).status_code == 403
    # Staff act for their institution only with the second factor proven (see tests/console/test_matrix.py).
    verified_login(client, world.coordinator)
    assert hide_url in text_of(client.get(page_url))
    response = client.post(hide_url, {"reason": "Kasar."}, follow=True)
    page = text_of(response)
    assert "The comment is hidden." in page
    assert "Dasar malas semua!" not in page
    assert "0 comments" in page
    assert "Dasar malas semua!" not in text_of(client.get(page_url))


# --- the permission matrix --------------------------------------------------------------------------


def visitors(world) -> dict[str, object]:
    return {
        "anonymous": None,
        "reporter": world.reporter,
        "other citizen": world.member_of_public,
        "unrelated staff": world.outsider,
        "owner's coordinator": world.coordinator,
        "national admin": world.national_admin,
    }


def test_no_one_finds_a_confidential_or_unpublished_report_on_any_public_page(client, world):
    lights = category_create(code="pju", name="Penerangan Jalan Umum")
    shown = publish(world, title="Lampu jalan mati di Serpong", category=lights)
    hidden = [
        publish(world, title=f"{SENTINEL} rahasia", body=f"Isi {SENTINEL}.", is_confidential=True, category=lights),
        world.submit(title=f"{SENTINEL} belum diverifikasi", body=f"Isi {SENTINEL}.", category=lights),
        publish(world, title=f"{SENTINEL} di unit", body=SENTINEL, is_confidential=True, institution=world.transport),
    ]
    report_comment(user=world.national_admin, report=hidden[0], message=f"Catatan {SENTINEL}")
    # The confidential reports have located points, to be sure the map does not use them.
    for index in range(MAP_MIN_SOURCES):
        person = user_create(full_name=f"Saksi {index}", email=f"saksi{index}@example.id")
        publish(world, reporter=person, is_confidential=True, title=f"{SENTINEL} {index}", latitude=-7, longitude=110)
    pages = [
        reverse("portal:home"),
        reverse("portal:feed"),
        reverse("portal:feed") + "?q=rahasia",
        reverse("portal:feed") + "?q=isi",
        reverse("portal:feed") + "?wilayah=36.74.01.1001&kategori=pju&urut=dukungan",
        reverse("portal:feed") + "?instansi=kota-tangsel-dishub",
        reverse("portal:feed_map"),
        reverse("portal:feed_map") + "?q=isi",
        reverse("portal:feed_rss"),
        reverse("portal:feed_rss") + "?wilayah=36.74",
        reverse("portal:feed_atom") + "?instansi=kota-tangsel",
        reverse("portal:feed_atom") + "?instansi=kota-tangsel-dishub",
    ]
    for name, user in visitors(world).items():
        client.logout()
        if user is not None:
            client.force_login(user)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, (name, url)
            page = text_of(response)
            assert SENTINEL not in page, (name, url)
            for report in hidden:
                assert report.tracking_id not in page, (name, url)
                assert format_tracking_id(report.tracking_id) not in page, (name, url)
        assert shown.tracking_id in text_of(client.get(reverse("portal:feed")))
        for report in hidden:
            for url, method in (
                (reverse("portal:report", args=[report.tracking_id]), "get"),
                (reverse("portal:report_support", args=[report.tracking_id]), "post"),
                (reverse("portal:report_comment", args=[report.tracking_id]), "post"),
            ):
                response = getattr(client, method)(url, {"message": "Halo"} if method == "post" else None)
                assert response.status_code == 404, (name, url)
                assert SENTINEL not in text_of(response), (name, url)
    assert ReportSupport.objects.count() == 0
    assert not ReportEvent.objects.filter(action=Action.COMMENT, message="Halo").exists()


def test_after_a_search_the_feed_links_carry_the_search_and_every_filter(client, world):
    publish(world, title="Lampu jalan mati", body="Sudah seminggu gelap di depan pasar.")
    publish(world, title="Terminal kotor", body="Sampah menumpuk di ruang tunggu.", institution=world.transport)
    response = client.get(
        reverse("portal:feed"), {"q": "lampu", "wilayah": "36.74", "dari": "2020-01-01", "status": "dispatched"}
    )
    query = "?q=lampu&wilayah=36.74&status=dispatched&dari=2020-01-01"
    assert response.context["feeds"] == {
        "rss": reverse("portal:feed_rss") + query,
        "atom": reverse("portal:feed_atom") + query,
    }
    page = text_of(response)
    assert f'href="{reverse("portal:feed_rss")}{query.replace("&", "&amp;")}"' in page
    rss = text_of(client.get(reverse("portal:feed_rss") + query))
    assert "Lampu jalan mati" in rss
    assert "Terminal kotor" not in rss
    atom = text_of(client.get(reverse("portal:feed_atom"), {"q": "terminal"}))
    assert "Terminal kotor" in atom
    assert "Lampu jalan mati" not in atom


def test_feeds_with_filters_that_make_no_sense_answer_404(client, world):
    for query in ({"dari": "2026-02-30"}, {"sampai": "9999-12-31"}, {"status": "bukan"}):
        assert client.get(reverse("portal:feed_rss"), query).status_code == 404


@pytest.mark.parametrize(
    "query",
    [{"sampai": "9999-12-31"}, {"dari": "0001-01-01"}, {"dari": "0001-01-01", "sampai": "9999-12-31"}],
)
@pytest.mark.parametrize("path", ["/laporan/", "/laporan/peta/"])
@pytest.mark.parametrize("language", ["id", "en"])
def test_dates_at_the_limits_of_the_calendar_are_refused_with_a_message(  # noqa: PLR0917 - parametrized
    client, world, settings, request, query, path, language
):
    settings.LANGUAGE_CODE = "id"  # the default: Indonesian without a prefix, English under /en/
    # Written out: reverse() keeps what it computed under the test settings' English default; and what
    # the pages reverse now is forgotten afterwards, for the tests that follow.
    request.addfinalizer(clear_url_caches)
    url = path if language == "id" else f"/en{path}"
    response = client.get(url, query)
    assert response.status_code == 200
    assert response.context["filters_invalid"] is True
    expected = {
        "id": "Masukkan tanggal antara 1 Januari 1900 dan 31 Desember 2999.",
        "en": "Enter a date between 1 January 1900 and 31 December 2999.",
    }[language]
    assert expected in text_of(response)


def test_a_search_says_how_many_reports_it_found_and_pages_them_all(client, world):
    lamps = [publish(world, title=f"Lampu jalan mati {number}", body="Gelap.") for number in range(25)]
    publish(world, title="Terminal kotor", body="Sampah menumpuk.")
    first = client.get(reverse("portal:feed"), {"q": "lampu"})
    assert "25 reports found." in text_of(first)
    assert first.context["result_count"].exact
    # The next page does not count again; together the pages show every match once.
    second = client.get(first.context["next_url"])
    assert second.context["result_count"] is None
    assert sorted(shown_ids(first) + shown_ids(second)) == sorted(report.tracking_id for report in lamps)
    # Browsing without search words counts nothing.
    assert client.get(reverse("portal:feed")).context["result_count"] is None
    single = client.get(reverse("portal:feed"), {"q": "terminal"})
    assert "1 report found." in text_of(single)
