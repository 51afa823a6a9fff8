"""The report workspace: one report as the staff handling it see it, and what they may do to it.

- `console:report` (/konsol/laporan/<id>/): the report from `serializers.staff_view` only: its text,
  the reporter as the serializer reveals them (an "anonymous" badge otherwise), deadlines with their
  state in words and colour, files, units and copies, and the full timeline with internal notes marked.
- `console:report_<action>` (POST /konsol/laporan/<id>/<slug>/): each calls one service of
  `reports.services` and comes back to the page (POST, redirect, GET). A form the service refuses is
  shown again on the page with the error next to its field (400). The page offers only the actions the
  workflow table allows the viewer's capacities on the report in its status; an action not offered is
  refused without calling anything.
- `console:report_attachment` (/konsol/laporan/<id>/lampiran/<n>/): a file the viewer's `staff_view`
  lists, as a download under the name it shows.
- `console:report_institutions` (/konsol/laporan/<id>/instansi/?q=…): for whoever may dispatch the
  report now, the institutions whose name holds the text typed into the dispatch form (JSON), so that
  staff type names, not codes; the form itself also takes a name, and says when one names several.

Every free-text field says next to it who reads what is typed there (staff only, the reporter, the
public). A dispatch and a forward carry an internal note (an event of its own, visible to staff only)
and, apart from it, an optional message to the reporter. The dispatch form's privacy boxes only add
privacy, through the privacy service; lifting a flag is the privacy panel's work alone.

The report is read only through `access.access_report`, and only staff capacities open the
workspace: anyone else, a member of the public who may read a published report included, gets the
404 of a report that does not exist, on the page and on every action and file URL alike.

Dispatch and forward offer routing suggestions (the units whose area covers the report's village and
that handle its category, deepest first, each with its reason); merge offers duplicate candidates
(the same category, nearby, alike in words, each with why). Both are choices of their form: one click
fills it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lapor.accounts.models import User
from lapor.console.access import scope_of, staff_required
from lapor.core.forms import BoundedDateField, MultipleFileField
from lapor.core.ids import format_tracking_id, parse_tracking_id
from lapor.core.tree import subtree_q
from lapor.institutions.models import Institution
from lapor.institutions.selectors import follow_up_templates_for, institution_subtree, national_deadline
from lapor.reports.access import StaffScope, access_report, capacities, visible_reports
from lapor.reports.choices import Action, Actor, ArchiveReason, Channel, ReportWeight, Status, Visibility
from lapor.reports.deadlines import RESOLUTION_CLOCKS
from lapor.reports.errors import ReportError
from lapor.reports.models import Report
from lapor.reports.read_models import AttachmentView, StaffEventView, StaffView
from lapor.reports.selectors import (
    DuplicateCandidate,
    RoutingSuggestion,
    duplicate_candidates,
    institutions_by_id,
    routing_suggestions,
    workspace_report,
)
from lapor.reports.serializers import STAFF_CAPACITIES, staff_view
from lapor.reports.services import (
    report_archive,
    report_comment,
    report_dispatch,
    report_follow_up,
    report_forward,
    report_hold,
    report_merge,
    report_note,
    report_redact,
    report_request_information,
    report_resume,
    report_return,
    report_set_privacy,
)
from lapor.reports.workflow import allowed_actions

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Units offered as checkboxes when forwarding, besides the suggestions; others are typed by code.
FORWARD_UNITS_LISTED = 100
FOLLOW_UP_PROGRESS, FOLLOW_UP_FINAL = "progress", "final"
NEAR_SPOT = 3  # DuplicateCandidate.nearness of two map points within DUPLICATE_NEAR_METRES


# --- forms ------------------------------------------------------------------------------------------


# Who reads what staff type: said next to every free-text field of the workspace (its help text,
# which the field names in aria-describedby), so that nobody sends the reporter an internal remark.
READ_BY_STAFF = _("Only for staff: never shown to the reporter or the public.")
READ_BY_REPORTER = _("Sent to the reporter: they read it in their notification and on their report page.")
READ_BY_PUBLIC = _("Public: shown with the report to everyone who may see it (personal data masked).")
# Matches offered for a name typed where an institution is asked for.
INSTITUTION_MATCHES = 8
_CODE_IN_PARENTHESES = re.compile(r"\(([\w.-]+)\)\s*$")


def _hint(audience: StrOrPromise, detail: StrOrPromise = "") -> StrOrPromise:
    return format_lazy("{} {}", audience, detail) if detail else audience


def _entries(text: str) -> list[str]:
    """Institutions typed into one field, by name or code, separated by commas, semicolons or lines."""
    parts = (part.strip() for part in re.split(r"[,;\n]", text))
    return list(dict.fromkeys(part for part in parts if part))


def institution_label(institution: Institution) -> str:
    """How an institution is typed and offered: its name, with its code to tell alike names apart."""
    return f"{institution.name} ({institution.code})"


def _resolve_institutions(
    entries: Iterable[str], allowed: QuerySet[Institution]
) -> tuple[list[Institution], list[str]]:
    """The institutions named by ``entries`` among ``allowed`` (active ones the viewer may choose), in
    the order typed, and a message for each entry that names none or several: an entry is a code, a
    "Name (code)" as offered, or a name (or a part of one) that only one institution bears."""
    found: list[Institution] = []
    problems: list[str] = []
    for entry in entries:
        match = _CODE_IN_PARENTHESES.search(entry)
        code = match.group(1) if match else entry
        by_code = allowed.filter(code=code).first()
        if by_code is not None:
            found.append(by_code)
            continue
        by_name = list(allowed.filter(Q(name__iexact=entry) | Q(short_name__iexact=entry))[:2]) or list(
            allowed.filter(name__icontains=entry).order_by("depth", "name")[: INSTITUTION_MATCHES + 1]
        )
        if len(by_name) == 1:
            found.append(by_name[0])
        elif not by_name:
            problems.append(str(_("No institution you may choose is called “%(entry)s”.") % {"entry": entry}))
        else:
            shown = "; ".join(institution_label(row) for row in by_name[:INSTITUTION_MATCHES])
            problems.append(
                str(_("“%(entry)s” names several institutions: %(matches)s.") % {"entry": entry, "matches": shown})
            )
    return list(dict.fromkeys(found)), problems


def _codes(text: str) -> list[str]:
    """Institution codes typed into one field, separated by commas, semicolons or spaces."""
    return list(dict.fromkeys(code for code in text.replace(",", " ").replace(";", " ").split() if code))


def _active_institutions(codes: Iterable[str]) -> tuple[list[Institution], list[str]]:
    """The active institutions with these codes (in the order given) and the codes that name none."""
    wanted = list(codes)
    found = {row.code: row for row in Institution.objects.filter(code__in=wanted, is_active=True)}
    return [found[code] for code in wanted if code in found], [code for code in wanted if code not in found]


def _suggestion_label(suggestion: RoutingSuggestion) -> str:
    institution = suggestion.institution
    return f"{institution.name} ({institution.code}): {suggestion.reason}"


class SuggestedOrTyped(forms.Form):
    """A form that offers suggestions in ``suggested`` and takes a value typed in ``typed`` instead (what
    the suggestions miss); with nothing to suggest, the typed field is the one to fill."""

    suggested = ""
    typed = ""

    def offer(self, choices: list[tuple[str, str]], *, typed_label: StrOrPromise) -> None:
        field = self.fields[self.suggested]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
        if not choices:
            del self.fields[self.suggested]
            self.fields[self.typed].label = typed_label
            self.fields[self.typed].required = True

    def missing(self, message: StrOrPromise) -> None:
        """Nothing chosen and nothing typed: the error goes next to the field that is shown."""
        field = self.suggested if self.suggested in self.fields else self.typed
        if not self.has_error(field):
            self.add_error(field, message)


def weight_help() -> str:
    """What each weight means and the resolution deadline it sets (the national defaults), in the
    language of the request."""
    days = {weight: national_deadline(RESOLUTION_CLOCKS[weight])[0] for weight in ReportWeight}
    return "{} {}".format(
        gettext(
            "The weight sets the deadline for resolving the report (national defaults; an institution may set its own)."
        ),
        gettext(
            "Light: a simple matter answered directly, %(light)s working days. Normative: about rules or "
            "procedures, %(normative)s working days. No investigation needed: settled from documents, "
            "%(no_investigation)s working days. Needs investigation: a field check or audit, %(investigation)s "
            "working days."
        )
        % {
            "light": days[ReportWeight.LIGHT],
            "normative": days[ReportWeight.NORMATIVE],
            "no_investigation": days[ReportWeight.NO_INVESTIGATION],
            "investigation": days[ReportWeight.INVESTIGATION],
        },
    )


def _internal_note_field() -> forms.CharField:
    return forms.CharField(
        label=_("Internal note"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_hint(READ_BY_STAFF, _("The institutions and units handling the report read it.")),
    )


def _reporter_message_field() -> forms.CharField:
    return forms.CharField(
        label=_("Message to the reporter"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_hint(READ_BY_REPORTER, _("Not published. Leave it empty to send only the news of the step.")),
    )


class DispatchForm(SuggestedOrTyped):
    suggested, typed = "institution", "other_institution"
    institution = forms.ChoiceField(
        label=_("Suggested institutions"),
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Their area covers the report's village and they handle its category; the deepest first."),
    )
    other_institution = forms.CharField(
        label=_("Or another institution"),
        required=False,
        max_length=300,
        help_text=_("Type part of its name and choose it, e.g. Dinas Perhubungan; its code also works."),
        widget=forms.TextInput(attrs={"data-institution-search": "one", "autocomplete": "off"}),
    )
    weight = forms.ChoiceField(label=_("Weight"), choices=ReportWeight.choices, initial=ReportWeight.NORMATIVE)
    copies = forms.CharField(
        label=_("Copies to"),
        required=False,
        max_length=2000,
        help_text=_(
            "Institutions that receive a copy (they see and may comment): type part of a name and choose it; "
            "separate several with commas."
        ),
        widget=forms.TextInput(attrs={"data-institution-search": "many", "autocomplete": "off"}),
    )
    note = _internal_note_field()
    message = _reporter_message_field()
    is_anonymous = forms.BooleanField(label=_("Anonymous: hide the reporter from the institutions"), required=False)
    is_confidential = forms.BooleanField(label=_("Confidential: hide the report from the public"), required=False)

    def __init__(
        self,
        *args: Any,
        suggestions: list[RoutingSuggestion],
        report: Report,
        targets: QuerySet[Institution],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("initial", {"is_anonymous": report.is_anonymous, "is_confidential": report.is_confidential})
        super().__init__(*args, **kwargs)
        self.targets = targets
        self.fields["weight"].help_text = weight_help()
        self.offer(
            [(item.institution.code, _suggestion_label(item)) for item in suggestions], typed_label=_("Institution")
        )
        # A dispatch only adds privacy: a flag the report has stays, ticked and fixed, whatever is sent
        # (a browser sends nothing for an unticked box); lifting it is the privacy panel's work.
        for name in ("is_anonymous", "is_confidential"):
            if getattr(report, name):
                field = self.fields[name]
                field.disabled = True
                field.initial = True
                field.help_text = _("Already set. Only the privacy panel can lift it, and the reporter is told.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen, typed = cleaned.get("institution") or "", (cleaned.get("other_institution") or "").strip()
        if chosen and typed:
            self.add_error("other_institution", _("Choose a suggestion or type a name, not both."))
            return cleaned
        if not chosen and not typed:
            self.missing(_("Choose the institution with authority."))
            return cleaned
        if chosen:
            found, unknown = _active_institutions([chosen])
            if unknown:
                self.add_error("institution", _("No active institution has this code."))
            else:
                cleaned["target"] = found[0]
        else:
            targets, problems = _resolve_institutions([typed], self.targets)
            for problem in problems:
                self.add_error("other_institution", problem)
            if targets:
                cleaned["target"] = targets[0]
        copies, problems = _resolve_institutions(
            _entries(cleaned.get("copies") or ""), Institution.objects.filter(is_active=True)
        )
        for problem in problems:
            self.add_error("copies", problem)
        cleaned["copy_institutions"] = copies
        return cleaned


class ForwardForm(SuggestedOrTyped):
    suggested, typed = "units", "other_units"
    units = forms.MultipleChoiceField(
        label=_("Units"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Suggested units first, with why; then the other units of the institution."),
    )
    other_units = forms.CharField(
        label=_("Other units"), required=False, max_length=500, help_text=_("Their codes, separated by commas.")
    )
    note = _internal_note_field()
    message = _reporter_message_field()

    def __init__(
        self, *args: Any, suggestions: list[RoutingSuggestion], units: list[Institution], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        suggested = {item.institution.code for item in suggestions}
        choices = [(item.institution.code, _suggestion_label(item)) for item in suggestions]
        choices += [(unit.code, f"{unit.name} ({unit.code})") for unit in units if unit.code not in suggested]
        self.offer(choices, typed_label=_("Units"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        codes = list(dict.fromkeys([*(cleaned.get("units") or []), *_codes(cleaned.get("other_units") or "")]))
        if not codes:
            self.missing(_("Choose at least one unit."))
            return cleaned
        found, unknown = _active_institutions(codes)
        if unknown:
            self.add_error(
                "other_units", _("No active institution has the code %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        cleaned["unit_institutions"] = found
        return cleaned


def _reason_field(label: StrOrPromise, help_text: StrOrPromise = "") -> forms.CharField:
    return forms.CharField(
        label=label, max_length=20_000, widget=forms.Textarea(attrs={"rows": 3}), help_text=help_text
    )


class ReturnForm(forms.Form):
    reason = _reason_field(
        _("Why is this not your authority?"),
        _hint(READ_BY_REPORTER, _("The report goes back to whoever sent it, who routes it again.")),
    )


class RequestInformationForm(forms.Form):
    question = _reason_field(
        _("What is missing?"), _hint(READ_BY_REPORTER, _("They are asked this; the deadlines wait meanwhile."))
    )


class HoldForm(forms.Form):
    reason = _reason_field(_("Why is it on hold?"), READ_BY_REPORTER)
    resume_on = BoundedDateField(
        label=_("Resume on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The report resumes by itself on this day."),
    )


class ResumeForm(forms.Form):
    pass


class ArchiveForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=ArchiveReason.choices, widget=forms.RadioSelect)
    explanation = _reason_field(
        _("Explanation for the reporter"), _hint(READ_BY_REPORTER, _("Never archive silently: they may appeal."))
    )


class MergeForm(SuggestedOrTyped):
    suggested, typed = "into", "other_into"
    into = forms.ChoiceField(
        label=_("Duplicate candidates"),
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Open published reports alike in category, place and words; why each is shown follows it."),
    )
    other_into = forms.CharField(
        label=_("Or another report"), required=False, max_length=20, help_text=_("Its tracking ID.")
    )
    note = forms.CharField(
        label=_("Message to the reporter"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=READ_BY_REPORTER,
    )

    def __init__(self, *args: Any, candidates: list[DuplicateCandidate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offer(
            [(item.report.tracking_id, _candidate_label(item)) for item in candidates],
            typed_label=_("The report to merge into"),
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen, typed = cleaned.get("into") or "", (cleaned.get("other_into") or "").strip()
        if chosen and typed:
            self.add_error("other_into", _("Choose a candidate or type a tracking ID, not both."))
        elif not chosen and not typed:
            self.missing(_("Choose the report to merge into."))
        elif typed and parse_tracking_id(typed) is None:
            self.add_error("other_into", _("This is not a tracking ID."))
        else:
            cleaned["tracking_id"] = chosen or parse_tracking_id(typed)
        return cleaned


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of follow-up"),
        choices=[
            (FOLLOW_UP_PROGRESS, _("Progress: the work goes on")),
            (FOLLOW_UP_FINAL, _("Final answer: the reporter is asked to confirm it")),
        ],
        initial=FOLLOW_UP_PROGRESS,
        widget=forms.RadioSelect,
    )
    message = forms.CharField(
        label=_("Follow-up"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_hint(READ_BY_PUBLIC, _("It is also sent to the reporter.")),
    )
    attachments = MultipleFileField(
        label=_("Photos or documents"), required=False, help_text=_("JPEG, PNG, WebP, PDF or plain text.")
    )
    visibility = forms.ChoiceField(
        label=_("Who may see the files"),
        choices=Visibility.choices,
        initial=Visibility.REPORTER,
        widget=forms.RadioSelect,
    )


class NoteForm(forms.Form):
    message = forms.CharField(
        label=_("Internal note"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=READ_BY_STAFF,
    )


class CommentForm(forms.Form):
    message = forms.CharField(
        label=_("Public comment"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=READ_BY_PUBLIC,
    )


class RedactForm(forms.Form):
    public_title = forms.CharField(label=_("Public title"), max_length=200, help_text=READ_BY_PUBLIC)
    public_body = forms.CharField(
        label=_("Public text"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_hint(READ_BY_PUBLIC, _("The reporter's own text stays as filed.")),
    )


class PrivacyForm(forms.Form):
    is_anonymous = forms.BooleanField(label=_("Anonymous: hide the reporter from the institutions"), required=False)
    is_confidential = forms.BooleanField(label=_("Confidential: hide the report from the public"), required=False)
    note = forms.CharField(
        label=_("Why"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_hint(READ_BY_STAFF, _("The reporter is told that who may see the report changed, not this note.")),
    )


def _candidate_label(candidate: DuplicateCandidate) -> str:
    reasons = "; ".join(candidate_reasons(candidate))
    return f"{format_tracking_id(candidate.report.tracking_id)} · {candidate.report.public_title}: {reasons}"


def candidate_reasons(candidate: DuplicateCandidate) -> list[str]:
    """Why a report is a duplicate candidate, in words."""
    report = candidate.report
    reasons = []
    if candidate.same_category and report.category is not None:
        reasons.append(str(_("same category (%(category)s)") % {"category": report.category.localized_name}))
    village = report.village
    if candidate.nearness == NEAR_SPOT and candidate.distance_metres is not None:
        reasons.append(str(_("about %(metres)d m away") % {"metres": candidate.distance_metres}))
    if candidate.same_village and village is not None:
        reasons.append(str(_("same village (%(village)s)") % {"village": village.name}))
    elif candidate.same_district and village is not None and village.parent is not None:
        reasons.append(str(_("nearby: same district (%(district)s)") % {"district": village.parent.name}))
    if candidate.shared_words:
        reasons.append(str(_("shares the words %(words)s") % {"words": ", ".join(candidate.shared_words)}))
    return reasons


# --- the actions -------------------------------------------------------------------------------------


@dataclasses.dataclass
class Workspace:
    report: Report  # with what staff_view reads (selectors.workspace_report)
    view: StaffView
    capacities: frozenset[Actor]  # the viewer's staff capacities on the report
    allowed: frozenset[Action]  # what the workflow lets those capacities do now
    user: User
    scope: StaffScope
    cache: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def tracking_id(self) -> str:
        return self.report.tracking_id

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def dispatch_suggestions(self) -> list[RoutingSuggestion]:
        # A coordinator dispatches only within its own institution; the national admin anywhere.
        within = None if Actor.NATIONAL_ADMIN in self.capacities else self.report.owner
        return self.once("dispatch", lambda: routing_suggestions(self.report, within=within))

    def dispatch_targets(self) -> QuerySet[Institution]:
        """Where the viewer may dispatch the report: anywhere for the national admin, else within the
        institution that holds it (what `services.report_dispatch` accepts)."""
        active = Institution.objects.filter(is_active=True)
        if Actor.NATIONAL_ADMIN in self.capacities:
            return active.order_by("path")
        return active.filter(subtree_q(self.report.owner.path)).order_by("path")

    def forward_suggestions(self) -> list[RoutingSuggestion]:
        return self.once(
            "forward", lambda: routing_suggestions(self.report, within=self.report.owner, include_within=False)
        )

    def forward_units(self) -> list[Institution]:
        return self.once(
            "units",
            lambda: list(
                institution_subtree(self.report.owner, include_self=False).filter(is_active=True)[:FORWARD_UNITS_LISTED]
            ),
        )

    def candidates(self) -> list[DuplicateCandidate]:
        return self.once("candidates", lambda: duplicate_candidates(self.report, self.user, scope=self.scope))


@dataclasses.dataclass(frozen=True)
class Panel:
    """One action of the workspace: its URL, the workflow actions that allow it, its words."""

    name: str
    slug: str
    actions: frozenset[Action]
    heading: StrOrPromise
    button: StrOrPromise
    done: StrOrPromise
    form: Callable[..., forms.Form]
    run: Callable[[Workspace, dict[str, Any]], None]
    description: StrOrPromise = ""
    primary: bool = False


def _dispatch(ws: Workspace, data: dict[str, Any]) -> None:
    report_dispatch(
        user=ws.user,
        report=ws.report,
        institution=data["target"],
        weight=data["weight"],
        copies=data["copy_institutions"],
        note=data.get("note") or "",
        message=data.get("message") or "",
        make_anonymous=data["is_anonymous"],
        make_confidential=data["is_confidential"],
    )


def _forward(ws: Workspace, data: dict[str, Any]) -> None:
    report_forward(
        user=ws.user,
        report=ws.report,
        units=data["unit_institutions"],
        note=data.get("note") or "",
        message=data.get("message") or "",
    )


def _return(ws: Workspace, data: dict[str, Any]) -> None:
    report_return(user=ws.user, report=ws.report, reason=data["reason"])


def _request_information(ws: Workspace, data: dict[str, Any]) -> None:
    report_request_information(user=ws.user, report=ws.report, question=data["question"])


def _hold(ws: Workspace, data: dict[str, Any]) -> None:
    report_hold(user=ws.user, report=ws.report, reason=data["reason"], resume_on=data["resume_on"])


def _resume(ws: Workspace, data: dict[str, Any]) -> None:
    report_resume(user=ws.user, report=ws.report)


def _archive(ws: Workspace, data: dict[str, Any]) -> None:
    report_archive(user=ws.user, report=ws.report, reason=data["reason"], explanation=data["explanation"])


def _merge(ws: Workspace, data: dict[str, Any]) -> None:
    try:
        survivor = access_report(ws.user, data["tracking_id"])
    except ReportError as error:
        raise ReportError(error.code, error.message, field="into") from error
    report_merge(user=ws.user, report=ws.report, into=survivor, note=data.get("note") or "")


def _follow_up(ws: Workspace, data: dict[str, Any]) -> None:
    # A refused file refuses the follow-up too, so that the officer sends both again together.
    report_follow_up(
        user=ws.user,
        report=ws.report,
        message=data["message"],
        final=data["kind"] == FOLLOW_UP_FINAL,
        files=data.get("attachments") or [],
        file_visibility=data["visibility"],
    )


def _note(ws: Workspace, data: dict[str, Any]) -> None:
    report_note(user=ws.user, report=ws.report, message=data["message"])


def _comment(ws: Workspace, data: dict[str, Any]) -> None:
    report_comment(user=ws.user, report=ws.report, message=data["message"])


def _redact(ws: Workspace, data: dict[str, Any]) -> None:
    report_redact(user=ws.user, report=ws.report, public_title=data["public_title"], public_body=data["public_body"])


def _privacy(ws: Workspace, data: dict[str, Any]) -> None:
    report_set_privacy(
        user=ws.user,
        report=ws.report,
        is_anonymous=data["is_anonymous"],
        is_confidential=data["is_confidential"],
        note=data.get("note") or "",
    )


# Each form is made with the panel's name as its prefix: one page holds every form, and their fields
# (several are called "reason") need ids of their own.


def _dispatch_form(ws: Workspace, **kwargs: Any) -> forms.Form:
    return DispatchForm(
        suggestions=ws.dispatch_suggestions(), report=ws.report, targets=ws.dispatch_targets(), **kwargs
    )


def _forward_form(ws: Workspace, **kwargs: Any) -> forms.Form:
    return ForwardForm(suggestions=ws.forward_suggestions(), units=ws.forward_units(), **kwargs)


def _merge_form(ws: Workspace, **kwargs: Any) -> forms.Form:
    return MergeForm(candidates=ws.candidates(), **kwargs)


def _redact_form(ws: Workspace, **kwargs: Any) -> forms.Form:
    initial = {"public_title": ws.report.public_title, "public_body": ws.report.public_body}
    return RedactForm(initial=initial, **kwargs)


def _privacy_form(ws: Workspace, **kwargs: Any) -> forms.Form:
    initial = {"is_anonymous": ws.report.is_anonymous, "is_confidential": ws.report.is_confidential}
    return PrivacyForm(initial=initial, **kwargs)


def _plain(form_class: type[forms.Form]) -> Callable[..., forms.Form]:
    return lambda ws, **kwargs: form_class(**kwargs)


def _follow_up_form(ws: Workspace, **kwargs: Any) -> forms.Form:
    template = ws.cache.get("template_text")
    return FollowUpForm(initial={"message": template} if template else None, **kwargs)


PANELS: tuple[Panel, ...] = (
    Panel(
        "dispatch",
        "disposisi",
        frozenset({Action.DISPATCH}),
        _("Verify and dispatch"),
        _("Dispatch"),
        _("The report was verified and dispatched."),
        _dispatch_form,
        _dispatch,
        _("Send the report to the institution with authority over it; its deadlines start."),
        primary=True,
    ),
    Panel(
        "forward",
        "teruskan",
        frozenset({Action.FORWARD}),
        _("Forward to units"),
        _("Forward"),
        _("The report was forwarded."),
        _forward_form,
        _forward,
        _("Units of your institution that will write the follow-up."),
        primary=True,
    ),
    Panel(
        "follow_up",
        "tindak-lanjut",
        frozenset({Action.FOLLOW_UP, Action.FOLLOW_UP_FINAL}),
        _("Follow-up"),
        _("Post the follow-up"),
        _("The follow-up was posted."),
        _follow_up_form,
        _follow_up,
        primary=True,
    ),
    Panel(
        "request_information",
        "minta-kelengkapan",
        frozenset({Action.REQUEST_INFORMATION}),
        _("Ask the reporter for missing details"),
        _("Send the question"),
        _("The question was sent to the reporter."),
        _plain(RequestInformationForm),
        _request_information,
    ),
    Panel(
        "return",
        "bukan-wewenang",
        frozenset({Action.RETURN_TO_DISPATCHER}),
        _("Not our authority"),
        _("Return it"),
        _("The report was returned as not your authority."),
        _plain(ReturnForm),
        _return,
    ),
    Panel(
        "hold",
        "tunda",
        frozenset({Action.HOLD}),
        _("Put on hold"),
        _("Put on hold"),
        _("The report is on hold."),
        _plain(HoldForm),
        _hold,
    ),
    Panel(
        "resume",
        "lanjutkan",
        frozenset({Action.RESUME}),
        _("Resume"),
        _("Resume now"),
        _("The report was resumed."),
        _plain(ResumeForm),
        _resume,
        _("The report goes back to where it was before the hold, and its deadlines run again."),
    ),
    Panel(
        "archive",
        "arsipkan",
        frozenset({Action.ARCHIVE}),
        _("Archive"),
        _("Archive"),
        _("The report was archived."),
        _plain(ArchiveForm),
        _archive,
    ),
    Panel(
        "merge",
        "gabungkan",
        frozenset({Action.MERGE}),
        _("Merge into another report"),
        _("Merge"),
        _("The report was merged."),
        _merge_form,
        _merge,
        _("The reporter and the supporters follow the report it is merged into."),
    ),
    Panel(
        "note",
        "catatan",
        frozenset({Action.NOTE}),
        _("Internal note"),
        _("Add the note"),
        _("The note was added."),
        _plain(NoteForm),
        _note,
    ),
    Panel(
        "comment",
        "komentar",
        frozenset({Action.COMMENT}),
        _("Public comment"),
        _("Comment"),
        _("The comment was posted."),
        _plain(CommentForm),
        _comment,
    ),
    Panel(
        "redact",
        "redaksi",
        frozenset({Action.REDACT}),
        _("Redact the public text"),
        _("Save the public text"),
        _("The public text was changed."),
        _redact_form,
        _redact,
    ),
    Panel(
        "privacy",
        "privasi",
        frozenset({Action.REDACT}),
        _("Privacy"),
        _("Save the privacy"),
        _("The privacy of the report was changed."),
        _privacy_form,
        _privacy,
        _("Staff may make a report more private; only the national admin may make it less private."),
    ),
)
# The fields of a service's error that the form names otherwise.
SERVICE_FIELDS = {"event": "attachments"}
# What a panel says when it has nothing to suggest.
EMPTY_NOTES: dict[str, tuple[Callable[[Workspace], list[Any]], StrOrPromise]] = {
    "dispatch": (
        Workspace.dispatch_suggestions,
        _("No suggestion: the report names no village, or no institution covering it handles its category."),
    ),
    "forward": (
        Workspace.forward_suggestions,
        _("No suggestion: no unit of the institution covers the report's village and handles its category."),
    ),
    "merge": (Workspace.candidates, _("No duplicate candidate: no open report alike nearby or in the category.")),
}


# --- reading the report -------------------------------------------------------------------------------


def _canonical_or_404(tracking_id: str) -> str:
    parsed = parse_tracking_id(tracking_id)
    if parsed is None:
        raise Http404
    return parsed


def _staff_report(request: HttpRequest, tracking_id: str) -> tuple[Report, StaffView]:
    """The report and its staff view, or 404: unknown, not visible, or visible but not as staff."""
    try:
        report = access_report(request.user, _canonical_or_404(tracking_id))
        report = workspace_report(report)
        return report, staff_view(report, viewer=request.user)
    except ReportError as error:
        raise Http404 from error


def _workspace(request: HttpRequest, tracking_id: str) -> Workspace:
    report, view = _staff_report(request, tracking_id)
    held = frozenset(Actor(capacity) for capacity in view.capacities) & STAFF_CAPACITIES
    assert isinstance(request.user, User)
    return Workspace(
        report=report,
        view=view,
        capacities=held,
        allowed=frozenset(allowed_actions(Status(report.status), held)),
        user=request.user,
        scope=scope_of(request),
    )


def _offered(ws: Workspace) -> list[Panel]:
    return [panel for panel in PANELS if panel.actions & ws.allowed]


def _after_action_url(request: HttpRequest, ws: Workspace) -> str:
    """Back to the report, unless the action took it out of the person's sight (a unit or an
    institution saying "not our authority"): then to their inbox, where the message says it went."""
    report = visible_reports(request.user).filter(tracking_id=ws.tracking_id).first()
    if report is not None and capacities(request.user, report) & STAFF_CAPACITIES:
        return _page_url(ws)
    return reverse("console:inbox")


def _page_url(ws: Workspace, anchor: str = "") -> str:
    url = reverse("console:report", args=[ws.tracking_id])
    return f"{url}#{anchor}" if anchor else url


# --- the page -----------------------------------------------------------------------------------------


def _answering_institution(ws: Workspace) -> Institution:
    """In whose name the viewer answers: their unit the report was forwarded to, else the owner."""
    for assignment in ws.report.assignments.all():
        if assignment.is_active and assignment.unit_id in ws.scope.institution_ids:
            return assignment.unit
    return ws.report.owner


def _templates(ws: Workspace) -> list[dict[str, Any]]:
    institution = _answering_institution(ws)
    values = {
        "tracking_id": format_tracking_id(ws.tracking_id),
        "report_title": ws.view.title,
        "institution": institution.name,
        "officer_name": ws.user.full_name,
        "today": date_format(timezone.localdate(), "DATE_FORMAT"),
    }
    return [
        {"id": row.pk, "name": row.name, "institution": row.institution.name, "text": row.render(values)}
        for row in follow_up_templates_for(institution)
    ]


_INSTITUTION_DETAILS = ("to", "from", "owner", "returned_to", "returned_by")
_INSTITUTION_LIST_DETAILS = ("units", "copies")


def _institution_ids(events: Iterable[StaffEventView]) -> set[int]:
    ids: set[int] = set()
    for event in events:
        for key in _INSTITUTION_DETAILS:
            value = event.details.get(key)
            if isinstance(value, int):
                ids.add(value)
        for key in _INSTITUTION_LIST_DETAILS:
            values = event.details.get(key)
            if isinstance(values, list):
                ids.update(pk for pk in values if isinstance(pk, int))
    return ids


def _detail_lines(details: dict[str, Any], institutions: dict[int, Institution]) -> list[tuple[str, str]]:
    """An event's details as (label, value) lines in words."""

    def name(pk: Any) -> str:
        institution = institutions.get(pk) if isinstance(pk, int) else None
        return institution.name if institution is not None else "?"

    labels: dict[str, Promise] = {
        "to": _("To"),
        "from": _("From"),
        "owner": _("Owner"),
        "returned_to": _("Returned to"),
        "returned_by": _("Returned by"),
        "units": _("Units"),
        "copies": _("Copies"),
    }
    lines: list[tuple[str, str]] = []
    for key in _INSTITUTION_DETAILS:
        if key in details:
            lines.append((str(labels[key]), name(details[key])))
    for key in _INSTITUTION_LIST_DETAILS:
        if details.get(key):
            lines.append((str(labels[key]), ", ".join(name(pk) for pk in details[key])))
    if details.get("weight") in ReportWeight.values:
        lines.append((str(_("Weight")), str(ReportWeight(details["weight"]).label)))
    if details.get("reason") in ArchiveReason.values:
        lines.append((str(_("Reason")), str(ArchiveReason(details["reason"]).label)))
    if details.get("resume_on"):
        lines.append((str(_("Resume on")), str(details["resume_on"])))
    privacy = details.get("privacy")
    if isinstance(privacy, dict):
        flags = [
            str(_("anonymous")) if privacy.get("is_anonymous") else str(_("not anonymous")),
            str(_("confidential")) if privacy.get("is_confidential") else str(_("not confidential")),
        ]
        lines.append((str(_("Privacy")), ", ".join(flags)))
    if details.get("attachments"):
        lines.append((str(_("Files added")), str(len(details["attachments"]))))
    if details.get("hidden_comment"):
        lines.append((str(_("Comment hidden")), f"#{details['hidden_comment']}"))
    return lines


