"""The home page: what Lapor is, the tracking-ID box, the way to file a report, the newest public
reports and the headline statistics (published reports only, as the task workers' sweep last counted them)."""

from __future__ import annotations

import functools

from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lapor.portal.views.feed import report_cards
from lapor.reports.selectors import FeedFilters, FeedSort, public_feed, stored_headline_stats
from lapor.reports.serializers import public_report_summary

LATEST_REPORTS = 5
FAVICON = "portal/favicon.ico"
FAVICON_CACHE_SECONDS = 7 * 24 * 3600


def home(request: HttpRequest) -> HttpResponse:
    page = public_feed(request.user, FeedFilters(), FeedSort.NEWEST, page_size=LATEST_REPORTS)
    latest = [public_report_summary(report) for report in page.reports]
    return render(
        request,
        "portal/home.html",
        {
            "latest": latest,
            "cards": report_cards(latest),
            "stats": stored_headline_stats(),
        },
    )


@functools.cache
def _favicon() -> bytes | None:
    found = finders.find(FAVICON)
    if not isinstance(found, str):
        return None
    with open(found, "rb") as file:
        return file.read()


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, where browsers and feed readers look for a site's icon whatever the page says."""
    content = _favicon()
    if content is None:
        raise Http404
    response = HttpResponse(content, content_type="image/x-icon")
    response["Cache-Control"] = f"public, max-age={FAVICON_CACHE_SECONDS}"
    return response
