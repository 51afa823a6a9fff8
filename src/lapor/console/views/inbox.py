"""The console's inboxes: each staff member's queues (by role, see `reports.selectors` "the console's
inboxes"), with their counts as tabs, filters, search, pages sorted by the nearest deadline, saved
filters, and bulk actions on the rows selected.

Every report shown comes from `visible_reports(user)` through the selectors; bulk actions read each
report through `access_report` and change it only through the services (`report_dispatch`,
`report_merge`), each report on its own: one refusal does not stop the others, and every refusal is
reported with its reason. Everything works without JavaScript: the filters are a GET form, pages
follow a cursor link, bulk actions and saved filters are POST forms. `console/inbox.js` adds keyboard
shortcuts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lapor.console.access import scope_of, staff_required
from lapor.core.forms import BoundedDateField
from lapor.core.ids import format_tracking_id, parse_tracking_id
from lapor.institutions.models import Category, Institution
from lapor.institutions.selectors import category_tree
from lapor.regions.codes import is_region_code
from lapor.regions.models import Region
from lapor.regions.selectors import region_search
from lapor.reports.access import access_report
from lapor.reports.choices import Channel, ClockState, ReportKind, Status
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report
from lapor.reports.selectors import (
    INBOX_COUNT_CAP,
    INBOX_PAGE_SIZE,
    SEARCH_CANDIDATES,
    Inbox,
    InboxFilters,
    InboxPage,
    InboxQueue,
    InboxSort,
    SearchCount,
    inbox_counts,
    inbox_page,
    inbox_search_count,
    saved_filters_of,
    staff_inbox,
)
from lapor.reports.services import (
    MAX_SAVED_FILTER_NAME,
    report_dispatch,
    report_merge,
    saved_filter_delete,
    saved_filter_save,
)

QUEUE = "antrian"
CURSOR = "setelah"
# At most this many reports in one bulk action (two pages of the inbox).
MAX_BULK = 2 * INBOX_PAGE_SIZE


# --- filters ----------------------------------------------------------------------------------------


class InboxFilterForm(forms.Form):
    """A queue's filters, as GET parameters with Indonesian names (they appear in saved filters)."""

    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("A tracking ID, or words from the title or text of a report."),
        widget=forms.TextInput(attrs={"type": "search", "data-inbox-search": ""}),
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    tenggat = forms.ChoiceField(label=gettext_lazy("Deadline"), required=False)
    kategori = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    wilayah = forms.CharField(
        label=gettext_lazy("Region"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("A province, regency or city, district or village: its code (e.g. 36.74) or name."),
    )
    kanal = forms.ChoiceField(label=gettext_lazy("Channel"), required=False)
    jenis = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)
    dari = BoundedDateField(
        label=gettext_lazy("Filed from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sampai = BoundedDateField(
        label=gettext_lazy("Filed until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    urut = forms.ChoiceField(
        label=gettext_lazy("Order"),
        required=False,
        choices=[
            ("", gettext_lazy("Best match with search words, nearest deadline first without")),
            (InboxSort.DEADLINE.value, gettext_lazy("Nearest deadline first")),
            (InboxSort.NEWEST.value, gettext_lazy("Newest first")),
            (InboxSort.OLDEST.value, gettext_lazy("Oldest first")),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.categories = {category.code: category for category in category_tree()}
        any_choice = ("", gettext_lazy("All"))
        self._choices("status", [any_choice, *Status.choices])
        self._choices("tenggat", [any_choice, *ClockState.choices])
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
        self._choices("kanal", [any_choice, *Channel.choices])
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

    def clean_kategori(self) -> Category | None:
        code = self.cleaned_data["kategori"]
        return self.categories.get(code) if code else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("dari"), cleaned.get("sampai")
        if isinstance(start, date) and isinstance(end, date) and start > end:
            self.add_error("sampai", _("The end of the period cannot be before its start."))
        return cleaned

    def filters(self) -> InboxFilters:
        """The filters of a valid form (none before one is submitted)."""
        if not self.is_bound:
            return InboxFilters()
        data = self.cleaned_data
        region: Region | None = data.get("wilayah")
        return InboxFilters(
            status=data.get("status") or "",
            deadline_state=data.get("tenggat") or "",
            category=data.get("kategori"),
            region_code=region.code if region else "",
            channel=data.get("kanal") or "",
            kind=data.get("jenis") or "",
            date_from=data.get("dari"),
            date_to=data.get("sampai"),
            text=data.get("q") or "",
        )

    def sort(self) -> InboxSort:
        """The order chosen; without a choice, a search's best matches first (`inbox_page` sorts by
        the nearest deadline when there are no search words)."""
        value = self.cleaned_data.get("urut") if self.is_bound else ""
        return InboxSort(value) if value in {sort.value for sort in InboxSort} else InboxSort.RELEVANCE


FILTER_FIELDS = tuple(InboxFilterForm.base_fields)


def _filter_form(request: HttpRequest) -> InboxFilterForm:
    data = request.GET.copy()
    for key in (QUEUE, CURSOR):
        data.pop(key, None)
    return InboxFilterForm(data if any(value for value in data.values()) else None)


def clean_query(raw: QueryDict | str) -> str:
    """The inbox's own parameters of a query string (the queue and the filters, not the page), in a
    fixed order: what a saved filter stores and where a bulk action returns to."""
    query = QueryDict(raw) if isinstance(raw, str) else raw
    kept = QueryDict(mutable=True)
    for key in (QUEUE, *FILTER_FIELDS):
        value = query.get(key, "").strip()
        if value:
            kept[key] = value
    return kept.urlencode()


def _selected_queue(request: HttpRequest, box: Inbox) -> InboxQueue | None:
    """The queue asked for when the user has it; their first queue otherwise."""
    asked = request.GET.get(QUEUE, "")
    for queue in box.queues:
        if queue.value == asked:
            return queue
    return next(iter(box.queues), None)


def _page_url(request: HttpRequest, cursor: str | None) -> str:
    query: QueryDict = request.GET.copy()
    query.pop(CURSOR, None)
    if cursor:
        query[CURSOR] = cursor
    encoded = query.urlencode()
    return f"{request.path}?{encoded}" if encoded else request.path


# --- the inbox --------------------------------------------------------------------------------------


@staff_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    box = staff_inbox(request.user, scope=scope_of(request))
    queue = _selected_queue(request, box)
    form = _filter_form(request)
    page: InboxPage | None = None
    found: SearchCount | None = None
    counts = inbox_counts(box)
    if queue is not None and not (form.is_bound and not form.is_valid()):
        filters, sort = form.filters(), form.sort()
        # How many reports the page is chosen from, when known: a large queue is paged by deadline
        # without sorting all of it (`inbox_page`). Shown for a search on its first page.
        counted = None
        if filters.text.strip() and (CURSOR not in request.GET or sort == InboxSort.DEADLINE):
            counted = inbox_search_count(box, queue, filters)
        size = counted.value if counted is not None else counts.get(queue) if filters == InboxFilters() else None
        page = inbox_page(box, queue, filters, sort, request.GET.get(CURSOR, ""), queue_size=size)
        if CURSOR not in request.GET:
            found = counted
    tabs = [
        {
            "queue": tab,
            "label": tab.label,
            "count": min(counts.get(tab, 0), INBOX_COUNT_CAP),
            # Counted up to the cap only (`inbox_counts`): "1000+".
            "more": counts.get(tab, 0) > INBOX_COUNT_CAP,
            "url": f"{request.path}?{QUEUE}={tab.value}",
        }
        for tab in box.queues
    ]
    shown: QueryDict = request.GET.copy()
    if queue is not None:
        shown[QUEUE] = queue.value
    current_query = clean_query(shown)
    context = {
        "queue": queue,
        "queue_label": queue.label if queue is not None else "",
        "tabs": tabs,
        "form": form,
        "rows": page.rows if page else [],
        "result_count": found,
        "ranked_among": SEARCH_CANDIDATES
        if found is not None and found.value > SEARCH_CANDIDATES and form.sort() == InboxSort.RELEVANCE
        else None,
        "filters_invalid": form.is_bound and page is None and queue is not None,
        "next_url": _page_url(request, page.next_cursor) if page and page.next_cursor else "",
        "first_page": CURSOR not in request.GET,
        "first_url": _page_url(request, None),
        "current_query": current_query,
        "saved_filters": list(saved_filters_of(request.user)),
        "may_dispatch": box.may_dispatch,
        "may_merge": box.may_merge,
        "state_labels": dict(ClockState.choices),
        "saved_name_max": MAX_SAVED_FILTER_NAME,
    }
    return render(request, "console/inbox/inbox.html", context)


# --- bulk actions -----------------------------------------------------------------------------------

DISPATCH = "disposisi"
MERGE = "gabung"


class BulkForm(forms.Form):
    laporan = forms.MultipleChoiceField(label=gettext_lazy("Reports"), required=True)
    aksi = forms.ChoiceField(
        label=gettext_lazy("Action"),
        choices=[(DISPATCH, gettext_lazy("Dispatch to an institution")), (MERGE, gettext_lazy("Archive as duplicate"))],
    )
    instansi = forms.CharField(label=gettext_lazy("Institution"), required=False, max_length=200)
    ke = forms.CharField(label=gettext_lazy("Duplicate of (tracking ID)"), required=False, max_length=20)
    kembali = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any tracking ID may be sent; each is checked against the access layer on its own.
        field = self.fields["laporan"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.valid_value = lambda value: True  # type: ignore[method-assign]

    def clean_laporan(self) -> list[str]:
        values = self.cleaned_data["laporan"]
        if len(values) > MAX_BULK:
            raise forms.ValidationError(_("Select at most %(count)d reports at once.") % {"count": MAX_BULK})
        ids: list[str] = []
        for value in values:
            tracking_id = parse_tracking_id(value) or value.strip().upper()
            if tracking_id and tracking_id not in ids:
                ids.append(tracking_id)
        return ids

    def clean_instansi(self) -> Institution | None:
        value = self.cleaned_data["instansi"].strip()
        if self.data.get("aksi") != DISPATCH:
            return None
        if not value:
            raise forms.ValidationError(_("Choose the institution to dispatch to."))
        institution = (
            Institution.objects.filter(Q(code=value) | Q(short_name__iexact=value) | Q(name__iexact=value))
            .filter(is_active=True)
            .order_by("depth", "name")
            .first()
        )
        if institution is None:
            raise forms.ValidationError(_("No active institution with this name or code."))
        return institution

    def clean_ke(self) -> str:
        value = self.cleaned_data["ke"].strip()
        if self.data.get("aksi") != MERGE:
            return ""
        tracking_id = parse_tracking_id(value)
        if tracking_id is None:
            raise forms.ValidationError(_("Enter the tracking ID of the report they duplicate."))
        return tracking_id


def _return_url(raw: str) -> str:
    query = clean_query(raw.lstrip("?"))
    base = reverse("console:inbox")
    return f"{base}?{query}" if query else base


def _each(request: HttpRequest, tracking_ids: list[str], act: Callable[[Report], object]) -> list[str]:
    """``act`` on each report the user may see, one by one: a refusal is reported for its report and
    the others go on. Returns the tracking IDs done."""
    done: list[str] = []
    for tracking_id in tracking_ids:
        try:
            act(access_report(request.user, tracking_id))
        except ReportError as error:
            _refused(request, tracking_id, error)
            continue
        done.append(tracking_id)
    return done


def _dispatch_each(request: HttpRequest, tracking_ids: list[str], institution: Institution) -> None:
    user = request.user
    done = _each(
        request,
        tracking_ids,
        lambda report: report_dispatch(user=user, report=report, institution=institution),  # type: ignore[arg-type]
    )
    if done:
        messages.success(
            request,
            ngettext(
                "%(count)d report dispatched to %(institution)s: %(ids)s.",
                "%(count)d reports dispatched to %(institution)s: %(ids)s.",
                len(done),
            )
            % {"count": len(done), "institution": institution.name, "ids": _listed(done)},
        )


def _merge_each(request: HttpRequest, tracking_ids: list[str], survivor_id: str) -> None:
    try:
        survivor = access_report(request.user, survivor_id)
    except ReportError as error:
        messages.error(request, f"{format_tracking_id(survivor_id)}: {error.message}")
        return
    user = request.user
    done = _each(
        request,
        tracking_ids,
        lambda report: report_merge(user=user, report=report, into=survivor),  # type: ignore[arg-type]
    )
    if done:
        messages.success(
            request,
            ngettext(
                "%(count)d report archived as a duplicate of %(survivor)s (its reporter and supporters now "
                "follow it): %(ids)s.",
                "%(count)d reports archived as duplicates of %(survivor)s (their reporters and supporters now "
                "follow it): %(ids)s.",
                len(done),
            )
            % {"count": len(done), "survivor": format_tracking_id(survivor_id), "ids": _listed(done)},
        )


def _refused(request: HttpRequest, tracking_id: str, error: ReportError) -> None:
    messages.error(request, f"{format_tracking_id(tracking_id)}: {error.message}")


def _listed(tracking_ids: list[str]) -> str:
    return ", ".join(format_tracking_id(tracking_id) for tracking_id in tracking_ids)


@staff_required
@require_POST
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    """Dispatch the selected reports to an institution (the national admin), or archive them as
    duplicates of another report (the national admin and coordinators, who verify reports). Someone
    who may do neither gets 404, as for a page that does not exist for them."""
    box = staff_inbox(request.user, scope=scope_of(request))
    allowed = {DISPATCH: box.may_dispatch, MERGE: box.may_merge}
    if not any(allowed.values()):
        raise Http404
    form = BulkForm(request.POST)
    back = _return_url(request.POST.get("kembali", ""))
    if request.POST.get("aksi") in allowed and not allowed[request.POST["aksi"]]:
        raise Http404
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else str(error))
        return HttpResponseRedirect(back)
    tracking_ids: list[str] = form.cleaned_data["laporan"]
    if form.cleaned_data["aksi"] == DISPATCH:
        _dispatch_each(request, tracking_ids, form.cleaned_data["instansi"])
    else:
        _merge_each(request, tracking_ids, form.cleaned_data["ke"])
    return HttpResponseRedirect(back)


# --- saved filters ----------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def saved_filters(request: HttpRequest) -> HttpResponse:
    """The user's saved filters: listed (each a link that applies it), saved (the inbox's current
    filters under a name) and deleted. Only ever the user's own."""
    if request.method == "POST":
        action = request.POST.get("aksi", "")
        try:
            if action == "simpan":
                query = clean_query(request.POST.get("kueri", "").lstrip("?"))
                saved = saved_filter_save(user=request.user, name=request.POST.get("nama", ""), query=query)  # type: ignore[arg-type]
                messages.success(request, _("Filter saved: %(name)s.") % {"name": saved.name})
                return HttpResponseRedirect(_return_url(saved.query))
            if action == "hapus":
                try:
                    saved_filter_id = int(request.POST.get("id", ""))
                except ValueError:
                    raise Http404 from None
                saved_filter_delete(user=request.user, saved_filter_id=saved_filter_id)  # type: ignore[arg-type]
                messages.success(request, _("Saved filter deleted."))
                return HttpResponseRedirect(reverse("console:saved_filters"))
        except ReportError as error:
            if error.code == ReportErrorCode.NOT_FOUND:
                raise Http404 from error
            messages.error(request, str(error.message))
            return HttpResponseRedirect(_return_url(request.POST.get("kueri", "")))
        raise Http404
    inbox_url = reverse("console:inbox")
    filters = [
        {"saved": saved, "url": f"{inbox_url}?{saved.query}" if saved.query else inbox_url}
        for saved in saved_filters_of(request.user)
    ]
    return render(request, "console/inbox/saved_filters.html", {"filters": filters})


urlpatterns: list[URLPattern] = [
    path("", inbox, name="inbox"),
    path("massal/", inbox_bulk, name="inbox_bulk"),
    path("filter/", saved_filters, name="saved_filters"),
]
