"""Filing a report through the portal: both steps, without JavaScript, as a guest and signed in."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from lapor.core.ids import format_tracking_id
from lapor.institutions.services import category_create
from lapor.reports.choices import ReportWeight, Status
from lapor.reports.models import Attachment, Report
from lapor.reports.services import report_dispatch
from tests.images import large_png, photo_upload, record_decodes
from tests.reports.conftest import VILLAGE, World

FILE_URL = "/buat/"
DISTRICT, REGENCY, PROVINCE = "36.74.01", "36.74", "36"


def details(**overrides: Any) -> dict[str, Any]:
    data = {
        "step": "details",
        "kind": "pengaduan",
        "title": "Lampu jalan mati di Jalan Ciater Raya",
        "body": "Sudah dua minggu lampu jalan di depan pasar mati; malam hari gelap dan rawan.",
        "incident_date": (timezone.localdate() - timedelta(days=3)).isoformat(),
        "category": "",
        "province": PROVINCE,
        "regency": REGENCY,
        "district": DISTRICT,
        "village": VILLAGE,
        "address": "Depan pasar Ciater",
        "latitude": "",
        "longitude": "",
        "institution_query": "",
        "target_institution": "",
    }
    data.update(overrides)
    return data


def send_step(client: Client, **overrides: Any) -> tuple[Any, dict[str, Any]]:
    """Post the first step and return the second step's response and its form data."""
    response = client.post(FILE_URL, details())
    assert response.status_code == 200
    html = response.content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html)
    assert key is not None, "the second step carries an idempotency key"
    data = {**details(), "step": "send", "idempotency_key": key.group(1), **overrides}
    return response, data


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.mark.django_db
def test_the_first_step_offers_kinds_and_provinces(world: World, client: Client):
    response = client.get(FILE_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="kind"' in html
    assert 'value="pengaduan"' in html
    assert '<option value="36">Banten</option>' in html
    # Nothing below a province is offered before one is chosen.
    assert "Kota Tangerang Selatan" not in html


@pytest.mark.django_db
def test_a_village_link_prefills_the_location(world: World, client: Client):
    html = client.get(FILE_URL, {"desa": VILLAGE}).content.decode()
    assert f'<option value="{VILLAGE}" selected>Ciater</option>' in html


@pytest.mark.django_db
def test_missing_fields_are_named_next_to_the_field_and_nothing_typed_is_lost(world: World, client: Client):
    response = client.post(FILE_URL, details(title="", incident_date=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_title-error"' in html
    assert 'id="id_incident_date-error"' in html
    assert re.search(r'<input[^>]*name="title"[^>]*aria-invalid="true"', html)
    assert re.search(r'aria-describedby="[^"]*id_title-error', html)
    assert "Sudah dua minggu lampu jalan" in html
    assert f'<option value="{VILLAGE}" selected>' in html
    assert Report.objects.count() == 0


@pytest.mark.django_db
def test_errors_are_in_indonesian_by_default(world: World, client: Client, settings):
    settings.LANGUAGE_CODE = "id"
    with translation.override("id"):
        html = client.post(FILE_URL, details(title=""), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert 'lang="id"' in html
    assert 'id="id_title-error">Kolom ini wajib diisi.</p>' in html
    assert "This field is required." not in html


@pytest.mark.django_db
def test_an_incident_in_the_future_is_refused(world: World, client: Client):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    html = client.post(FILE_URL, details(incident_date=tomorrow)).content.decode()
    assert "The incident cannot be in the future." in html


@pytest.mark.django_db
def test_without_javascript_each_choice_shows_the_next_list(world: World, client: Client):
    response = client.post(FILE_URL, {**details(regency="", district="", village=""), "show": "regions"})
    html = response.content.decode()
    assert '<option value="36.74">Kota Tangerang Selatan</option>' in html
    assert "field-error" not in html  # the visitor is not done yet: no errors


@pytest.mark.django_db
def test_a_village_outside_the_chosen_district_is_dropped(world: World, client: Client):
    response = client.post(FILE_URL, {**details(district="36.03.01"), "show": "regions"})
    html = response.content.decode()
    assert f'<option value="{VILLAGE}" selected>' not in html


@pytest.mark.django_db
def test_region_and_institution_lists_for_scripts(world: World, client: Client):
    html = client.get(reverse("portal:region_options"), {"induk": DISTRICT}).content.decode()
    assert f'<option value="{VILLAGE}">Ciater</option>' in html
    assert client.get(reverse("portal:region_options"), {"induk": "x"}).content.decode().count("<option") == 1
    found = client.get(reverse("portal:institution_options"), {"q": "tangerang sel"}).content.decode()
    assert 'value="kota-tangsel"' in found


@pytest.mark.django_db
def test_the_second_step_summarises_and_carries_the_first(world: World, client: Client):
    response, _data = send_step(client)
    html = response.content.decode()
    assert "Step 2 of 2" in html
    assert 'type="hidden" name="title" value="Lampu jalan mati di Jalan Ciater Raya"' in html
    assert "Ciater, Serpong, Kota Tangerang Selatan, Banten" in html
    assert 'name="guest_email"' in html  # a guest gives a contact


@pytest.mark.django_db
def test_the_review_shows_everything_the_citizen_wrote(world: World, client: Client):
    category = category_create(code="penerangan-jalan", name="Penerangan jalan", name_en="Street lighting")
    response = client.post(FILE_URL, details(category=category.code, body="Sudah dua minggu gelap.\nRawan kecelakaan."))
    html = response.content.decode()
    summary = html[html.index('id="summary-heading"') : html.index("</dl>")]
    assert "<dt>What happened</dt><dd>Sudah dua minggu gelap.<br>Rawan kecelakaan.</dd>" in summary
    assert "<dt>Category</dt><dd>Street lighting</dd>" in summary
    assert "<dt>Address or landmark</dt><dd>Depan pasar Ciater</dd>" in summary
    assert '<dt>Files</dt><dd id="summary-files"' in summary


@pytest.mark.django_db
def test_similar_open_reports_nearby_are_offered_before_sending(world: World, client: Client):
    category = category_create(code="penerangan-jalan", name="Penerangan jalan")
    other = world.submit(title="Lampu jalan padam di Ciater", category=category)
    report_dispatch(user=world.national_admin, report=other, institution=world.city, weight=ReportWeight.LIGHT)
    response = client.post(FILE_URL, details(category=category.code, title="Lampu jalan mati"))
    html = response.content.decode()
    assert "Similar reports nearby" in html
    assert reverse("portal:report", args=[other.tracking_id]) in html
    # Supporting it instead is one button away (guests sign in first).
    support_url = reverse("portal:report_support", args=[other.tracking_id])
    assert f'action="{support_url}"' in html
    client.force_login(world.member_of_public)
    client.post(support_url)
    other.refresh_from_db()
    assert other.support_count == 1


@pytest.mark.django_db
def test_a_guest_must_give_a_contact_and_keeps_the_report_text(world: World, client: Client):
    _response, data = send_step(client)
    response = client.post(FILE_URL, data)
    html = response.content.decode()
    assert 'id="id_guest_email-error"' in html
    assert 'name="body" value="Sudah dua minggu' in html
    assert Report.objects.count() == 0


@pytest.mark.django_db
def test_a_guest_files_with_a_photo_and_lands_on_the_private_page(
    world: World, client: Client, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://lapor.example.id"
    _response, data = send_step(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            FILE_URL, {**data, "guest_name": "Sari", "guest_email": "sari@example.id", "attachments": [photo_upload()]}
        )
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.reporter, report.guest_email, report.status) == (None, "sari@example.id", Status.SUBMITTED)
    assert report.village_id == VILLAGE
    assert report.address == "Depan pasar Ciater"
    assert Attachment.objects.filter(report=report, content_type="image/jpeg").count() == 1
    # The private page, by a URL without the link's secret: this session remembers it.
    assert response["Location"] == f"/lacak/{report.tracking_id}/pelapor/?baru=1"
    page = client.get(response["Location"]).content.decode()
    assert "Your report has been received" in page
    assert "What happens next, and by when" in page
    assert "foto.jpg" in page
    # The acknowledgment carries the private link the page shows.
    [private_path] = set(re.findall(rf"/lacak/{report.tracking_id}/k/[^/\s\"<]+/", page))
    assert [message.to for message in mail.outbox] == [["sari@example.id"]]
    assert f"https://lapor.example.id{private_path}" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_guest_with_both_contacts_gets_the_private_link_by_email_and_by_sms(
    world: World, client: Client, settings, tmp_path, django_capture_on_commit_callbacks
):
    # As `make run` without SITE_URL: the link is built from the address the report was filed at.
    settings.SITE_URL = ""
    settings.SMS_BACKEND = "file"
    settings.DATA_DIR = tmp_path
    _response, data = send_step(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(FILE_URL, {**data, "guest_email": "sari@example.id", "guest_phone": "0812-3456-7890"})
    report = Report.objects.get()
    assert response.status_code == 302
    # The private link (with its secret) is in the messages only, never in the address the browser lands on.
    secret_free = reverse("portal:track_reporter", args=[report.tracking_id])
    assert response["Location"].split("?")[0] == secret_free
    assert [message.to for message in mail.outbox] == [["sari@example.id"]]
    prefix = "http://testserver" + reverse("portal:track_private", args=[report.tracking_id, "S"])[:-2]
    found = re.search(re.escape(prefix) + r"[^\s/]+/", str(mail.outbox[0].body))
    assert found is not None, mail.outbox[0].body
    private_link = found.group(0)
    sent = [json.loads(line) for line in (tmp_path / "sms" / "outbox.jsonl").read_text().splitlines()]
    assert [item["to"] for item in sent] == ["+6281234567890"]
    assert format_tracking_id(report.tracking_id) in sent[0]["message"]
    assert private_link in sent[0]["message"]
    # The link in the SMS opens the reporter's own page, on another device too.
    page = Client().get(private_link.removeprefix("http://testserver"), follow=True)
    assert page.status_code == 200
    assert "Lampu jalan mati di Jalan Ciater Raya" in page.content.decode()


@pytest.mark.django_db
def test_a_second_post_of_the_same_form_files_nothing_new(world: World, client: Client):
    _response, data = send_step(client)
    data = {**data, "guest_email": "sari@example.id"}
    first = client.post(FILE_URL, data)
    second = client.post(FILE_URL, data)
    report = Report.objects.get()
    assert first["Location"] == f"/lacak/{report.tracking_id}/pelapor/?baru=1"
    assert second["Location"] == f"/lacak/{report.tracking_id}/?ulang=1"


@pytest.mark.django_db
def test_a_signed_in_reporter_files_without_giving_a_contact(world: World, client: Client):
    client.force_login(world.reporter)
    response, data = send_step(client)
    assert 'name="guest_email"' not in response.content.decode()
    response = client.post(FILE_URL, {**data, "is_anonymous": "on"})
    report = Report.objects.get()
    assert (report.reporter, report.is_anonymous, report.is_confidential) == (world.reporter, True, False)


@pytest.mark.django_db
def test_a_file_that_is_not_what_it_claims_files_nothing(world: World, client: Client):
    _response, data = send_step(client)
    fake = SimpleUploadedFile("foto.jpg", b"MZ not really a photo", content_type="image/jpeg")
    response = client.post(FILE_URL, {**data, "guest_email": "sari@example.id", "attachments": [fake]})
    assert response.status_code == 400
    assert 'id="id_attachments-error"' in response.content.decode()
    assert Report.objects.count() == 0


@pytest.mark.django_db
def test_a_picture_over_the_pixel_budget_files_nothing_and_is_not_decoded(
    world: World, client: Client, monkeypatch: pytest.MonkeyPatch
):
    _response, data = send_step(client)
    decoded = record_decodes(monkeypatch)
    large = SimpleUploadedFile("denah.png", large_png(7000, 7000), content_type="image/png")
    response = client.post(FILE_URL, {**data, "guest_email": "sari@example.id", "attachments": [large]})
    assert 'id="id_attachments-error"' in response.content.decode()
    assert "(at most 40 megapixels)" in response.content.decode()
    assert Report.objects.count() == 0
    assert decoded == []


@pytest.mark.django_db
def test_going_back_keeps_the_first_step(world: World, client: Client):
    _response, data = send_step(client)
    html = client.post(FILE_URL, {**data, "back": "1"}).content.decode()
    assert "Step 1 of 2" in html
    assert 'value="Lampu jalan mati di Jalan Ciater Raya"' in html


@pytest.mark.django_db
def test_a_filled_honeypot_files_nothing(world: World, client: Client):
    _response, data = send_step(client)
    response = client.post(FILE_URL, {**data, "guest_email": "sari@example.id", "website": "http://spam.example"})
    assert response.status_code == 400
    assert Report.objects.count() == 0


@pytest.mark.django_db
def test_too_many_reports_from_one_account_get_a_clear_429(world: World, client: Client, settings):
    settings.RATE_LIMITS = {"submit": {"account": ("2/1d",)}}
    client.force_login(world.reporter)
    statuses = []
    for _attempt in range(3):
        _response, data = send_step(client)
        statuses.append(client.post(FILE_URL, data))
    assert [response.status_code for response in statuses] == [302, 302, 429]
    assert statuses[-1].has_header("Retry-After")
    assert Report.objects.count() == 2