@dataclasses.dataclass(frozen=True, slots=True)
class TimelineEntry:
    """An entry of the staff view's trail with what the page says of it in words."""

    event: StaffEventView
    internal: bool
    # What a dispatch or forward told the reporter (its internal note is an event of its own).
    to_reporter: bool
    status_label: str  # the status it moved the report to; empty when it did not move it
    lines: list[tuple[str, str]]
    into: str  # tracking ID of the report a merge moved this one into
    merged_from: str  # tracking ID of the report a merge moved into this one


def _text_detail(details: dict[str, object], key: str) -> str:
    value = details.get(key)
    return value if isinstance(value, str) else ""


def _timeline(view: StaffView) -> list[TimelineEntry]:
    institutions = institutions_by_id(_institution_ids(view.events))
    return [
        TimelineEntry(
            event=event,
            internal=event.visibility == Visibility.STAFF,
            to_reporter=event.action in (Action.DISPATCH, Action.FORWARD),
            status_label=(
                str(Status(event.to_status).label)
                if event.to_status != event.from_status and event.to_status in Status.values
                else ""
            ),
            lines=_detail_lines(event.details, institutions),
            into=_text_detail(event.details, "into"),
            merged_from=_text_detail(event.details, "merged_from"),
        )
        for event in reversed(view.events)
    ]


