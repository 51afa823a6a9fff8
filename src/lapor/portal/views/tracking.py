"""Following a report: by tracking ID, or through the reporter's private link.

- `portal:track` (/lacak/): the tracking-ID box. An ID with a typo is caught by its check symbol.
- `portal:track_report` (/lacak/<id>/): the signed-in reporter's own page; anyone else is sent to the
  public page of a published report, or told plainly that there is no such public report (the same
  answer whether it exists unpublished, is confidential, or does not exist).
- `portal:track_private` (/lacak/<id>/k/<secret>/): the link given when the report was filed (and sent
  to the reporter's contact). The browser keeps the secret (lapor.portal.links: an encrypted HttpOnly
  cookie) and it redirects at once to `portal:track_reporter` (/lacak/<id>/pelapor/), the reporter's page without
  an account, whose URL carries no secret: the secret never lands in browser history, a Referer, a
  proxy's log or the access log of any request but the first, and lapor.core.logs redacts it there.
- Guessing tracking IDs or secrets is rate-limited per address ("track", lapor.core.ratelimit), counted
  before the lookup, so that an address over the limit learns nothing about which IDs exist.

The reporter's page is built from `reporter_view` only and offers exactly the actions the workflow
table allows the reporter in the report's status: answer a question, confirm or dispute the final
follow-up, rate it, consent to the Ombudsman taking it over, appeal an archive. Each calls its service
(no workflow logic here) and comes back to the page (POST, redirect, GET).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from lapor.accounts.models import User
from lapor.core.ids import format_tracking_id, parse_tracking_id
from lapor.core.ratelimit import rate_limit
from lapor.portal import links
from lapor.reports.access import ReporterProof, is_public, reporter_proof_by_link, visible_reports
from lapor.reports.choices import Action, Actor, Status, Visibility
from lapor.reports.deadlines import overall_deadline_passed
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report
from lapor.reports.read_models import ClockView, EventView, ReporterAttachmentView, ReporterView
from lapor.reports.selectors import public_tracking_id, tracking_id_received
from lapor.reports.serializers import reporter_view
from lapor.reports.services import (
    report_appeal,
    report_confirm,
    report_dispute,
    report_provide_information,
    report_rate,
    report_refer,
)
from lapor.reports.workflow import allowed_actions

# A real ID (its last symbol is the check symbol), as core.ids writes it: what people see in their messages.
EXAMPLE_TRACKING_ID = format_tracking_id("4P26Q5XRK")

REPORTER_ACTIONS = (
    Action.PROVIDE_INFORMATION,
    Action.CONFIRM,
    Action.DISPUTE,
    Action.RATE,
    Action.REFER,
    Action.APPEAL,
)


class TrackForm(forms.Form):
    id = forms.CharField(
        label=_("Tracking ID"),
        max_length=20,
        help_text=_("Nine letters and digits in three groups, as in the message you received, e.g. %(example)s."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["id"]
        field.help_text = str(field.help_text) % {"example": EXAMPLE_TRACKING_ID}

    def clean_id(self) -> str:
        parsed = parse_tracking_id(self.cleaned_data["id"])
        if parsed is None:
            raise forms.ValidationError(
                _("This is not a tracking ID: check each letter and digit (a typo is caught by the last symbol).")
            )
        return parsed


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Your answer"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 5}))


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=_("What is still wrong?"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The report goes back to the institution with your explanation."),
    )


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you with how your report was handled?"),
        coerce=int,
        choices=[
            (5, _("5: very satisfied")),
            (4, _("4: satisfied")),
            (3, _("3: so-so")),
            (2, _("2: dissatisfied")),
            (1, _("1: very dissatisfied")),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class AppealForm(forms.Form):
    message = forms.CharField(
        label=_("Why should it not be archived?"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    title = forms.CharField(
        label=_("Corrected title"), max_length=200, required=False, help_text=_("Only if you correct the report.")
    )
    body = forms.CharField(
        label=_("Corrected report"),
        max_length=20_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Only if you correct the report: write it again in full."),
    )


ACTION_FORMS: dict[str, type[forms.Form]] = {
    Action.PROVIDE_INFORMATION: AnswerForm,
    Action.DISPUTE: DisputeForm,
    Action.RATE: RateForm,
    Action.APPEAL: AppealForm,
}


@require_GET
def track(request: HttpRequest) -> HttpResponse:
    form = TrackForm(request.GET if "id" in request.GET else None)
    if form.is_bound and form.is_valid():
        tracking_id = form.cleaned_data["id"]
        if not request.user.is_authenticated and public_tracking_id(tracking_id):
            # Straight to the public page, where `track_report` would send a visitor: one round trip
            # fewer. A signed-in user goes through `track_report`, which shows a reporter their own page.
            return HttpResponseRedirect(reverse("portal:report", args=[tracking_id]))
        return HttpResponseRedirect(reverse("portal:track_report", args=[tracking_id]))
    return render(request, "portal/tracking/track.html", {"form": form})


@require_http_methods(["GET", "POST"])
def track_report(request: HttpRequest, tracking_id: str) -> HttpResponse:
    rate_limit(request, "track")
    parsed = parse_tracking_id(tracking_id)
    if parsed is None:
        raise Http404
    if parsed != tracking_id:
        return HttpResponseRedirect(reverse("portal:track_report", args=[parsed]))
    user = request.user
    if user.is_authenticated:
        own = visible_reports(user).filter(tracking_id=parsed, reporter=user).first()
        if own is not None:
            return _reporter_page(request, own, link=None, proof=None)
    published = visible_reports(user).filter(tracking_id=parsed).first()
    if published is not None and is_public(published):
        return HttpResponseRedirect(reverse("portal:report", args=[parsed]))
    return _not_public(request, parsed)


def _not_public(request: HttpRequest, tracking_id: str) -> HttpResponse:
    """The answer to anyone who is not the reporter, for a report the public may not see.

    It tells whether a report with this ID was received, and nothing else (no title, status, date or
    institution), in the same words to everybody: the reporter needs to know that the report they just
    filed arrived and how to reach its private page. Saying that an ID exists is acceptable because the
    ID is itself a secret (eight random symbols, about 5e11 possibilities) that only its reporter was
    given; guessing IDs to learn that *some* report exists is slowed by the rate limit on this page and
    learns nothing about who filed it or what it says. An unknown ID answers 404.
    """
    received = tracking_id_received(tracking_id)
    return render(
        request,
        "portal/tracking/not_public.html",
        {
            "tracking_id": format_tracking_id(tracking_id),
            "received": received,
            "again": request.GET.get("ulang") == "1",
        },
        status=200 if received else 404,
    )


@require_http_methods(["GET", "POST"])
def track_private(request: HttpRequest, tracking_id: str, secret: str) -> HttpResponse:
    rate_limit(request, "track")
    report, proof = _by_link(tracking_id, secret)
    if request.method == "POST":  # a page of an older version posted here: act, then land on the new page
        response = _reporter_page(request, report, link=secret, proof=proof)
    else:
        query = request.GET.urlencode()
        response = HttpResponseRedirect(_page_url(report, secret) + (f"?{query}" if query else ""), status=303)
    return links.remember(request, response, report.tracking_id, secret)


@require_http_methods(["GET", "POST"])
def track_reporter(request: HttpRequest, tracking_id: str) -> HttpResponse:
    if links.secret_for(request, tracking_id) is None:
        # Another browser, or the session ended: the tracking-ID page says what to do (open the link,
        # or sign in), and shows the reporter's page to its signed-in reporter.
        return HttpResponseRedirect(reverse("portal:track_report", args=[tracking_id]))
    report, secret, proof = _by_session(request, tracking_id)
    return _reporter_page(request, report, link=secret, proof=proof)


@require_GET
def private_attachment(request: HttpRequest, tracking_id: str, secret: str, attachment_id: int) -> FileResponse:
    rate_limit(request, "track")
    report, _proof = _by_link(tracking_id, secret)
    return _attachment_response(report, attachment_id)


@require_GET
def reporter_attachment(request: HttpRequest, tracking_id: str, attachment_id: int) -> FileResponse:
    report, _secret, _proof = _by_session(request, tracking_id)
    return _attachment_response(report, attachment_id)


def _by_session(request: HttpRequest, tracking_id: str) -> tuple[Report, str, ReporterProof]:
    secret = links.secret_for(request, tracking_id)
    if secret is None:
        raise Http404
    report, proof = _by_link(tracking_id, secret)
    return report, secret, proof


@require_GET
def own_attachment(request: HttpRequest, tracking_id: str, attachment_id: int) -> FileResponse:
    if not request.user.is_authenticated:
        raise Http404
    report = visible_reports(request.user).filter(tracking_id=tracking_id, reporter=request.user).first()
    if report is None:
        raise Http404
    return _attachment_response(report, attachment_id)


def _by_link(tracking_id: str, secret: str) -> tuple[Report, ReporterProof]:
    try:
        return reporter_proof_by_link(tracking_id, secret)
    except ReportError as error:
        raise Http404 from error


def _attachment_response(report: Report, attachment_id: int) -> FileResponse:
    attachment = report.attachments.filter(
        pk=attachment_id, visibility__in=[Visibility.PUBLIC, Visibility.REPORTER]
    ).first()
    if attachment is None:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=True,
        filename=attachment.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _page_url(report: Report, link: str | None) -> str:
    if link is not None:
        return reverse("portal:track_reporter", args=[report.tracking_id])
    return reverse("portal:track_report", args=[report.tracking_id])


@dataclasses.dataclass(frozen=True, slots=True)
class AttachmentLink:
    """A file of the reporter's view and where this page downloads it (the private link's own address
    when the page was opened through it)."""

    file: ReporterAttachmentView
    url: str


def _reporter_page(
    request: HttpRequest, report: Report, *, link: str | None, proof: ReporterProof | None
) -> HttpResponse:
    offered = [
        action
        for action in allowed_actions(Status(report.status), frozenset({Actor.REPORTER}))
        # A report is rated once; the Ombudsman takes over only after the overall deadline.
        if action in REPORTER_ACTIONS
        and not (action == Action.RATE and report.rating is not None)
        and not (action == Action.REFER and not overall_deadline_passed(report))
    ]
    bound: dict[str, forms.Form] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in offered:
            messages.error(request, _("This cannot be done to the report in its current state."))
            return HttpResponseRedirect(_page_url(report, link))
        form_class = ACTION_FORMS.get(action)
        form = form_class(request.POST, request.FILES) if form_class else None
        if form is None or form.is_valid():
            try:
                done = _act(request, report, Action(action), form.cleaned_data if form else {}, proof)
            except ReportError as error:
                if form is None:
                    messages.error(request, str(error.message))
                    return HttpResponseRedirect(_page_url(report, link))
                form.add_error(error.field if error.field in form.fields else None, str(error.message))
                bound[action] = form
            else:
                messages.success(request, done)
                return HttpResponseRedirect(_page_url(report, link))
        else:
            bound[action] = form
    view = reporter_view(report)
    forms_by_action = {
        action: bound.get(action) or (form_class() if (form_class := ACTION_FORMS.get(action)) else None)
        for action in offered
    }
    context: dict[str, Any] = {
        "report": view,
        "offered": offered,
        "forms": forms_by_action,
        "page_url": _page_url(report, link),
        "private_link": (
            request.build_absolute_uri(reverse("portal:track_private", args=[report.tracking_id, link])) if link else ""
        ),
        "new": request.GET.get("baru") == "1",
        "next_steps": _next_steps(view),
        "asked_about": _asked_about(view, offered),
        "attachment_url": (
            (lambda item: reverse("portal:track_reporter_attachment", args=[report.tracking_id, item]))
            if link
            else (lambda item: reverse("portal:track_own_attachment", args=[report.tracking_id, item]))
        ),
    }
    context["attachments"] = [
        AttachmentLink(file=item, url=context["attachment_url"](item.id)) for item in view.attachments
    ]
    status = 400 if bound else 200
    response = render(request, "portal/tracking/reporter.html", context, status=status)
    if link is not None:
        # Links out of the private page tell the next site nothing, not even this site.
        response["Referrer-Policy"] = "no-referrer"
    return response


def _act(
    request: HttpRequest, report: Report, action: Action, data: dict[str, Any], proof: ReporterProof | None
) -> str:
    """Call the action's service as the reporter (signed in, or with the proof of the private link)."""
    user = request.user if proof is None and isinstance(request.user, User) else None
    if action == Action.PROVIDE_INFORMATION:
        report_provide_information(user=user, report=report, answer=data["answer"], proof=proof)
        return str(_("Thank you: your answer was sent and the report goes on."))
    if action == Action.CONFIRM:
        report_confirm(user=user, report=report, proof=proof)
        return str(_("Thank you: you confirmed that the problem is solved. You can still rate the handling."))
    if action == Action.DISPUTE:
        report_dispute(user=user, report=report, reason=data["reason"], proof=proof)
        return str(_("Your objection was sent: the institution must follow up again."))
    if action == Action.RATE:
        report_rate(user=user, report=report, rating=data["rating"], comment=data.get("comment", ""), proof=proof)
        return str(_("Thank you for your rating."))
    if action == Action.REFER:
        report_refer(user=user, report=report, proof=proof)
        return str(_("The Ombudsman has been asked to take over your report."))
    if action == Action.APPEAL:
        report_appeal(
            user=user,
            report=report,
            message=data["message"],
            title=data.get("title", ""),
            body=data.get("body", ""),
            proof=proof,
        )
        return str(_("Your appeal was sent: the report will be verified again."))
    raise ReportError(ReportErrorCode.ACTION_NOT_ALLOWED, _("This cannot be done to the report in its current state."))


