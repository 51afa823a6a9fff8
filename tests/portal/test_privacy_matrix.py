"""Every portal page, for every kind of visitor: an anonymous reporter's identity and a confidential
report never appear.

Sentinels are planted in an anonymous published report (the reporter's name, e-mail and phone, also
typed into the text) and in a confidential published report (a word in its title and body). Each GET
page of the portal is fetched by each visitor, with every filter and search that could reach them,
and its text is scanned. A new portal page fails `test_every_portal_page_is_covered` until it is
added here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from lapor.portal import urls as portal_urls
from lapor.reports.choices import ReportWeight
from lapor.reports.models import Report
from lapor.reports.services import report_dispatch, report_follow_up, report_forward, report_submit
from tests.reports.conftest import VILLAGE, World

SENTINEL_NAME = "Wibisono Sentinelius"
SENTINEL_EMAIL = "wibisono.sentinelius@example.id"
SENTINEL_PHONE = "081299887766"
SECRET_WORD = "Kerahasiaanzeta"  # searched for (a search page repeats the words it was asked for)
UNSEEN_WORD = "Omegasentinel"  # next to it in the confidential report, never typed in a search
IDENTITY = (SENTINEL_NAME, SENTINEL_EMAIL, SENTINEL_PHONE, "Sentinelius")
VIEWERS = ("anonymous", "reporter", "member_of_public", "outsider", "officer", "national_admin")
# Pages that take only POST (their GET answers 405) or serve files; the files are covered by the
# attachment tests of their areas.
NOT_PAGES = {
    "report_support",
    "report_comment",
    "report_comment_hide",
    "logout",
    "track_own_attachment",
    "track_private_attachment",
    "track_reporter_attachment",
    "report_attachment",
    "favicon",
}


def _published(world: World, report: Report) -> Report:
    report = report_dispatch(
        user=world.national_admin, report=report, institution=world.city, weight=ReportWeight.LIGHT
    ).report
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report
    return report_follow_up(user=world.officer, report=report, message="Sedang kami tangani.").report


@pytest.fixture
def planted(world: World) -> dict[str, Any]:
    filed = report_submit(
        title="Pungutan liar di kantor kelurahan",
        body=f"Saya {SENTINEL_NAME}, hubungi {SENTINEL_PHONE} atau {SENTINEL_EMAIL}. Petugas minta uang.",
        incident_date=Report._meta.get_field("incident_date").to_python("2026-11-20"),
        guest_name=SENTINEL_NAME,
        guest_email=SENTINEL_EMAIL,
        guest_phone=SENTINEL_PHONE,
        village_code=VILLAGE,
        is_anonymous=True,
    )
    anonymous, anonymous_secret = filed.report, filed.secret
    filed = report_submit(
        title=f"Laporan {SECRET_WORD} {UNSEEN_WORD} tentang pelayanan",
        body=f"Isi {SECRET_WORD} {UNSEEN_WORD} yang tidak boleh terbit.",
        incident_date=Report._meta.get_field("incident_date").to_python("2026-11-20"),
        reporter=world.reporter,
        village_code=VILLAGE,
        is_confidential=True,
    )
    confidential, _secret = filed.report, filed.secret
    return {
        "anonymous": _published(world, anonymous),
        "anonymous_secret": anonymous_secret,
        "confidential": _published(world, confidential),
    }


def _pages(world: World, planted: dict[str, Any]) -> dict[str, list[str]]:
    anonymous, confidential = planted["anonymous"], planted["confidential"]
    # Searches for what only the planted reports contain; never for the sentinels checked below.
    searches = [f"?q={word}" for word in (SECRET_WORD, "Wibisono", "Pungutan", SENTINEL_PHONE[-8:])]
    region_and_institution = ["?wilayah=36", f"?wilayah={VILLAGE}", "?instansi=kota-tangsel"]
    urls: dict[str, Callable[[], list[str]]] = {
        "home": lambda: [reverse("portal:home")],
        "file": lambda: [reverse("portal:file")],
        "region_options": lambda: [reverse("portal:region_options") + "?induk=36.74.01"],
        "institution_options": lambda: [reverse("portal:institution_options") + "?q=tangerang"],
        "track": lambda: [reverse("portal:track") + f"?id={anonymous.tracking_id}"],
        "track_report": lambda: [
            reverse("portal:track_report", args=[report.tracking_id]) for report in (anonymous, confidential)
        ],
        "track_private": lambda: [
            reverse("portal:track_private", args=[anonymous.tracking_id, planted["anonymous_secret"]])
        ],
        # After the private link (above) in the same session: the reporter's page it redirects to.
        "track_reporter": lambda: [reverse("portal:track_reporter", args=[anonymous.tracking_id])],
        "feed": lambda: [
            reverse("portal:feed") + suffix for suffix in ["", *searches, *region_and_institution, "?urut=dukungan"]
        ],
        "feed_map": lambda: [reverse("portal:feed_map"), *(reverse("portal:feed_map") + s for s in searches)],
        "feed_rss": lambda: [reverse("portal:feed_rss") + suffix for suffix in region_and_institution],
        "feed_atom": lambda: [reverse("portal:feed_atom") + suffix for suffix in region_and_institution],
        "report": lambda: [reverse("portal:report", args=[report.tracking_id]) for report in (anonymous, confidential)],
        "login": lambda: [reverse("portal:login")],
        "register": lambda: [reverse("portal:register")],
        "verify": lambda: [reverse("portal:verify")],
        "password_reset": lambda: [reverse("portal:password_reset")],
        "my_reports": lambda: [reverse("portal:my_reports")],
        "preferences": lambda: [reverse("portal:preferences")],
        "claim": lambda: [reverse("portal:claim")],
        "invitations": lambda: [reverse("portal:invitations")],
    }
    return {name: build() for name, build in urls.items()}


def test_every_portal_page_is_covered():
    names = {pattern.name for pattern in portal_urls.urlpatterns if isinstance(pattern, URLPattern)}
    covered = {
        "home", "file", "region_options", "institution_options", "track", "track_report", "track_private",
        "track_reporter", "feed", "feed_map", "feed_rss", "feed_atom", "report", "login", "register", "verify",
        "password_reset", "my_reports", "preferences", "claim", "invitations",
    }  # fmt: skip
    assert names - NOT_PAGES == covered


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.django_db
def test_no_page_shows_an_anonymous_reporter_or_a_confidential_report(world: World, planted, viewer: str):
    client = Client()
    if viewer != "anonymous":
        client.force_login(getattr(world, viewer))
    seen: list[str] = []
    for name, urls in _pages(world, planted).items():
        for url in urls:
            response = client.get(url)
            assert response.status_code < 500, (name, url, response.status_code)
            text = response.content.decode(errors="replace")
            if name not in ("track_private", "track_reporter"):
                # The private link is the reporter's own page (it shows their own words to them).
                for sentinel in IDENTITY:
                    assert sentinel not in text, (viewer, url, sentinel)
            if name not in ("track_private", "track_reporter", "track_report", "my_reports") or viewer != "reporter":
                # The confidential report's own reporter may read it on their own pages; nobody else
                # sees it anywhere in the portal, and on the public pages not even they do.
                assert UNSEEN_WORD not in text, (viewer, url)
            seen.append(url)
    assert len(seen) > 30
