"""Journeys through the portal in a real browser, in Indonesian (the default language):

- a guest files a report with a photo, receives the tracking ID and the private link, follows the report
  while staff move it along (through the services), then confirms the follow-up and rates it;
- a form with errors keeps what was typed and says what is wrong next to each field, in Indonesian;
- an anonymous reporter's name, e-mail and phone appear on no portal page, for anyone;
- a confidential report appears on no list of the portal (home, feed, search, map, RSS/Atom: every
  route without arguments is scanned, so the feed's pages are covered as they land) nor on its public
  pages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import BrowserContext, FilePayload, Locator, Page, Response, expect

from lapor.accounts.models import User
from lapor.accounts.services import user_create
from lapor.core.ids import format_tracking_id
from lapor.reports.choices import Status, Visibility
from lapor.reports.models import Report
from lapor.reports.services import (
    report_attach,
    report_comment,
    report_dispatch,
    report_follow_up,
    report_forward,
)
from tests.browser.conftest import (
    Browsing,
    log_in,
    portal_routes,
    portal_url,
    published_report,
    route_arguments,
)
from tests.images import photo_upload, small_jpeg
from tests.reports.conftest import VILLAGE, World

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("indonesian_default")]

REGION_PATH = ("36", "36.74", "36.74.01", VILLAGE)
# Query strings that list pages may take (search, and the feeds' region and institution filters).
LIST_QUERIES = ("", "?q=Ciater", "?wilayah=36.74", "?instansi=kota-tangsel")


def choose_region(page: Page) -> None:
    """Province → regency → district → village: each list fills once the one above is chosen."""
    for level, code in zip(("province", "regency", "district", "village"), REGION_PATH, strict=True):
        options = page.locator(f"select[name={level}] option[value='{code}']")
        options.wait_for(state="attached")
        page.locator(f"select[name={level}]").select_option(code)


def fill_details(page: Page, *, title: str, body: str, incident: str) -> None:
    page.locator("[name=title]").fill(title)
    page.locator("[name=body]").fill(body)
    page.locator("[name=incident_date]").fill(incident)
    choose_region(page)


def action_form(page: Page, action: str) -> Locator:
    return page.locator(f"form:has(input[name=action][value={action}])")


def send(page: Page, button: Locator, *, refused: bool = False) -> None:
    """Click a form's submit button and wait for the page it leads to: an answer to the form (a page
    with the form's errors when `refused`), never an error of the server or of CSRF."""
    with page.expect_navigation() as navigation:
        button.click()
    response = navigation.value
    assert response is not None
    answered = f"{response.request.method} answered {response.status}: {page.inner_text('body')[:500]}"
    assert response.status in ({200, 400} if refused else {200}), answered


def test_a_guest_files_a_report_with_a_photo_follows_it_confirms_and_rates(
    page: Page, browsing: Browsing, world: World
) -> None:
    page.goto(reverse("portal:file"))
    incident = (timezone.localdate() - timedelta(days=3)).isoformat()
    fill_details(
        page, title="Trotoar rusak di depan SDN Ciater 1", body="Lubang besar, anak-anak jatuh.", incident=incident
    )
    send(page, page.locator("#filing-form button.button-primary"))

    page.locator("[name=guest_name]").fill("Gita Tamu")
    page.locator("[name=guest_email]").fill("gita.tamu@example.id")
    upload: FilePayload = {"name": "trotoar.jpg", "mimeType": "image/jpeg", "buffer": small_jpeg()}
    page.locator("[name=attachments]").set_input_files(files=[upload])
    send(page, page.locator("#send-form button.button-primary"))

    # The reporter's page, at an address without the private link's secret (history, Referer, logs).
    assert re.search(r"/lacak/[^/]+/pelapor/\?baru=1$", page.url), page.url
    report = Report.objects.get()
    assert report.reporter is None
    assert report.title == "Trotoar rusak di depan SDN Ciater 1"
    assert report.village_id == VILLAGE
    [photo] = report.attachments.all()
    assert photo.content_type == "image/jpeg"
    expect(page.locator(".notice .tracking-id")).to_have_text(format_tracking_id(report.tracking_id))
    # The link to keep is shown on the page (and sent to the guest); it opens the page in a new browser.
    private_link = page.locator(".private-link a").get_attribute("href") or ""
    assert re.search(r"/lacak/[^/]+/k/[^/]+/$", private_link), private_link

    # Later, from the link the guest kept: the report moves along.
    page = browsing.page()
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report
    page.goto(private_link)
    expect(page.locator("main h1")).to_have_text("Trotoar rusak di depan SDN Ciater 1")
    expect(page.locator("main")).to_contain_text(world.city.name)
    expect(page.locator("main")).to_contain_text("trotoar.jpg")
    assert action_form(page, "confirm").count() == 0

    report_follow_up(user=world.officer, report=report, message="Trotoar sudah ditambal pada hari Senin.", final=True)
    page.reload()
    expect(page.locator(".timeline")).to_contain_text("Trotoar sudah ditambal pada hari Senin.")
    send(page, action_form(page, "confirm").locator("button[type=submit]"))
    rate = action_form(page, "rate")
    rate.locator("input[name=rating][value='5']").check()
    rate.locator("[name=comment]").fill("Cepat dan rapi, terima kasih.")
    send(page, rate.locator("button[type=submit]"))

    report.refresh_from_db()
    assert report.status == Status.CLOSED
    assert report.rating == 5
    assert report.rating_comment == "Cepat dan rapi, terima kasih."
    expect(page.locator("main")).to_contain_text("5/5")