@dataclasses.dataclass(frozen=True, slots=True)
class AttachmentLink:
    """A file of the staff view, where the console downloads it, and who may see it in words."""

    file: AttachmentView
    url: str
    visibility_label: str


def _empty_note(ws: Workspace, panel: Panel) -> StrOrPromise:
    if panel.name not in EMPTY_NOTES:
        return ""
    items, note = EMPTY_NOTES[panel.name]
    return "" if items(ws) else note


def _render(
    request: HttpRequest, ws: Workspace, *, bound: dict[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    bound = bound or {}
    offered = _offered(ws)
    templates = _templates(ws) if any(panel.name == "follow_up" for panel in offered) else []
    chosen = request.GET.get("templat", "")
    for template in templates:
        if str(template["id"]) == chosen:
            ws.cache["template_text"] = template["text"]
    panels = [
        {
            "panel": panel,
            "form": bound.get(panel.name) or panel.form(ws, prefix=panel.name),
            "url": reverse(f"console:report_{panel.name}", args=[ws.tracking_id]),
            "multipart": panel.name == "follow_up",
            "empty_note": _empty_note(ws, panel),
        }
        for panel in offered
    ]
    view = ws.view
    context = {
        "report": view,
        "panels": panels,
        "timeline": _timeline(view),
        "clocks_running": [clock for clock in view.clocks if clock.stopped_at is None],
        "clocks_stopped": [clock for clock in view.clocks if clock.stopped_at is not None],
        "attachments": [
            AttachmentLink(
                file=item,
                url=reverse("console:report_attachment", args=[ws.tracking_id, item.id]),
                visibility_label=str(Visibility(item.visibility).label),
            )
            for item in view.attachments
        ],
        "capacity_labels": [Actor(capacity).label for capacity in sorted(ws.capacities)],
        # Copy holders and oversight see, note and comment; they do not act on the report.
        "watching": not ws.capacities & {Actor.NATIONAL_ADMIN, Actor.COORDINATOR, Actor.UNIT_OFFICER},
        "copy_holder": Actor.COPY_HOLDER in ws.capacities,
        "templates": templates,
        "chosen_template": chosen,
        "channel_label": Channel(view.channel).label if view.channel in Channel.values else view.channel,
        "weight_label": ReportWeight(view.weight).label if view.weight in ReportWeight.values else "",
        "page_url": _page_url(ws),
    }
    return render(request, "console/workspace/report.html", context, status=status)


# Every view checks access before the method: whoever may not see the report gets 404, whatever they send.
READ_METHODS = ("GET", "HEAD")


@staff_required
def report_page(request: HttpRequest, tracking_id: str) -> HttpResponse:
    canonical = _canonical_or_404(tracking_id)
    if canonical != tracking_id:
        return HttpResponseRedirect(reverse("console:report", args=[canonical]))
    ws = _workspace(request, canonical)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    return _render(request, ws)


def _action_view(panel: Panel) -> Callable[..., HttpResponse]:
    @staff_required
    def act(request: HttpRequest, tracking_id: str) -> HttpResponse:
        ws = _workspace(request, tracking_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not panel.actions & ws.allowed:
            # Nothing is called: the page did not offer this action to this person now.
            messages.error(request, _("This cannot be done to the report in its current state."))
            return HttpResponseRedirect(_page_url(ws))
        form = panel.form(ws, data=request.POST, files=request.FILES, prefix=panel.name)
        if form.is_valid():
            try:
                panel.run(ws, form.cleaned_data)
            except ReportError as error:
                _form_error(form, error)
            else:
                messages.success(request, panel.done)
                return HttpResponseRedirect(_after_action_url(request, ws))
        return _render(request, ws, bound={panel.name: form}, status=400)

    act.__name__ = f"report_{panel.name}"
    return act


def _form_error(form: forms.Form, error: ReportError) -> None:
    """The service's error next to the field it names: the typed "other_" field when that was used."""
    field = SERVICE_FIELDS.get(error.field, error.field)
    typed = f"other_{field}"
    if typed in form.fields and (form.cleaned_data.get(typed) or field not in form.fields):
        field = typed
    form.add_error(field if field in form.fields else None, str(error.message))


# --- institutions by name -------------------------------------------------------------------------------

INSTITUTION_QUERY_MIN, INSTITUTION_QUERY_MAX = 2, 100


@staff_required
def report_institutions(request: HttpRequest, tracking_id: str) -> HttpResponse:
    """The institutions whose name (or code) holds the text typed in the dispatch form, as JSON: for
    ``untuk=tujuan`` those the viewer may dispatch this report to, else (copies) any active one. Only
    for someone the page offers the dispatch to; anyone else gets the 404 of the other actions."""
    ws = _workspace(request, tracking_id)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    if Action.DISPATCH not in ws.allowed:
        raise Http404
    query = " ".join(request.GET.get("q", "").split())[:INSTITUTION_QUERY_MAX]
    if len(query) < INSTITUTION_QUERY_MIN:
        return JsonResponse({"results": []})
    pool = ws.dispatch_targets() if request.GET.get("untuk") == "tujuan" else Institution.objects.filter(is_active=True)
    matches = pool.filter(
        Q(name__icontains=query) | Q(short_name__icontains=query) | Q(code__icontains=query)
    ).order_by("depth", "name")
    results = [
        {"label": institution_label(row), "name": row.name, "code": row.code} for row in matches[:INSTITUTION_MATCHES]
    ]
    return JsonResponse({"results": results})


# --- files --------------------------------------------------------------------------------------------


@staff_required
def report_attachment(request: HttpRequest, tracking_id: str, attachment_id: int) -> HttpResponse:
    """A file of the report that the viewer's staff view lists, as a download under the name it shows
    (an anonymous reporter's file under a neutral name)."""
    report, view = _staff_report(request, tracking_id)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    item = next((row for row in view.attachments if row.id == attachment_id), None)
    stored = next((row for row in report.attachments.all() if row.pk == attachment_id), None)
    if item is None or stored is None:
        raise Http404
    response = FileResponse(
        stored.file.open("rb"), content_type=item.content_type, as_attachment=True, filename=item.name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # A streamed file, not an HttpResponse: the console's guard passes any response through.
    return cast(HttpResponse, response)


urlpatterns: list[URLPattern] = [
    path("laporan/<str:tracking_id>/", report_page, name="report"),
    path("laporan/<str:tracking_id>/lampiran/<int:attachment_id>/", report_attachment, name="report_attachment"),
    path("laporan/<str:tracking_id>/instansi/", report_institutions, name="report_institutions"),
    *[
        path(f"laporan/<str:tracking_id>/{panel.slug}/", _action_view(panel), name=f"report_{panel.name}")
        for panel in PANELS
    ],
]
