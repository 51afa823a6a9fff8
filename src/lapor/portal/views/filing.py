"""Filing a report, in two steps that work without JavaScript.

1. *What, where, when* (`details`): kind, title, body, incident date, category, the location chosen
   province → regency → district → village (each choice narrows the next list: with htmx in place,
   without JavaScript through a "show" button that reloads the step), an optional map point and
   address, an optional target institution found by name.
2. *Send* (`send`): similar open reports nearby in the same category, offered for support instead;
   who will see what (anonymous, confidential) in plain words; the guest's contact; attachments.
   The first step's answers travel in hidden fields, so nothing typed is lost in either direction.

The report is filed, with its files, by one call of `report_submit`, with an idempotency key made
when the second step is shown: a double click or a retried POST returns the same report. Files are
checked (content sniffed, images re-encoded) before the report is filed, and stored in its
transaction, so a refused file files nothing. Afterwards the
reporter lands on the private tracking page (`portal:track_reporter`), which says what happens next
and by when.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from lapor.accounts.models import User
from lapor.core.form_rendering import PYTHON_WIDGET_RENDERER
from lapor.core.forms import BoundedDateField, MultipleFileField
from lapor.institutions.models import Category, Institution
from lapor.portal import abuse, links
from lapor.portal.options import category_choices, category_name, region_choices, region_options_html
from lapor.regions.codes import ancestor_codes, is_region_code
from lapor.regions.models import Region
from lapor.reports.choices import Channel, ReportKind
from lapor.reports.errors import ReportError
from lapor.reports.selectors import similar_open_reports
from lapor.reports.services import report_submit

DETAILS, SEND = "details", "send"
LEVELS = ("province", "regency", "district", "village")
INSTITUTION_MATCHES = 20
INSTITUTION_QUERY_MAX_LENGTH = 100
# Fields of the first step that the second carries in hidden inputs.
DETAIL_FIELDS = (
    "kind", "title", "body", "incident_date", "category", *LEVELS, "address", "latitude", "longitude",
    "target_institution",
)  # fmt: skip
# Where a service's error about a field is shown on the form.
SERVICE_FIELDS = {"village_code": "village", "guest_email": "guest_email", "target_institution": "target_institution"}


class DetailsForm(forms.Form):
    # The widgets' markup written in Python: the category and region lists cost a template per option.
    default_renderer = PYTHON_WIDGET_RENDERER

    kind = forms.ChoiceField(
        label=_("What kind of report is it?"),
        choices=ReportKind.choices,
        initial=ReportKind.COMPLAINT,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        help_text=_("One line that says what is wrong, e.g. “Street light broken on Jalan Ciater Raya”."),
    )
    body = forms.CharField(
        label=_("What happened?"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Tell what happened, where exactly and when, who was involved and what you expect. "
            "Do not write your phone number or ID number here if you want to stay anonymous."
        ),
    )
    incident_date = BoundedDateField(
        label=_("When did it happen?"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"],
        help_text=_("The date, or the first day if it goes on."),
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, help_text=_("Helps to route the report to the right institution.")
    )
    province = forms.ChoiceField(label=_("Province"), required=False)
    regency = forms.ChoiceField(label=_("Regency or city"), required=False)
    district = forms.ChoiceField(label=_("District (kecamatan)"), required=False)
    village = forms.ChoiceField(label=_("Village (desa or kelurahan)"), required=False)
    address = forms.CharField(
        label=_("Address or landmark"),
        max_length=300,
        required=False,
        help_text=_("Street, number, a landmark nearby."),
    )
    latitude = forms.DecimalField(label=_("Latitude"), required=False, min_value=-11, max_value=6, decimal_places=6)
    longitude = forms.DecimalField(label=_("Longitude"), required=False, min_value=94, max_value=142, decimal_places=6)
    institution_query = forms.CharField(
        label=_("Find an institution by name"), required=False, max_length=INSTITUTION_QUERY_MAX_LENGTH
    )
    target_institution = forms.ChoiceField(
        label=_("Institution"),
        required=False,
        help_text=_("If you do not know, leave it: the national admin sends the report to the right one."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Kept by the process and emptied when categories or regions change (lapor.portal.options).
        self._choices("category", list(category_choices()))
        chosen = self._chosen_levels()
        parents = [None, chosen["province"], chosen["regency"], chosen["district"]]
        for level, parent in zip(LEVELS, parents, strict=True):
            options: list[tuple[str, str]] = [("", str(_("Choose…")))]
            if level == "province" or parent:
                options += region_choices(parent)
            self._choices(level, options)
        self._choices(
            "target_institution",
            [("", str(_("Let Lapor choose")))]
            + [(institution.code, institution.name) for institution in self._institution_options()],
        )

    def _choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def _raw(self, name: str) -> str:
        value = self.initial.get(name, "") if not self.is_bound else self.data.get(self.add_prefix(name), "")
        return value.strip() if isinstance(value, str) else ""

    def _chosen_levels(self) -> dict[str, str]:
        """The codes chosen so far, each kept only when it lies below the one before it."""
        chosen: dict[str, str] = {}
        above = ""
        for level in LEVELS:
            code = self._raw(level)
            valid = is_region_code(code) and (not above or code.startswith(above + "."))
            chosen[level] = code if valid and len(code.split(".")) == LEVELS.index(level) + 1 else ""
            above = chosen[level]
            if not above:
                for rest in LEVELS[LEVELS.index(level) + 1 :]:
                    chosen[rest] = ""
                break
        return chosen

    def _institution_options(self) -> list[Institution]:
        # The raw value, not the cleaned one (the list is built before cleaning): cut to what the field takes.
        query = self._raw("institution_query")[:INSTITUTION_QUERY_MAX_LENGTH]
        chosen = self._raw("target_institution")
        found: list[Institution] = []
        if chosen:
            found += list(Institution.objects.filter(code=chosen, is_active=True))
        if query:
            found += list(institution_search(query))
        unique = {institution.code: institution for institution in found}
        return list(unique.values())

    def clean_incident_date(self) -> date:
        value: date = self.cleaned_data["incident_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The incident cannot be in the future."))
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (cleaned.get("latitude") is None) != (cleaned.get("longitude") is None):
            self.add_error("longitude", _("A map point needs both the latitude and the longitude."))
        return cleaned


class SendForm(forms.Form):
    default_renderer = PYTHON_WIDGET_RENDERER

    is_anonymous = forms.BooleanField(
        label=_("Anonymous: hide my name and contact from the institution and the public"),
        required=False,
        help_text=_(
            "The institution handling your report and the public never see who you are. Only you can, "
            "and Lapor uses your contact to tell you what happens."
        ),
    )
    is_confidential = forms.BooleanField(
        label=_("Confidential: do not publish my report"),
        required=False,
        help_text=_(
            "Your report is not shown in the public list, search, map or feeds; only the institutions "
            "handling it see it. Without this, the text is published with phone numbers, e-mail "
            "addresses and ID numbers hidden."
        ),
    )
    guest_name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    guest_email = forms.EmailField(label=_("E-mail address"), required=False)
    guest_phone = forms.CharField(
        label=_("Mobile phone number"), max_length=20, required=False, help_text=_("For text messages (SMS).")
    )
    attachments = MultipleFileField(
        label=_("Photos or documents"),
        required=False,
        help_text=_("JPEG, PNG or PDF, at most %(size)d MB in all. Photos are stripped of their location data."),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, guest: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guest = guest
        size = int(settings.REPORT_ATTACHMENT_MAX_BYTES / (1024 * 1024))
        self.fields["attachments"].help_text = str(self.fields["attachments"].help_text) % {"size": size}
        self.fields["attachments"].widget.attrs.update(
            {
                "accept": "image/jpeg,image/png,application/pdf",
                "data-max-bytes": str(settings.REPORT_ATTACHMENT_MAX_BYTES),
                "data-size-message": str(_("The files are too large together: at most %(size)d MB.") % {"size": size}),
                "data-type-message": str(_("%s is not a JPEG, PNG or PDF file.")),
            }
        )
        if not guest:
            for name in ("guest_name", "guest_email", "guest_phone"):
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        no_contact = not (cleaned.get("guest_email") or cleaned.get("guest_phone", "").strip())
        if self.guest and no_contact and "guest_email" not in self.errors:
            self.add_error(
                "guest_email",
                _("Give an e-mail address or a mobile number, so that we can tell you what happens."),
            )
        return cleaned


def institution_search(query: str) -> list[Institution]:
    words = [word for word in query.split() if word][:5]
    if not words:
        return []
    institutions = Institution.objects.filter(is_active=True)
    for word in words:
        institutions = institutions.filter(Q(name__icontains=word) | Q(short_name__icontains=word))
    return list(institutions.order_by("depth", "name")[:INSTITUTION_MATCHES])


def _chosen_category(cleaned: dict[str, Any]) -> Category | None:
    """The active category chosen on the form, looked up once per request (none chosen: no query)."""
    code = cleaned.get("category") or ""
    if not code:
        return None
    if "_category" not in cleaned:
        cleaned["_category"] = Category.objects.filter(code=code, is_active=True).first()
    found: Category | None = cleaned["_category"]
    return found


def _chosen_institution(cleaned: dict[str, Any]) -> Institution | None:
    code = cleaned.get("target_institution") or ""
    if not code:
        return None
    if "_institution" not in cleaned:
        cleaned["_institution"] = Institution.objects.filter(code=code, is_active=True).first()
    found: Institution | None = cleaned["_institution"]
    return found


def _new_key() -> str:
    return uuid.uuid4().hex


@require_http_methods(["GET", "POST"])
def file_report(request: HttpRequest) -> HttpResponse:
    guest = not request.user.is_authenticated
    if request.method == "GET":
        return _details(request, DetailsForm(initial=_initial_details(request)))
    step = request.POST.get("step", DETAILS)
    details = DetailsForm(request.POST)
    if request.POST.get("show"):
        # Without JavaScript: the visitor asked for the next list (regencies, villages, institutions).
        return _details(request, DetailsForm(request.POST.dict()), bound=False)
    if step == DETAILS or not details.is_valid():
        if not details.is_valid():
            return _details(request, details)
        return _send(request, details, SendForm(initial={"idempotency_key": _new_key()}, guest=guest))
    send = SendForm(request.POST, request.FILES, guest=guest)
    if request.POST.get("back"):
        return _details(request, details)
    if not send.is_valid():
        return _send(request, details, send)
    return _submit(request, details, send)


def _initial_details(request: HttpRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {"kind": ReportKind.COMPLAINT}
    village = request.GET.get("desa", "")
    if is_region_code(village) and len(village.split(".")) == len(LEVELS):
        for level, code in zip(LEVELS, ancestor_codes(village), strict=True):
            initial[level] = code
    return initial


def _details(request: HttpRequest, form: DetailsForm, *, bound: bool = True) -> HttpResponse:
    if not bound:
        # Re-offered with the longer lists, without errors: the visitor is not done yet.
        form = DetailsForm(initial=form.data)
    return render(
        request,
        "portal/filing/details.html",
        {
            "form": form,
            "step": DETAILS,
            "map_tiles": settings.MAP_TILE_URL,
            "map_attribution": settings.MAP_TILE_ATTRIBUTION,
        },
        status=_status(form),
    )


def _send(request: HttpRequest, details: DetailsForm, send: SendForm) -> HttpResponse:
    cleaned = details.cleaned_data
    category = _chosen_category(cleaned)
    similar = similar_open_reports(
        category=category,
        village_code=cleaned.get("village") or "",
        text=f"{cleaned.get('title', '')} {cleaned.get('body', '')}",
        limit=5,
        user=request.user,
    )
    return render(
        request,
        "portal/filing/send.html",
        {
            "details": details,
            "carried": [details[name] for name in DETAIL_FIELDS],
            "summary": _summary(details),
            "form": send,
            "similar": similar,
            "step": SEND,
        },
        status=_status(send),
    )


def _status(form: forms.Form) -> int:
    """400 for a form sent back with errors (as the console answers), 200 otherwise."""
    return 400 if form.is_bound and form.errors else 200


def _summary(details: DetailsForm) -> list[tuple[str, str]]:
    cleaned = details.cleaned_data
    # Everything the citizen wrote or chose, so that they check what is sent, not only its headline.
    rows: list[tuple[str, str]] = [
        (str(_("Kind")), str(ReportKind(cleaned["kind"]).label)),
        (str(_("Title")), cleaned["title"]),
        (str(_("What happened")), cleaned["body"]),
        (str(_("When")), cleaned["incident_date"].strftime("%d-%m-%Y")),
    ]
    category = _chosen_category(cleaned)
    rows.append((str(_("Category")), category_name(category) if category else str(_("I do not know"))))
    village = cleaned.get("village")
    if village:
        names = dict(Region.objects.filter(code__in=ancestor_codes(village)).values_list("code", "name"))
        rows.append(
            (str(_("Where")), ", ".join(names[code] for code in reversed(ancestor_codes(village)) if code in names))
        )
    if cleaned.get("address"):
        rows.append((str(_("Address or landmark")), cleaned["address"]))
    if cleaned.get("latitude") is not None and cleaned.get("longitude") is not None:
        rows.append((str(_("Map point")), f"{cleaned['latitude']}, {cleaned['longitude']}"))
    target = _chosen_institution(cleaned)
    if target is not None:
        rows.append((str(_("Institution")), target.name))
    return rows


def _submit(request: HttpRequest, details: DetailsForm, send: SendForm) -> HttpResponse:
    user = request.user if isinstance(request.user, User) else None
    if abuse.honeypot_tripped(request.POST):
        # A bot filled the hidden field: it is told nothing useful, and nothing is filed.
        return render(request, "portal/filing/send.html", {"refused": True}, status=400)
    # Over a limit, RateLimited becomes the 429 page (lapor.portal.abuse.RateLimitMiddleware).
    abuse.guard(request, "submit", user=user)
    cleaned, extra = details.cleaned_data, send.cleaned_data
    category = _chosen_category(cleaned)
    target = _chosen_institution(cleaned)
    try:
        filed = report_submit(
            kind=cleaned["kind"],
            title=cleaned["title"],
            body=cleaned["body"],
            incident_date=cleaned["incident_date"],
            reporter=user,
            guest_name=extra.get("guest_name", ""),
            guest_email=extra.get("guest_email", ""),
            guest_phone=extra.get("guest_phone", ""),
            category=category,
            village_code=cleaned.get("village") or "",
            latitude=cleaned.get("latitude"),
            longitude=cleaned.get("longitude"),
            address=cleaned.get("address") or "",
            target_institution=target,
            channel=Channel.WEB,
            is_anonymous=extra["is_anonymous"],
            is_confidential=extra["is_confidential"],
            idempotency_key=extra["idempotency_key"],
            # The served address, for the private link in the acknowledgement when SITE_URL is unset.
            site_url=request.build_absolute_uri("/"),
            # Checked with the report, in the same transaction: a refused file files nothing.
            files=extra.get("attachments") or [],
        )
    except ReportError as error:
        field = SERVICE_FIELDS.get(error.field or "", error.field or "")
        if field in send.fields:
            send.add_error(field, str(error.message))
            return _send(request, details, send)
        details.add_error(field if field in details.fields else None, str(error.message))
        return _details(request, details)
    report, secret = filed.report, filed.secret
    if filed.repeated:
        # A retried submission: the report was filed the first time; its private link was shown then.
        return HttpResponseRedirect(reverse("portal:track_report", args=[report.tracking_id]) + "?ulang=1")
    # The private page by a URL without the secret (which would stay in the browser's history and the
    # access log): this browser remembers the secret, as if the reporter had opened their link.
    response = HttpResponseRedirect(reverse("portal:track_reporter", args=[report.tracking_id]) + "?baru=1")
    return links.remember(request, response, report.tracking_id, secret)


@require_GET
def region_options(request: HttpRequest) -> HttpResponse:
    """The `<option>`s of the regions below ``induk`` (htmx swaps them into the next list)."""
    return HttpResponse(region_options_html(request.GET.get("induk", "")))


@require_GET
def institution_options(request: HttpRequest) -> HttpResponse:
    institutions = institution_search(request.GET.get("q", "")[:INSTITUTION_QUERY_MAX_LENGTH])
    return render(request, "portal/filing/_institution_options.html", {"institutions": institutions})


urlpatterns: list[URLPattern] = [
    path("buat/", file_report, name="file"),
    path("wilayah/pilihan/", region_options, name="region_options"),
    path("instansi/cari/", institution_options, name="institution_options"),
]