def test_a_guest_follows_a_new_report_by_its_id_and_by_the_link_in_their_sms(
    page: Page, browsing: Browsing, world: World, settings: Any, tmp_path: Path
) -> None:
    # As `make run` leaves it when SITE_URL is unset; the SMS goes where the file backend writes it.
    settings.SITE_URL = ""
    settings.SMS_BACKEND = "file"
    settings.DATA_DIR = tmp_path
    page.goto(reverse("portal:file"))
    incident = (timezone.localdate() - timedelta(days=2)).isoformat()
    fill_details(page, title="Saluran air tersumbat di Ciater", body="Air meluap ke jalan.", incident=incident)
    send(page, page.locator("#filing-form button.button-primary"))
    # The review shows what the guest wrote, not only its title.
    expect(page.locator("#summary-heading + dl")).to_contain_text("Air meluap ke jalan.")
    page.locator("[name=guest_phone]").fill("0812-3456-7890")
    send(page, page.locator("#send-form button.button-primary"))
    report = Report.objects.get()
    tracking_id = format_tracking_id(report.tracking_id)
    expect(page.locator(".notice .tracking-id")).to_have_text(tracking_id)

    # Another day, without the link: the tracking box says it arrived and how to reach it, nothing more.
    page = browsing.page()
    page.goto(reverse("portal:track"))
    expect(page.locator("main")).to_contain_text("4P2-6Q5-XRK")  # the hint shows the real format
    page.locator("[name=id]").fill(tracking_id)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    with translation.override("id"):
        received = gettext("Report %(tracking_id)s has been received") % {"tracking_id": tracking_id}
        not_public = gettext(
            "It is not public (yet): a report is published once it has been verified, and confidential reports "
            "are never published. This page says the same to anyone who types this tracking ID and shows nothing "
            "of the report."
        )
    expect(page.locator("main h1")).to_have_text(received)
    expect(page.locator("main")).to_contain_text(not_public)
    expect(page.locator("main")).to_contain_text("SMS")
    expect(page.locator("main")).not_to_contain_text("Saluran air")

    # The SMS the guest got carries the private link; it opens their own page.
    outbox = (tmp_path / "sms" / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    [sms] = [json.loads(line) for line in outbox]
    assert sms["to"] == "+6281234567890"
    assert tracking_id in sms["message"]
    found = re.search(r"https?://\S+/lacak/\S+/k/\S+/", sms["message"])
    assert found is not None, sms["message"]
    assert found.group(0).startswith(browsing.origin), found.group(0)
    page.goto(found.group(0))
    expect(page.locator("main h1")).to_have_text("Saluran air tersumbat di Ciater")
    expect(page.locator("main")).to_contain_text("Air meluap ke jalan.")


def test_the_language_switch_goes_to_english_and_back(page: Page) -> None:
    page.goto(reverse("portal:track"))
    expect(page.locator("html")).to_have_attribute("lang", "id")
    for language, path, lang in (("en", "/en/lacak/", "en"), ("id", "/lacak/", "id")):
        page.locator("#language-select").select_option(language)
        with page.expect_navigation():
            page.locator("form.language button[type=submit]").click()
        assert page.url == browsing_url(page, path), page.url
        expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("main h1")).to_have_text("Lacak laporan")


