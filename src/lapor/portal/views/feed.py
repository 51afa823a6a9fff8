"""The public side of the portal: the feed of published reports, its map, RSS and Atom, and each
report's public page with "dukung" and comments.

Everything here shows what the public may see and nothing else, whoever looks: lists come from
`reports.selectors` (published, never confidential, whatever the viewer's role; staff read the rest
in the console) and are shown through `serializers.public_report_summary`; a report page is built
from `serializers.public_report` only. A report the public may not see answers exactly as one that
does not exist (404). Writes go through the services (`report_support`, `report_comment`,
`report_comment_hide`), each behind its rate limit.

Every page works without JavaScript: the filters are a GET form, pages follow a cursor link, and the
map page lists its reports with their coarse positions. htmx (when vendored) swaps the feed's
results in place; Leaflet draws the map.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles import finders
from django.contrib.syndication.views import Feed
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import render, resolve_url
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.feedgenerator import Atom1Feed, SyndicationFeed
from django.utils.html import escape
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from lapor.core.form_rendering import PYTHON_WIDGET_RENDERER
from lapor.core.forms import BoundedDateField
from lapor.core.ids import format_tracking_id, parse_tracking_id
from lapor.core.ratelimit import rate_limit
from lapor.institutions.models import Category, Institution
from lapor.institutions.selectors import category_tree
from lapor.portal import abuse
from lapor.portal.templatetags.portal import as_datetime
from lapor.regions.codes import is_region_code
from lapor.regions.models import Region
from lapor.regions.selectors import region_search
from lapor.reports.access import capacities
from lapor.reports.choices import Action, ReportKind, Status
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report
from lapor.reports.read_models import EventView, PublicReport, PublicReportSummary
from lapor.reports.selectors import (
    MAP_MIN_SOURCES,
    SEARCH_CANDIDATES,
    FeedFilters,
    FeedPage,
    FeedSort,
    MapPosition,
    SearchCount,
    district_code_of,
    district_map_positions,
    public_feed,
    public_report_detail,
    public_search_count,
    report_supported_by,
)
from lapor.reports.serializers import public_report, public_report_summary
from lapor.reports.services import report_comment, report_comment_hide, report_support
from lapor.reports.workflow import PUBLISHED, allowed_actions

HTMX = "portal/vendor/htmx.min.js"
LEAFLET_JS = "portal/vendor/leaflet.js"
LEAFLET_CSS = "portal/vendor/leaflet.css"
MAP_PAGE_SIZE = 100
FEED_ITEMS = 50  # per RSS or Atom document
CURSOR = "setelah"
MAX_COMMENT = 2000
# Statuses a visitor may filter on: the published ones, in the order a report goes through them.
PUBLIC_STATUSES = [status for status in Status if status in PUBLISHED]


@dataclasses.dataclass(frozen=True, slots=True)
class ReportCard:
    """A list card of a published report (portal/feed/_card.html): its public summary's parts the card
    shows, each one lookup away, with what the template would otherwise work out per card (its
    address, excerpt, place and date) worked out in Python: a feed page has twenty cards."""

    report: PublicReportSummary
    url: str
    title: str  # the masked public title
    status_label: str
    kind_label: str
    category_name: str | None  # None without a category
    excerpt: str  # the masked public body, its first CARD_WORDS words
    place: str  # "village, district, regency · institution"
    created_at: str  # ISO 8601, for <time datetime>
    filed: datetime | date | None
    supports: int
    tracking_id: str  # as people read it, in groups


CARD_WORDS = 30
_ID_MARK = "TRACKINGID"


def report_cards(reports: list[PublicReportSummary]) -> list[ReportCard]:
    """The cards of ``reports`` (public summaries only: cards show nothing else)."""
    # One reverse for the page: every report's address is the same pattern around its ID.
    before, after = reverse("portal:report", args=[_ID_MARK]).split(_ID_MARK)
    cards = []
    for report in reports:
        region = report.region
        place = ""
        if region is not None:
            place = (
                (f"{region.village}, " if region.village else "")
                + (f"{region.district}, " if region.district else "")
                + (region.regency or "")
                + " · "
            )
        cards.append(
            ReportCard(
                report=report,
                url=f"{before}{report.tracking_id}{after}",
                title=report.title,
                status_label=report.status.label,
                kind_label=report.kind_label,
                category_name=report.category.name if report.category else None,
                excerpt=Truncator(report.body).words(CARD_WORDS, truncate=" …"),
                place=place + report.institution.name,
                created_at=report.dates.created_at,
                filed=as_datetime(report.dates.created_at),
                supports=report.supports,
                tracking_id=format_tracking_id(report.tracking_id),
            )
        )
    return cards


def vendored(static_path: str) -> bool:
    """Whether a front-end file was copied into the static folder (`make assets`): pages load it only then."""
    return finders.find(static_path) is not None


def _login_url() -> str:
    try:
        return reverse("portal:login")
    except NoReverseMatch:
        return resolve_url(settings.LOGIN_URL)


# --- filters ----------------------------------------------------------------------------------------


class FeedFilterForm(forms.Form):
    """The feed's filters, as GET parameters with Indonesian names (they appear in shared links)."""

    # The selects' markup written in Python: the category list costs two templates per option.
    default_renderer = PYTHON_WIDGET_RENDERER

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Words from the title or text of a report, e.g. lampu jalan."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    wilayah = forms.CharField(
        label=_("Region"),
        required=False,
        max_length=100,
        help_text=_("A province, regency or city, district or village: its name or its code (e.g. 36.74)."),
    )
    instansi = forms.CharField(
        label=_("Institution"),
        required=False,
        max_length=200,
        help_text=_("The institution handling the report, with its units: its name or its code."),
    )
    kategori = forms.ChoiceField(
        label=_("Category"),
        required=False,
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
    )
    jenis = forms.ChoiceField(
        label=_("Kind"),
        required=False,
    )
    dari = BoundedDateField(label=_("Filed from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sampai = BoundedDateField(label=_("Filed until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    urut = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[
            ("", _("Best match with search words, newest first without")),
            (FeedSort.NEWEST.value, _("Newest first")),
            (FeedSort.MOST_SUPPORTED.value, _("Most supported")),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.categories = {category.code: category for category in category_tree()}
        any_choice = ("", _("All"))
        self._choices(
            "kategori",
            [
                any_choice,
                *[
                    (category.code, "\u2003" * (category.depth - 1) + category.localized_name)
                    for category in self.categories.values()
                ],
            ],
        )
        self._choices("status", [any_choice, *[(status.value, status.label) for status in PUBLIC_STATUSES]])
        self._choices("jenis", [any_choice, *ReportKind.choices])

    def _choices(self, name: str, choices: list[tuple[str, Any]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean_wilayah(self) -> Region | None:
        value = self.cleaned_data["wilayah"].strip()
        if not value:
            return None
        if is_region_code(value):
            region = Region.objects.filter(code=value).first()
        else:
            found = region_search(value, limit=1)
            region = found[0] if found else None
        if region is None:
            raise forms.ValidationError(_("No region with this name or code."))
        return region

    def clean_instansi(self) -> Institution | None:
        value = self.cleaned_data["instansi"].strip()
        if not value:
            return None
        institution = (
            Institution.objects.filter(Q(code=value) | Q(short_name__iexact=value) | Q(name__iexact=value))
            .order_by("depth", "name")
            .first()
        )
        if institution is None:
            institution = Institution.objects.filter(name__icontains=value).order_by("depth", "name").first()
        if institution is None:
            raise forms.ValidationError(_("No institution with this name or code."))
        return institution

    def clean_kategori(self) -> Category | None:
        code = self.cleaned_data["kategori"]
        return self.categories.get(code) if code else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("dari"), cleaned.get("sampai")
        if isinstance(start, date) and isinstance(end, date) and start > end:
            self.add_error("sampai", _("The end of the period cannot be before its start."))
        return cleaned

    def filters(self) -> FeedFilters:
        """The filters of a valid form (the unfiltered feed before one is submitted)."""
        if not self.is_bound:
            return FeedFilters()
        data = self.cleaned_data
        region: Region | None = data.get("wilayah")
        return FeedFilters(
            region_code=region.code if region else "",
            institution=data.get("instansi"),
            category=data.get("kategori"),
            status=data.get("status") or "",
            kind=data.get("jenis") or "",
            date_from=data.get("dari"),
            date_to=data.get("sampai"),
            text=data.get("q") or "",
        )

    def sort(self) -> FeedSort:
        """The order chosen; without a choice, a search's best matches first (public_feed shows the
        newest first when there are no search words)."""
        value = self.cleaned_data.get("urut") if self.is_bound else ""
        return FeedSort(value) if value in {sort.value for sort in FeedSort} else FeedSort.RELEVANCE


def _filter_form(request: HttpRequest) -> FeedFilterForm:
    data = request.GET.copy()
    data.pop(CURSOR, None)
    return FeedFilterForm(data if any(value for value in data.values()) else None)


def _page(request: HttpRequest, form: FeedFilterForm, *, page_size: int) -> FeedPage | None:
    """The page the request asks for; None when the filters have errors (shown next to them)."""
    if form.is_bound and not form.is_valid():
        return None
    return public_feed(request.user, form.filters(), form.sort(), request.GET.get(CURSOR, ""), page_size=page_size)


def _result_count(request: HttpRequest, form: FeedFilterForm, page: FeedPage | None) -> SearchCount | None:
    """How many reports a search finds, shown with its first page ("about N" beyond COUNT_CAP)."""
    if page is None or CURSOR in request.GET:
        return None
    return public_search_count(request.user, form.filters())


def _next_url(request: HttpRequest, page: FeedPage | None) -> str:
    if page is None or page.next_cursor is None:
        return ""
    query: QueryDict = request.GET.copy()
    query[CURSOR] = page.next_cursor
    return f"{request.path}?{query.urlencode()}"


def _first_url(request: HttpRequest) -> str:
    query: QueryDict = request.GET.copy()
    query.pop(CURSOR, None)
    return f"{request.path}?{query.urlencode()}" if query else request.path


def filter_query(form: FeedFilterForm) -> str:
    """The valid filters of ``form`` as a query string, with regions and institutions by code (for the
    RSS and Atom links, which must carry exactly the filters the page shows)."""
    if not (form.is_bound and form.is_valid()):
        return ""
    data = form.cleaned_data
    region, institution, category = data.get("wilayah"), data.get("instansi"), data.get("kategori")
    values = {
        "q": data.get("q") or "",
        "wilayah": region.code if region else "",
        "instansi": institution.code if institution else "",
        "kategori": category.code if category else "",
        "status": data.get("status") or "",
        "jenis": data.get("jenis") or "",
        "dari": data["dari"].isoformat() if data.get("dari") else "",
        "sampai": data["sampai"].isoformat() if data.get("sampai") else "",
    }
    return urlencode({name: value for name, value in values.items() if value})


def _feed_links(form: FeedFilterForm) -> dict[str, str]:
    """RSS and Atom of the reports the page lists: the same filters (of every public report otherwise)."""
    query = filter_query(form)
    suffix = f"?{query}" if query else ""
    return {"rss": reverse("portal:feed_rss") + suffix, "atom": reverse("portal:feed_atom") + suffix}


def _scope_label(form: FeedFilterForm) -> str:
    if not (form.is_bound and form.is_valid()):
        return ""
    region, institution = form.cleaned_data.get("wilayah"), form.cleaned_data.get("instansi")
    parts = [f"{region.name} ({region.code})" if region else "", institution.name if institution else ""]
    return " · ".join(part for part in parts if part)


@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    page = _page(request, form, page_size=20)
    count = _result_count(request, form, page)
    reports = [public_report_summary(report) for report in page.reports] if page else []
    context = {
        "form": form,
        "reports": reports,
        "cards": report_cards(reports),
        "result_count": count,
        "ranked_among": SEARCH_CANDIDATES
        if count is not None and count.value > SEARCH_CANDIDATES and form.sort() == FeedSort.RELEVANCE
        else None,
        "filters_invalid": page is None,
        "next_url": _next_url(request, page),
        "first_page": CURSOR not in request.GET,
        "first_url": _first_url(request),
        "feeds": _feed_links(form),
        "scope": _scope_label(form),
        "htmx": vendored(HTMX),
    }
    if request.headers.get("HX-Request") == "true" and page is None:
        # The errors belong next to the fields, outside the results htmx swaps: load the whole page.
        response = HttpResponse()
        response["HX-Redirect"] = request.get_full_path()
    elif request.headers.get("HX-Request") == "true":
        response = render(request, "portal/feed/_results.html", context)
    else:
        response = render(request, "portal/feed/list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@dataclasses.dataclass(frozen=True, slots=True)
class MapItem:
    """A listed report, with the district the map places it in (if any)."""

    report: PublicReportSummary
    position: MapPosition | None
    district_name: str


@require_GET
def feed_map(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    page = _page(request, form, page_size=MAP_PAGE_SIZE)
    reports = page.reports if page else []
    positions = district_map_positions(
        code for code in (district_code_of(report.village_id) for report in reports) if code
    )
    items: list[MapItem] = []
    markers: dict[str, dict[str, Any]] = {}
    for report in reports:
        summary = public_report_summary(report)
        district = district_code_of(report.village_id)
        position = positions.get(district) if district else None
        item = MapItem(
            report=summary,
            position=position,
            district_name=(summary.region.district if summary.region else None) or "",
        )
        items.append(item)
        if position is None or district is None:
            continue
        marker = markers.setdefault(
            district,
            {
                "name": item.district_name,
                "lat": position.latitude,
                "lng": position.longitude,
                "reports": [],
            },
        )
        marker["reports"].append({"title": summary.title, "url": reverse("portal:report", args=[summary.tracking_id])})
    map_data = {
        "markers": list(markers.values()),
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        "attribution": str(_("Positions: the mean of the points on published reports, per district")),
    }
    return render(
        request,
        "portal/feed/map.html",
        {
            "form": form,
            "reports": items,
            "placed": sum(1 for item in items if item.position is not None),
            "filters_invalid": page is None,
            "next_url": _next_url(request, page),
            "first_page": CURSOR not in request.GET,
            "first_url": _first_url(request),
            "scope": _scope_label(form),
            "map_data": map_data,
            "min_sources": MAP_MIN_SOURCES,
            "leaflet": vendored(LEAFLET_JS) and vendored(LEAFLET_CSS),
        },
    )


# --- RSS and Atom -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FeedScope:
    region: Region | None = None
    institution: Institution | None = None
    filters: FeedFilters = dataclasses.field(default_factory=FeedFilters)
    query_string: str = ""  # the filters, canonical (regions and institutions by code)

    def query(self) -> str:
        return f"?{self.query_string}" if self.query_string else ""


class PlainTextAtom1Feed(Atom1Feed):
    """Atom whose entry summaries are text (type="text"): a reader shows a citizen's "<script>" as
    those characters instead of turning it back into markup, as it would with Django's type="html"."""

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, {**item, "description": None})
        if item["description"] is not None:
            handler.addQuickElement("summary", item["description"], {"type": "text"})


class PublicReportsRss(Feed):  # type: ignore[type-arg]
    """The newest public reports that match the feed page's filters (?q=, ?wilayah=<code>, ?instansi=<code>
    with its units, ?kategori=, ?status=, ?jenis=, ?dari=, ?sampai=), or of the whole country: masked
    public text only. Filters with errors answer 404 with the reason.

    Reports are plain text written by citizens. RSS has no way to say so: readers render an item's
    description as HTML, so the text goes out HTML-escaped (markup-free HTML that shows the text as
    written); Atom says type="text" and carries the text itself."""

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> FeedScope:
        form = _filter_form(request)
        if not form.is_bound:
            return FeedScope()
        if not form.is_valid():
            reasons = " ".join(str(message) for errors in form.errors.values() for message in errors)
            raise Http404(reasons)
        return FeedScope(
            region=form.cleaned_data.get("wilayah"),
            institution=form.cleaned_data.get("instansi"),
            filters=form.filters(),
            query_string=filter_query(form),
        )

    def title(self, obj: FeedScope) -> str:
        if obj.region is not None:
            return str(_("Lapor: public reports in %(place)s") % {"place": obj.region.name})
        if obj.institution is not None:
            return str(_("Lapor: public reports handled by %(institution)s") % {"institution": obj.institution.name})
        return str(_("Lapor: public reports"))

    def link(self, obj: FeedScope) -> str:
        return reverse("portal:feed") + obj.query()

    def description(self, obj: FeedScope) -> str:
        return str(_("The newest published reports. Personal data in them is masked."))

    def items(self, obj: FeedScope) -> list[PublicReportSummary]:
        page = public_feed(None, obj.filters, FeedSort.NEWEST, page_size=FEED_ITEMS)
        return [public_report_summary(report) for report in page.reports]

    def item_title(self, item: PublicReportSummary) -> str:
        return item.title

    def item_description(self, item: PublicReportSummary) -> str:
        return escape(self.summary_text(item))

    def summary_text(self, item: PublicReportSummary) -> str:
        return Truncator(item.body).words(80)

    def item_link(self, item: PublicReportSummary) -> str:
        return reverse("portal:report", args=[item.tracking_id])

    def item_guid(self, item: PublicReportSummary) -> str:
        return item.tracking_id

    item_guid_is_permalink = False

    def item_pubdate(self, item: PublicReportSummary) -> datetime | None:
        return parse_datetime(item.dates.created_at)

    def item_categories(self, item: PublicReportSummary) -> list[str]:
        return [item.status.label, *([item.category.name] if item.category else [])]


class PublicReportsAtom(PublicReportsRss):
    feed_type: type[SyndicationFeed] = PlainTextAtom1Feed

    def item_description(self, item: PublicReportSummary) -> str:
        return self.summary_text(item)

    def subtitle(self, obj: FeedScope) -> str:
        return self.description(obj)


# --- one report -------------------------------------------------------------------------------------


class CommentForm(forms.Form):
    message = forms.CharField(
        label=_("Your comment"),
        max_length=MAX_COMMENT,
        help_text=_(
            "Comments are public. Phone numbers, NIK and e-mail addresses are masked; staff may hide a comment "
            "that is abusive or off topic."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class HideCommentForm(forms.Form):
    reason = forms.CharField(label=_("Why hide this comment?"), max_length=500)


def _not_found(request: HttpRequest, tracking_id: str) -> HttpResponse:
    """The same page for a report that does not exist and one the public may not see."""
    return render(request, "portal/feed/not_found.html", {"tracking_id": tracking_id}, status=404)


def _canonical(tracking_id: str) -> str | None:
    return parse_tracking_id(tracking_id)


def _moderates(user: Any, report: Report) -> bool:
    """Whether ``user`` may hide this report's comments (those who may redact its public text)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Action.REDACT in allowed_actions(Status(report.status), capacities(user, report))


def _timeline(view: PublicReport) -> tuple[list[EventView], list[EventView]]:
    return (
        [event for event in view.events if event.action != Action.COMMENT],
        [event for event in view.events if event.action == Action.COMMENT],
    )


def _report_context(request: HttpRequest, report: Report, comment_form: CommentForm) -> dict[str, Any]:
    view = public_report(report)
    timeline, comments = _timeline(view)
    page = reverse("portal:report", args=[report.tracking_id])
    return {
        "report": view,
        "timeline": timeline,
        "comments": comments,
        "supported": report_supported_by(report, request.user),
        "own": request.user.is_authenticated and report.reporter_id == request.user.pk,
        "comment_form": comment_form,
        "moderates": _moderates(request.user, report),
        "hide_form": HideCommentForm(),
        "login_url": f"{_login_url()}?{urlencode({'next': page})}",
    }


@require_GET
def report_page(request: HttpRequest, tracking_id: str) -> HttpResponse:
    canonical = _canonical(tracking_id)
    if canonical is None:
        return _not_found(request, tracking_id)
    if canonical != tracking_id:
        return HttpResponseRedirect(reverse("portal:report", args=[canonical]))
    report = public_report_detail(canonical, request.user)
    if report is None:
        return _not_found(request, format_tracking_id(canonical))
    return render(request, "portal/feed/report.html", _report_context(request, report, CommentForm()))


@require_GET
def report_attachment(request: HttpRequest, tracking_id: str, attachment_id: int) -> HttpResponseBase:
    """A file of a published report that its serializer shows the public, under the name it shows."""
    report = _public_or_none(tracking_id)
    if report is None:
        return _not_found(request, tracking_id)
    shown = {item.id: item for item in public_report(report).attachments}
    item = shown.get(attachment_id)
    stored = next((row for row in report.attachments.all() if row.pk == attachment_id), None)
    if item is None or stored is None:
        raise Http404
    return FileResponse(stored.file.open("rb"), content_type=item.content_type, as_attachment=True, filename=item.name)


def _public_or_none(tracking_id: str) -> Report | None:
    canonical = _canonical(tracking_id)
    return public_report_detail(canonical) if canonical else None


def _back(report: Report) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("portal:report", args=[report.tracking_id]))


@require_POST
def support(request: HttpRequest, tracking_id: str) -> HttpResponse:
    report = _public_or_none(tracking_id)
    if report is None:
        return _not_found(request, tracking_id)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("portal:report", args=[report.tracking_id]), login_url=_login_url())
    rate_limit(request, "support", user=request.user)
    try:
        report_support(user=request.user, report=report)
    except ReportError as error:
        if error.code == ReportErrorCode.NOT_FOUND:
            return _not_found(request, tracking_id)
        messages.info(request, str(error.message))
    else:
        messages.success(request, _("Thank you: your support is counted."))
    return _back(report)


@require_POST
def comment(request: HttpRequest, tracking_id: str) -> HttpResponse:
    report = _public_or_none(tracking_id)
    if report is None:
        return _not_found(request, tracking_id)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("portal:report", args=[report.tracking_id]), login_url=_login_url())
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _report_with_comment_errors(request, report, form)
    if abuse.honeypot_tripped(request.POST):
        form.add_error(None, abuse.HONEYPOT_MESSAGE)
        return _report_with_comment_errors(request, report, form)
    abuse.guard(request, "comment", user=request.user, form="comment")  # RateLimited: the middleware's 429
    try:
        report_comment(user=request.user, report=report, message=form.cleaned_data["message"])
    except ReportError as error:
        if error.code == ReportErrorCode.NOT_FOUND:
            return _not_found(request, tracking_id)
        form.add_error("message", str(error.message))
        return _report_with_comment_errors(request, report, form)
    messages.success(request, _("Your comment is published."))
    return _back(report)


def _report_with_comment_errors(request: HttpRequest, report: Report, form: CommentForm) -> HttpResponse:
    return render(request, "portal/feed/report.html", _report_context(request, report, form), status=400)


@require_POST
def comment_hide(request: HttpRequest, tracking_id: str, sequence: int) -> HttpResponse:
    report = _public_or_none(tracking_id)
    if report is None:
        return _not_found(request, tracking_id)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("portal:report", args=[report.tracking_id]), login_url=_login_url())
    form = HideCommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for hiding the comment."))
        return _back(report)
    try:
        report_comment_hide(
            user=request.user,
            report=report,
            sequence=sequence,
            reason=form.cleaned_data["reason"],
        )
    except ReportError as error:
        if error.code == ReportErrorCode.ACTION_NOT_ALLOWED:
            return HttpResponse(status=403)
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The comment is hidden."))
    return _back(report)


feed_rss = PublicReportsRss()
feed_atom = PublicReportsAtom()

urlpatterns: list[URLPattern] = [
    path("laporan/", feed, name="feed"),
    path("laporan/peta/", feed_map, name="feed_map"),
    path("laporan/rss/", feed_rss, name="feed_rss"),
    path("laporan/atom/", feed_atom, name="feed_atom"),
    path("laporan/<str:tracking_id>/", report_page, name="report"),
    path("laporan/<str:tracking_id>/dukung/", support, name="report_support"),
    path("laporan/<str:tracking_id>/lampiran/<int:attachment_id>/", report_attachment, name="report_attachment"),
    path("laporan/<str:tracking_id>/komentar/", comment, name="report_comment"),
    path(
        "laporan/<str:tracking_id>/komentar/<int:sequence>/sembunyikan/",
        comment_hide,
        name="report_comment_hide",
    ),
]
