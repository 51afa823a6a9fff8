"""Following a report: the tracking-ID box, the reporter's page (signed in or by private link) and the
reporter's actions through it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lapor.core.ids import format_tracking_id, parse_tracking_id
from lapor.reports.access import reporter_proof_by_link
from lapor.reports.choices import ArchiveReason, ReportWeight, Status, Visibility
from lapor.reports.models import Report
from lapor.reports.services import (
    report_archive,
    report_attach,
    report_confirm,
    report_dispatch,
    report_follow_up,
    report_forward,
    report_rate,
    report_request_information,
    report_submit,
)
from tests.images import photo_upload
from tests.reports.conftest import VILLAGE, World


def guest_report(world: World, **overrides: object) -> tuple[Report, str]:
    fields: dict[str, object] = {
        "title": "Jalan berlubang di Ciater",
        "body": "Lubang besar di tengah jalan, sudah ada motor jatuh.",
        "incident_date": Report._meta.get_field("incident_date").to_python("2026-11-20"),
        "guest_name": "Sari Pelapor",
        "guest_email": "sari@example.id",
        "village_code": VILLAGE,
    }
    fields.update(overrides)
    filed = report_submit(**fields)  # type: ignore[arg-type]
    return filed.report, filed.secret


def completed(world: World, report: Report) -> Report:
    report = report_dispatch(
        user=world.national_admin, report=report, institution=world.city, weight=ReportWeight.LIGHT
    ).report
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report
    return report_follow_up(user=world.officer, report=report, message="Lubang sudah ditambal.", final=True).report


def private_url(report: Report, secret: str) -> str:
    return reverse("portal:track_private", args=[report.tracking_id, secret])


def open_private(client: Client, report: Report, secret: str) -> str:
    """Opens the private link as the reporter does; returns the page it lands on (a URL without the secret)."""
    response = client.get(private_url(report, secret))
    assert response.status_code == 303
    assert response["Location"] == reverse("portal:track_reporter", args=[report.tracking_id])
    return str(response["Location"])


@pytest.fixture
def client() -> Client:
    return Client()


def test_the_reporter_link_setting_points_at_the_private_page():
    path = django_settings.REPORTER_LINK_PATH.format(tracking_id="ABCDEFGHJ", secret="s3cret")
    assert path == reverse("portal:track_private", args=["ABCDEFGHJ", "s3cret"])


@pytest.mark.django_db
def test_the_tracking_box_accepts_an_id_as_people_type_it(world: World, client: Client):
    report, _secret = guest_report(world)
    typed = format_tracking_id(report.tracking_id).lower()
    response = client.get(reverse("portal:track"), {"id": f" {typed} "})
    assert response["Location"] == reverse("portal:track_report", args=[report.tracking_id])


@pytest.mark.django_db
def test_a_mistyped_id_is_caught_by_its_check_symbol(world: World, client: Client):
    report, _secret = guest_report(world)
    wrong = report.tracking_id[:-1] + ("A" if report.tracking_id[-1] != "A" else "B")
    response = client.get(reverse("portal:track"), {"id": wrong})
    assert response.status_code == 200
    assert 'id="id_id-error"' in response.content.decode()


@pytest.mark.django_db
def test_an_unpublished_report_says_received_and_nothing_more_to_anyone(world: World, client: Client):
    report, _secret = guest_report(world)
    url = reverse("portal:track_report", args=[report.tracking_id])
    as_guest = client.get(url)
    client.force_login(world.member_of_public)
    as_someone_else = client.get(url)
    for response in (as_guest, as_someone_else):
        assert response.status_code == 200
        html = response.content.decode()
        assert f"Report {format_tracking_id(report.tracking_id)} has been received" in html
        assert "It is not public (yet)" in html
        assert "Open the private link we sent you by e-mail or SMS" in html
        assert f'href="{reverse("portal:claim")}"' in html
        for secret_fact in ("Jalan berlubang", "Lubang besar", "Sari", "Submitted", "Kota Tangerang"):
            assert secret_fact not in html
    # The same words whoever asks: only the signed-in visitor's menu differs.
    assert _main(as_guest) == _main(as_someone_else)


@pytest.mark.django_db
def test_an_unknown_id_is_not_found_and_points_account_holders_to_their_claim(world: World, client: Client):
    response = client.get(reverse("portal:track_report", args=["4P26Q5XRK"]))
    assert response.status_code == 404
    html = response.content.decode()
    assert "No report with this tracking ID" in html
    assert "It is not public (yet)" not in html
    assert f'<a href="{reverse("portal:claim")}">claim your reports</a>' in html


def test_the_tracking_box_hint_shows_a_real_tracking_id(client: Client):
    html = client.get(reverse("portal:track")).content.decode()
    assert "ABCD-EFGH-J" not in html
    example = "4P2-6Q5-XRK"
    assert f"e.g. {example}." in html
    assert parse_tracking_id(example) == "4P26Q5XRK"


def _main(response: object) -> str:
    html = response.content.decode()  # type: ignore[attr-defined]
    return html[html.index("<main") : html.index("</main>")]


@pytest.mark.django_db
def test_a_published_report_sends_others_to_its_public_page(world: World, client: Client):
    report, _secret = guest_report(world)
    report_dispatch(user=world.national_admin, report=report, institution=world.city)
    response = client.get(reverse("portal:track_report", args=[report.tracking_id]))
    assert response["Location"] == reverse("portal:report", args=[report.tracking_id])


@pytest.mark.django_db
def test_the_tracking_box_sends_a_visitor_straight_to_a_public_report(
    world: World, client: Client, django_assert_max_num_queries
):
    report, _secret = guest_report(world)
    report_dispatch(user=world.national_admin, report=report, institution=world.city)
    typed = format_tracking_id(report.tracking_id).lower()
    with django_assert_max_num_queries(1):  # is it public: one lookup by the tracking ID's index
        response = client.get(reverse("portal:track"), {"id": typed})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:report", args=[report.tracking_id])
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("confidential", [False, True])
def test_the_tracking_box_sends_what_is_not_public_and_signed_in_users_through_the_tracking_page(
    world: World, client: Client, confidential: bool
):
    report, _secret = guest_report(world, is_confidential=confidential)
    if confidential:
        report_dispatch(user=world.national_admin, report=report, institution=world.city)
    # Unpublished, or confidential: the tracking page says "received" and nothing more (rate-limited).
    response = client.get(reverse("portal:track"), {"id": report.tracking_id})
    assert response["Location"] == reverse("portal:track_report", args=[report.tracking_id])
    published = report_dispatch(user=world.national_admin, report=world.submit(), institution=world.city).report
    client.force_login(world.reporter)  # its reporter: the tracking page shows them their own page
    response = client.get(reverse("portal:track"), {"id": published.tracking_id})
    assert response["Location"] == reverse("portal:track_report", args=[published.tracking_id])
    own = client.get(response["Location"])
    assert own.status_code == 200
    assert own.templates[0].name == "portal/tracking/reporter.html"


@pytest.mark.django_db
def test_a_confidential_report_is_never_sent_to_a_public_page(world: World, client: Client):
    report, _secret = guest_report(world, is_confidential=True)
    report_dispatch(user=world.national_admin, report=report, institution=world.city)
    response = client.get(reverse("portal:track_report", args=[report.tracking_id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "It is not public (yet)" in html
    assert "Jalan berlubang" not in html
    assert "Kota Tangerang" not in html


@pytest.mark.django_db
def test_the_private_link_opens_the_reporters_page_and_a_wrong_secret_nothing(world: World, client: Client):
    report, secret = guest_report(world, is_anonymous=True)
    page = client.get(private_url(report, secret), follow=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Lubang besar di tengah jalan" in html
    # The running deadlines, named: verification and dispatch first.
    assert "<strong>Verify and dispatch</strong>" in html
    assert 'name="robots" content="noindex"' in html
    assert client.get(private_url(report, secret[:-1] + "x")).status_code == 404


@pytest.mark.django_db
def test_a_signed_in_reporter_sees_their_own_report_by_tracking_id(world: World, client: Client):
    report = world.submit()
    client.force_login(world.reporter)
    response = client.get(reverse("portal:track_report", args=[report.tracking_id]))
    assert response.status_code == 200
    assert report.title in response.content.decode()


@pytest.mark.django_db
def test_the_reporter_confirms_and_rates_through_the_private_link(world: World, client: Client):
    report, secret = guest_report(world)
    completed(world, report)
    url = open_private(client, report, secret)
    html = client.get(url).content.decode()
    assert 'value="confirm"' in html
    assert 'value="dispute"' in html
    assert client.post(url, {"action": "confirm"})["Location"] == url
    report.refresh_from_db()
    assert (report.status, report.closure_reason) == (Status.CLOSED, "confirmed")
    client.post(url, {"action": "rate", "rating": "4", "comment": "Cepat"})
    report.refresh_from_db()
    assert (report.rating, report.rating_comment) == (4, "Cepat")
    page = client.get(url).content.decode()
    assert "Thank you for your rating." in page
    assert 'value="rate"' not in page  # rated once: no form to rate again


@pytest.mark.django_db
def test_a_dispute_needs_a_reason_and_reopens_the_report(world: World, client: Client):
    report, secret = guest_report(world)
    completed(world, report)
    url = open_private(client, report, secret)
    response = client.post(url, {"action": "dispute", "reason": ""})
    assert response.status_code == 400
    assert 'id="id_reason-error"' in response.content.decode()
    client.post(url, {"action": "dispute", "reason": "Lubangnya muncul lagi."})
    report.refresh_from_db()
    assert report.status == Status.IN_PROGRESS


@pytest.mark.django_db
def test_the_reporter_answers_a_question(world: World, client: Client):
    report, secret = guest_report(world)
    report_request_information(user=world.national_admin, report=report, question="Di depan nomor berapa?")
    url = open_private(client, report, secret)
    html = client.get(url).content.decode()
    assert "Di depan nomor berapa?" in html
    client.post(url, {"action": "provide_information", "answer": "Depan nomor 12."})
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED


@pytest.mark.django_db
def test_the_reporter_sees_why_it_was_archived_and_appeals(world: World, client: Client):
    report, secret = guest_report(world)
    report_archive(user=world.national_admin, report=report, reason=ArchiveReason.INCOMPLETE, explanation="Lokasi?")
    url = open_private(client, report, secret)
    html = client.get(url).content.decode()
    assert "Lokasi?" in html
    client.post(url, {"action": "appeal", "message": "Lokasinya di Ciater, depan pasar."})
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED


@pytest.mark.django_db
def test_an_action_the_status_does_not_allow_is_refused(world: World, client: Client):
    report, secret = guest_report(world)
    url = open_private(client, report, secret)
    response = client.post(url, {"action": "confirm"}, follow=True)
    assert "This cannot be done to the report in its current state." in response.content.decode()
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED


@pytest.mark.django_db
def test_the_ombudsman_is_offered_only_once_the_overall_deadline_has_passed(world: World, client: Client):
    report, secret = guest_report(world)
    url = open_private(client, report, secret)
    assert 'value="refer"' not in client.get(url).content.decode()
    report.clocks.filter(clock="overall").update(due_at=timezone.now() - timedelta(minutes=1))
    assert 'value="refer"' in client.get(url).content.decode()
    client.post(url, {"action": "refer"})
    report.refresh_from_db()
    assert report.owner == world.ombudsman


@pytest.mark.django_db
def test_the_answer_comes_before_the_block_that_asks_about_it(world: World, client: Client):
    report, secret = guest_report(world)
    completed(world, report)
    html = client.get(private_url(report, secret), follow=True).content.decode()
    answer = html.index("Lubang sudah ditambal.")
    assert answer < html.index('id="actions-heading"') < html.index("Is the problem solved?")
    # The answer is quoted again right above the question, with who gave it.
    actions = html[html.index('id="actions-heading"') :]
    assert "The institution's answer" in actions
    assert actions.index("Lubang sudah ditambal.") < actions.index('value="confirm"')


@pytest.mark.django_db
def test_each_file_says_who_added_it_without_naming_staff(world: World, client: Client):
    report, secret = guest_report(world, files=[photo_upload("dari-saya.jpg")])
    report = completed(world, report)
    report_attach(
        user=world.officer, report=report, files=[photo_upload("hasil-perbaikan.jpg")], visibility=Visibility.REPORTER
    )
    html = client.get(private_url(report, secret), follow=True).content.decode()
    files = html[html.index("<h3>Files</h3>") : html.index("</ul>", html.index("<h3>Files</h3>"))]
    mine, theirs = files.split("hasil-perbaikan.jpg")
    assert "dari-saya.jpg" in mine
    assert "added by you" in mine
    assert f"added by {world.transport.name}" in theirs
    assert world.officer.full_name not in html


@pytest.mark.django_db
def test_the_rating_is_published_without_the_reporters_comment_or_identity(world: World, client: Client):
    report, secret = guest_report(world, is_anonymous=True)
    report = completed(world, report)
    _report, proof = reporter_proof_by_link(report.tracking_id, secret)
    report_confirm(user=None, report=report, proof=proof)
    report_rate(user=None, report=report, rating=4, comment="Terima kasih, Sari di sini", proof=proof)
    html = client.get(reverse("portal:report", args=[report.tracking_id])).content.decode()
    assert "The reporter's rating" in html
    assert "★★★★☆" in html
    assert "4 of 5" in html
    assert "Terima kasih" not in html
    assert "Sari" not in html


# --- the private link's secret stays out of URLs; guessing is rate-limited -------------------------------


@pytest.mark.django_db
def test_the_private_link_lands_on_a_page_whose_url_has_no_secret(world: World, client: Client):
    report, secret = guest_report(world)
    link = client.get(private_url(report, secret) + "?baru=1")
    assert link.status_code == 303
    assert link["Location"] == reverse("portal:track_reporter", args=[report.tracking_id]) + "?baru=1"
    assert secret not in link["Location"]
    page = client.get(link["Location"])
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "no-referrer"
    html = page.content.decode()
    # The page's own form and links carry no secret; only the link shown for the reporter to keep does.
    assert html.count(secret) == 2  # the private link as the <a>'s address and its text
    # Another browser (no session that opened the link) is sent to the tracking-ID page, which tells
    # whoever filed the report to open their link or sign in; nothing of the report is shown.
    elsewhere = Client().get(link["Location"], follow=True)
    assert elsewhere.redirect_chain == [(reverse("portal:track_report", args=[report.tracking_id]), 302)]
    assert elsewhere.status_code == 200
    assert "Lubang besar" not in elsewhere.content.decode()


@pytest.mark.django_db
def test_an_old_page_posting_to_the_private_link_still_acts(world: World, client: Client):
    report, secret = guest_report(world)
    completed(world, report)
    response = client.post(private_url(report, secret), {"action": "confirm"})
    assert response["Location"] == reverse("portal:track_reporter", args=[report.tracking_id])
    report.refresh_from_db()
    assert report.status == Status.CLOSED


@pytest.mark.django_db
def test_attachments_of_the_private_page_open_without_a_secret_in_their_url(
    world: World, client: Client, settings, tmp_path
):
    from lapor.reports.choices import Visibility
    from tests.images import photo_upload

    settings.MEDIA_ROOT = tmp_path
    report, secret = guest_report(world, files=[photo_upload("lubang.jpg")])
    [attachment] = report.attachments.all()
    url = reverse("portal:track_reporter_attachment", args=[report.tracking_id, attachment.pk])
    assert Client().get(url).status_code == 404
    page = client.get(open_private(client, report, secret)).content.decode()
    assert url in page
    assert client.get(url).status_code == 200
    assert attachment.visibility in (Visibility.REPORTER, Visibility.PUBLIC)


@pytest.mark.django_db
def test_guessing_tracking_ids_from_one_address_is_stopped_while_others_go_on(world: World, settings):
    settings.RATE_LIMITS = {"track": {"ip": ("5/10m",)}}
    report = world.submit()
    guesser = Client(REMOTE_ADDR="203.0.113.7")
    wrong = ["ABCDEFGHJ", "KMNPQRSTW", "XYZ234567", "2345678AB", "CDEFGHJKM"]
    for guess in wrong:
        assert guesser.get(reverse("portal:track_report", args=[guess])).status_code == 404
    over = guesser.get(reverse("portal:track_report", args=["NPQRSTWXY"]))
    assert over.status_code == 429
    assert int(over["Retry-After"]) > 0
    # Over the limit, a real ID answers the same: nothing is learnt about which IDs exist.
    assert guesser.get(reverse("portal:track_report", args=[report.tracking_id])).status_code == 429
    # Guessing secrets counts too.
    assert guesser.get(reverse("portal:track_private", args=[report.tracking_id, "guess"])).status_code == 429
    # Another address is not held back.
    other = Client(REMOTE_ADDR="198.51.100.20")
    other.force_login(world.reporter)
    assert other.get(reverse("portal:track_report", args=[report.tracking_id])).status_code == 200


# --- the browser keeps the private links in an encrypted cookie, not in a database session ---------------


@pytest.mark.django_db
def test_the_private_link_is_kept_in_an_encrypted_cookie_and_no_session_row(world: World, client: Client):
    from django.contrib.sessions.models import Session

    from lapor.portal import links

    report, secret = guest_report(world)
    page = client.get(open_private(client, report, secret))
    assert page.status_code == 200
    cookie = client.cookies[links.COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    # Neither the secret nor the tracking ID can be read from the cookie.
    assert secret not in cookie.value
    assert report.tracking_id not in cookie.value
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_a_forged_or_foreign_links_cookie_opens_nothing(world: World, client: Client):
    from lapor.core.crypto import encrypt_text
    from lapor.portal import links

    report, secret = guest_report(world)
    page = reverse("portal:track_reporter", args=[report.tracking_id])
    for forged in ("garbage", encrypt_text("[1]"), encrypt_text(json.dumps({report.tracking_id: 7}))):
        client.cookies[links.COOKIE] = forged
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:track_report", args=[report.tracking_id])
    # A wrong secret is refused as an unknown report, as a wrong private link is.
    client.cookies[links.COOKIE] = encrypt_text(json.dumps({report.tracking_id: "not-the-secret"}))
    assert client.get(page).status_code == 404
    # A cookie older than a session's lifetime is forgotten as well.
    client.cookies[links.COOKIE] = encrypt_text(json.dumps({report.tracking_id: secret}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(django_settings, "SESSION_COOKIE_AGE", -1)
        assert client.get(page).status_code == 302
    assert client.get(page).status_code == 200


@pytest.mark.django_db
def test_links_kept_by_an_earlier_versions_session_still_open_the_page(world: World, client: Client):
    from lapor.portal import links

    report, secret = guest_report(world)
    session = client.session
    session[links.SESSION_KEY] = {report.tracking_id: secret}
    session.save()
    assert client.get(reverse("portal:track_reporter", args=[report.tracking_id])).status_code == 200


@pytest.mark.django_db
def test_signing_out_forgets_the_private_links(world: World, client: Client):
    from lapor.portal import links

    report, secret = guest_report(world)
    client.force_login(world.member_of_public)
    page = open_private(client, report, secret)
    assert client.get(page).status_code == 200
    client.post(reverse("portal:logout"))
    assert client.cookies[links.COOKIE].value == ""
    assert client.get(page).status_code == 302