def browsing_url(page: Page, path: str) -> str:
    origin = re.match(r"https?://[^/]+", page.url)
    assert origin is not None
    return origin.group(0) + path


def _error_of(page: Page, name: str) -> str:
    """The text of the error that the field `name` points at with aria-describedby (and is marked
    invalid): the message is next to the field for everyone, screen readers included."""
    field = page.locator(f"[name={name}]").first
    assert field.get_attribute("aria-invalid") == "true", f"{name} is not marked aria-invalid"
    described = (field.get_attribute("aria-describedby") or "").split()
    errors = [page.locator(f"[id='{ident}']") for ident in described]
    texts = [error.inner_text() for error in errors if "field-error" in (error.get_attribute("class") or "")]
    assert texts, f"{name} points at no error message (aria-describedby={described})"
    return " ".join(texts)


def test_a_form_with_errors_keeps_what_was_typed_and_says_what_is_wrong_in_indonesian(page: Page, world: World) -> None:
    with translation.override("id"):
        required = gettext("This field is required.")
        in_future = gettext("The incident cannot be in the future.")
        invalid_email = gettext("Enter a valid email address.")
    assert required != "This field is required."  # Django's own Indonesian catalogue

    page.goto(reverse("portal:file"))
    page.locator("input[name=kind][value=aspirasi]").check()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    fill_details(page, title="", body="Mohon taman kota diberi lampu.", incident=tomorrow)
    page.locator("[name=address]").fill("Taman Kota Ciater")
    send(page, page.locator("#filing-form button.button-primary"), refused=True)
    assert _error_of(page, "title") == required
    assert _error_of(page, "incident_date") == in_future
    expect(page.locator("[name=body]")).to_have_value("Mohon taman kota diberi lampu.")
    expect(page.locator("[name=incident_date]")).to_have_value(tomorrow)
    expect(page.locator("[name=address]")).to_have_value("Taman Kota Ciater")
    expect(page.locator("input[name=kind][value=aspirasi]")).to_be_checked()
    for level, code in zip(("province", "regency", "district", "village"), REGION_PATH, strict=True):
        expect(page.locator(f"select[name={level}]")).to_have_value(code)

    # Corrected, the first step goes through; the second keeps the guest's answers on an error too.
    page.locator("[name=title]").fill("Taman kota gelap")
    page.locator("[name=incident_date]").fill(timezone.localdate().isoformat())
    send(page, page.locator("#filing-form button.button-primary"))
    page.locator("[name=guest_name]").fill("Gita Tamu")
    page.locator("[name=guest_email]").fill("bukan-alamat-email")
    send(page, page.locator("#send-form button.button-primary"), refused=True)
    assert _error_of(page, "guest_email") == invalid_email
    expect(page.locator("[name=guest_name]")).to_have_value("Gita Tamu")
    expect(page.locator("[name=guest_email]")).to_have_value("bukan-alamat-email")
    assert Report.objects.count() == 0


def _contexts(browsing: Browsing, viewers: list[User | None]) -> Iterator[tuple[str, BrowserContext]]:
    for viewer in viewers:
        context = browsing.context()
        if viewer is not None:
            log_in(context, viewer, origin=browsing.origin)
        yield (viewer.full_name if viewer else "a guest"), context


TEXTUAL = ("text/", "application/json", "application/xml", "application/rss+xml", "application/atom+xml")


