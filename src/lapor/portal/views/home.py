"""The home page: what Lapor is, the tracking-ID box, the way to file a report, the newest public
reports and the headline statistics (published reports only, kept by the process for a minute)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lapor.reports.selectors import FeedFilters, FeedSort, cached_headline_stats, public_feed
from lapor.reports.serializers import public_report_summary

LATEST_REPORTS = 5


def home(request: HttpRequest) -> HttpResponse:
    latest = public_feed(request.user, FeedFilters(), FeedSort.NEWEST, page_size=LATEST_REPORTS)
    return render(
        request,
        "portal/home.html",
        {
            "latest": [public_report_summary(report) for report in latest.reports],
            "stats": cached_headline_stats(),
        },
    )