def _asked_about(view: ReporterView, offered: list[Action]) -> EventView | None:
    """The entry the offered actions answer (the question asked, or the institution's latest
    follow-up), quoted right above them: the reporter confirms, disputes or rates what they just read."""
    if Action.PROVIDE_INFORMATION in offered:
        wanted = {Action.REQUEST_INFORMATION}
    elif {Action.CONFIRM, Action.DISPUTE, Action.RATE} & set(offered):
        wanted = {Action.FOLLOW_UP_FINAL, Action.FOLLOW_UP}
    else:
        return None
    return next((event for event in reversed(view.events) if event.action in wanted and event.text), None)


def _next_steps(view: ReporterView) -> list[ClockView]:
    """The running deadlines, soonest first, as the reporter reads them."""
    return sorted((clock for clock in view.clocks if not clock.stopped_at), key=lambda clock: clock.due_at)


urlpatterns: list[URLPattern] = [
    path("lacak/", track, name="track"),
    path("lacak/<str:tracking_id>/", track_report, name="track_report"),
    path("lacak/<str:tracking_id>/lampiran/<int:attachment_id>/", own_attachment, name="track_own_attachment"),
    path("lacak/<str:tracking_id>/pelapor/", track_reporter, name="track_reporter"),
    path(
        "lacak/<str:tracking_id>/pelapor/lampiran/<int:attachment_id>/",
        reporter_attachment,
        name="track_reporter_attachment",
    ),
    path("lacak/<str:tracking_id>/k/<str:secret>/", track_private, name="track_private"),
    path(
        "lacak/<str:tracking_id>/k/<str:secret>/lampiran/<int:attachment_id>/",
        private_attachment,
        name="track_private_attachment",
    ),
]