def portal_texts(
    context: BrowserContext, arguments: dict[str, object], *, origin: str, private: bool = True
) -> dict[str, str]:
    """What every portal route that answers GET sends, by URL, as text: routes taking arguments with
    `arguments` (without the ones taking the reporter's private link unless `private`), the others
    with each of the list queries too. Files (photos) are left out. Each page is also opened in the
    browser, and what its scripts fetched and the document they left are read as well. A server
    error fails the test: a page that breaks shows nothing, so it proves nothing."""
    texts: dict[str, str] = {}
    page = context.new_page()

    def keep(response: Response) -> None:
        redirect = 300 <= response.status < 400
        if response.url.startswith(f"{origin}/") and not redirect and _textual(response.headers):
            texts[f"{response.url} (fetched by a script)"] = response.text()

    for name, route in portal_routes().items():
        parameters = set(route.pattern.regex.groupindex)
        if "secret" in parameters and not private:
            continue
        for query in LIST_QUERIES if not parameters else ("",):
            url = portal_url(name, "id", arguments) + query
            response = context.request.get(url)
            assert response.status < 500, f"portal:{name} ({url}) answers {response.status}"
            if not _textual(response.headers):
                continue
            texts[url] = response.text()
            if query == "" and "<html" in texts[url].lower():
                page.on("response", keep)
                page.goto(url)
                page.remove_listener("response", keep)
                texts[f"{url} (in the browser)"] = page.content()
    page.close()
    return texts


def _textual(headers: dict[str, str]) -> bool:
    return headers.get("content-type", "").startswith(TEXTUAL)


def anonymous_reports(world: World) -> list[tuple[Report, str, list[str]]]:
    """Two anonymous published reports, each with what would name its reporter: one by a registered
    reporter who also commented on it, one by a guest."""
    sekar = user_create(full_name="Sekar Rahasiawati", email="sekar.rahasiawati@example.id", password=None)
    registered, registered_secret = published_report(
        world, reporter=sekar, is_anonymous=True, title="Jalan berlubang di Ciater", body="Lubangnya dalam."
    )
    report_attach(user=sekar, report=registered, files=[photo_upload("jalan.jpg")], visibility=Visibility.PUBLIC)
    report_comment(user=sekar, report=registered, message="Hari ini lubangnya makin besar.")
    guest, guest_secret = published_report(
        world,
        reporter=None,
        guest_name="Bagus Samaranto",
        guest_email="bagus.samaranto@example.id",
        guest_phone="081298765432",
        is_anonymous=True,
        title="Sampah menumpuk di pasar Ciater",
        body="Sudah seminggu tidak diangkut.",
    )
    return [
        (registered, registered_secret, ["Sekar Rahasiawati", "sekar.rahasiawati@example.id"]),
        (guest, guest_secret, ["Bagus Samaranto", "bagus.samaranto@example.id", "081298765432", "98765432"]),
    ]


def test_an_anonymous_reporter_is_named_on_no_portal_page(browsing: Browsing, world: World) -> None:
    # The public, and the staff of the institution that handles the reports.
    viewers: list[User | None] = [None, world.officer]
    leaks: list[str] = []
    for report, secret, identity in anonymous_reports(world):
        arguments = route_arguments(report, secret=secret, user=world.reporter, attachment=report.attachments.first())
        for viewer, context in _contexts(browsing, viewers):
            texts = portal_texts(context, arguments, origin=browsing.origin)
            assert any(report.title in text for text in texts.values()), f"no page showed {report} to {viewer}"
            leaks += [
                f"{url} shows {secret_word!r} to {viewer}"
                for url, text in texts.items()
                for secret_word in identity
                if secret_word.casefold() in text.casefold()
            ]
    assert not leaks, "\n".join(leaks)


def test_a_confidential_report_is_on_no_public_list_or_page(browsing: Browsing, world: World) -> None:
    confidential, secret = published_report(
        world, is_confidential=True, title="Pungutan liar di kantor kelurahan", body="Diminta uang untuk KTP."
    )
    published_report(world, title="Lampu jalan mati di Ciater", body="Gelap sekali.")
    arguments = route_arguments(confidential, secret=secret, user=world.reporter)
    traces = ["Pungutan liar", confidential.tracking_id, format_tracking_id(confidential.tracking_id)]
    seen: list[str] = []
    for viewer, context in _contexts(browsing, [None, world.member_of_public]):
        texts = portal_texts(context, arguments, origin=browsing.origin, private=False)
        for url, text in texts.items():
            # A page about the tracking ID in its URL may repeat it (not found, not public): not a leak.
            shown = traces[:1] if confidential.tracking_id in url else traces
            seen += [f"{url} shows {trace!r} to {viewer}" for trace in shown if trace in text]
        feed = reverse("portal:feed")
        assert "Lampu jalan mati di Ciater" in texts[feed], f"the feed lists no published report to {viewer}"
    assert not seen, "\n".join(seen)
