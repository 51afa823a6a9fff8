"""The words of each notification: what happened, what the status is now, what the next deadline is,
and what the reader can do, in the reader's language, rendered from small templates.

Two audiences, two rules:

- The reporter reads what concerns their report: the status, the reason, the question, the answer,
  the deadline. Never an internal note (an event visible to staff only contributes no text).
- Staff read the report's public title and tracking ID, never who filed it. When the report is
  anonymous every staff message is also scrubbed of the reporter's name, e-mail and phone and of
  anything that looks like contact data, so that free text written by someone who knew cannot leak it.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import dateformat, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from lapor.core.ids import format_tracking_id
from lapor.institutions.models import Institution
from lapor.notifications.choices import Audience, NotificationChannel
from lapor.notifications.drafts import SUBJECT_LENGTH, one_line, tidy
from lapor.regions.timezones import ZONE_LABELS
from lapor.reports.access import Seat, members_know_reporter, reporter_contact_values
from lapor.reports.choices import INTERNAL_NOTE_KEY, Action, Actor, ArchiveReason, Clock, Status, Visibility
from lapor.reports.models import Report, ReportClock, ReportEvent
from lapor.reports.notices.recipients import (
    Recipient,
    event_links,
    privacy_change,
    reporter_acknowledgement_recipients,
    reporter_hears_of,
    reporter_recipient,
    staff_hear_of,
    staff_recipients,
)
from lapor.reports.privacy import MASK, mask_personal_data

SMS_LENGTH = 160
# Below this many characters a cut message says nothing; better to send a longer (multi-part) SMS.
SMS_MINIMUM_MESSAGE_ROOM = 40
SMS_LONG_MESSAGE = 120
# Shorter strings (a one-letter name) would mask ordinary words everywhere in the message.
MINIMUM_IDENTITY_LENGTH = 3
ELLIPSIS = "..."  # three dots, not "…": one non-GSM character would halve what an SMS can hold

# The deadlines that matter next, by the status the report is in (the earliest running one is shown).
STAFF_CLOCKS: dict[str, tuple[Clock, ...]] = {
    Status.SUBMITTED: (Clock.VERIFY_DISPATCH,),
    Status.RETURNED: (Clock.VERIFY_DISPATCH,),
    Status.DISPATCHED: (Clock.FIRST_FOLLOW_UP, Clock.RESOLUTION),
    Status.IN_PROGRESS: (Clock.RESOLUTION,),
}
REPORTER_CLOCKS: dict[str, tuple[Clock, ...]] = {
    **STAFF_CLOCKS,
    Status.AWAITING_INFORMATION: (Clock.INFORMATION_REPLY,),
    Status.COMPLETED: (Clock.REPORTER_REPLY,),
}


@dataclasses.dataclass(frozen=True)
class Draft:
    recipient: Recipient
    subject: str
    body: str


@dataclasses.dataclass
class EventFacts:
    """What every message about one event needs, read once for all its recipients."""

    event: ReportEvent
    report: Report
    # The reporter's private link, known only when the report is filed (never stored with the event).
    reporter_link: str = ""

    @functools.cached_property
    def running_clocks(self) -> dict[str, ReportClock]:
        """The report's running clocks, read when a message shows a deadline (not all do)."""
        return {clock.clock: clock for clock in self.report.clocks.filter(stopped_at__isnull=True)}

    @property
    def details(self) -> dict[str, Any]:
        return self.event.details if isinstance(self.event.details, dict) else {}

    @property
    def tracking_id(self) -> str:
        return format_tracking_id(self.report.tracking_id)

    @functools.cached_property
    def internal_note(self) -> str:
        """The staff-only note written with a dispatch or forward (empty without one): read once for
        all the staff it tells."""
        sequence = self.details.get(INTERNAL_NOTE_KEY)
        if not isinstance(sequence, int):
            return ""
        note = (
            ReportEvent.objects.filter(report_id=self.event.report_id, sequence=sequence, visibility=Visibility.STAFF)
            .values_list("message", flat=True)
            .first()
        )
        return note or ""

    @functools.cached_property
    def returning_institutions(self) -> str:
        """Who said "not our authority": the units, or the institution, named in the event."""
        ids = self.details.get("units") or [self.details.get("returned_by")]
        wanted = [value for value in ids if isinstance(value, int)]
        names = Institution.objects.filter(pk__in=wanted).order_by("path").values_list("name", flat=True)
        return ", ".join(names)


def drafts_for_event(
    event: ReportEvent,
    report: Report | None = None,
    running_clocks: Iterable[ReportClock] | None = None,
    reporter_link: str = "",
    *,
    new_event: bool = False,
) -> list[Draft]:
    """Every message ``event`` calls for, ready to be written to the outbox. ``report``: the event's
    report as the caller's transaction has just saved it, with its reporter and owner (else read);
    ``running_clocks``: all its running clocks, when the caller knows them (else read if needed);
    ``new_event``: the caller's transaction has just written the event, so that the forwards and
    copies it names still hold."""
    tell_reporter, tell_staff = reporter_hears_of(event), staff_hear_of(event)
    if not (tell_reporter or tell_staff):
        return []
    if report is None or report.pk != event.report_id:
        report = Report.objects.select_related("reporter", "owner").get(pk=event.report_id)
    facts = EventFacts(event=event, report=report, reporter_link=reporter_link)
    if running_clocks is not None:
        facts.__dict__["running_clocks"] = {clock.clock: clock for clock in running_clocks}
    drafts: list[Draft] = []
    if tell_reporter:
        reporters = (
            reporter_acknowledgement_recipients(report)
            if event.action == Action.SUBMIT
            else [reporter for reporter in [reporter_recipient(report)] if reporter is not None]
        )
        drafts.extend(_compose(facts, reporter, _reporter_context, mask_reporter=False) for reporter in reporters)
    if tell_staff:
        staff = staff_recipients(event, report)
        knowing = _staff_knowing_reporter(facts, staff, new_event=new_event)
        drafts.extend(
            _compose(facts, recipient, _staff_context, mask_reporter=not knows)
            for recipient, knows in zip(staff, knowing, strict=True)
        )
    return drafts


def _staff_knowing_reporter(facts: EventFacts, staff: list[Recipient], *, new_event: bool) -> list[bool]:
    """Whether each staff recipient may know who filed the report: the reach table asked with the
    membership that made them a recipient, which settles it for most with no query of their own."""
    assigned, copied = event_links(facts.event) if new_event else ([], [])
    members = [
        (
            recipient.user,
            Seat(recipient.institution.pk, recipient.institution.path, recipient.role, recipient.institution.kind)
            if recipient.institution is not None and recipient.role
            else None,
        )
        for recipient in staff
        if recipient.user is not None
    ]
    known = iter(members_know_reporter(facts.report, members, assigned=assigned, copied=copied))
    # Someone with no account is no one the table knows: they read the masked text.
    return [next(known) if recipient.user is not None else False for recipient in staff]


def _compose(
    facts: EventFacts,
    recipient: Recipient,
    build: Callable[[EventFacts, Recipient], dict[str, Any]],
    *,
    mask_reporter: bool,
) -> Draft:
    with translation.override(recipient.language):
        context = build(facts, recipient)
        folder = "reporter" if recipient.audience == Audience.REPORTER else "staff"
        if recipient.channel == NotificationChannel.SMS:
            subject, body = "", _render_sms(context)
        else:
            subject = one_line(render_to_string(f"reports/notices/{folder}/subject.txt", context))[:SUBJECT_LENGTH]
            body = tidy(render_to_string(f"reports/notices/{folder}/email.txt", context))
    # Staff who may not know the reporter (an anonymous report, a copy holder) read no trace of them.
    if mask_reporter:
        subject, body = scrub_identity(subject, facts.report), scrub_identity(body, facts.report)
    return Draft(recipient=recipient, subject=subject, body=body)


# --- text helpers ------------------------------------------------------------------------------------


def _shorten(text: str, limit: int) -> str:
    flat = one_line(text)
    if len(flat) <= limit:
        return flat
    return flat[: max(limit - len(ELLIPSIS), 0)].rstrip() + ELLIPSIS


def _render_sms(context: dict[str, Any]) -> str:
    """One line, under 160 characters where the message leaves room: the free text is what gets cut."""
    message = context.get("message", "")
    frame = one_line(render_to_string("reports/notices/sms.txt", {**context, "message": ""}))
    if not message:
        return frame
    room = SMS_LENGTH - len(frame) - 1
    limit = room if room >= SMS_MINIMUM_MESSAGE_ROOM else SMS_LONG_MESSAGE
    return one_line(render_to_string("reports/notices/sms.txt", {**context, "message": _shorten(message, limit)}))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Jakarta")


def format_deadline(moment: datetime, zone: str, *, short: bool = False) -> str:
    """A deadline as people read it where the report is: "Rabu, 2 Desember 2026 23.59 WIB"."""
    if short:
        pattern = pgettext("short date and time of a deadline (Django date format)", "j M Y H:i")
    else:
        pattern = pgettext("date and time of a deadline (Django date format)", "l j F Y, H:i")
    return f"{dateformat.format(moment.astimezone(_zone(zone)), pattern)} {ZONE_LABELS.get(zone, zone)}"


def format_day(day: date) -> str:
    return dateformat.format(day, pgettext("a date in a message (Django date format)", "l j F Y"))


def _next_clock(facts: EventFacts, clocks: Iterable[Clock]) -> ReportClock | None:
    running = [facts.running_clocks[clock] for clock in clocks if clock in facts.running_clocks]
    running = [clock for clock in running if clock.paused_at is None]
    return min(running, key=lambda clock: clock.due_at, default=None)


def _deadline_texts(facts: EventFacts, clock: ReportClock | None, purpose: str) -> tuple[str, str]:
    if clock is None:
        return "", ""
    zone = facts.report.time_zone
    if facts.event.action == Action.ESCALATE:
        pattern = _("Missed deadline: %(deadline)s (%(purpose)s)")
    else:
        pattern = _("Next deadline: %(deadline)s (%(purpose)s)")
    full = pattern % {
        "deadline": format_deadline(clock.due_at, zone),
        "purpose": purpose,
    }
    return full, format_deadline(clock.due_at, zone, short=True)


def _status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else value


def _common(facts: EventFacts) -> dict[str, Any]:
    return {
        "tracking_id": facts.tracking_id,
        "status": _status_label(facts.event.to_status or facts.report.status),
        "site_url": getattr(settings, "SITE_URL", ""),
    }


# --- the reporter --------------------------------------------------------------------------------------


def _reporter_purpose(clock: Clock) -> str:
    return {
        Clock.VERIFY_DISPATCH: _("verification and dispatch of your report"),
        Clock.FIRST_FOLLOW_UP: _("the institution's first follow-up"),
        Clock.RESOLUTION: _("resolution by the institution"),
        Clock.INFORMATION_REPLY: _("your answer with the missing details"),
        Clock.REPORTER_REPLY: _("your reply to the result"),
    }.get(clock, str(clock.label))


def _latest_question(facts: EventFacts) -> str:
    request = (
        ReportEvent.objects.filter(report=facts.report, action=Action.REQUEST_INFORMATION)
        .exclude(visibility=Visibility.STAFF)
        .order_by("-sequence")
        .first()
    )
    return request.message if request is not None else ""


def _reporter_message(facts: EventFacts) -> tuple[str, str]:
    """The free text of the event that the reporter may read, with its label."""
    event = facts.event
    if event.action == Action.REMIND:
        return _("Question"), event.message or _latest_question(facts)
    # What staff write only for staff, and what the reporter wrote themselves, is not repeated to them.
    if event.visibility == Visibility.STAFF or event.actor_role == Actor.REPORTER or not event.message:
        return "", ""
    labels = {
        Action.REQUEST_INFORMATION: _("Question"),
        Action.FOLLOW_UP: _("Follow-up"),
        Action.FOLLOW_UP_FINAL: _("Follow-up"),
        Action.ARCHIVE: _("Explanation"),
        Action.HOLD: _("Reason"),
        Action.RETURN_TO_DISPATCHER: _("Reason"),
        Action.DISPATCH: _("Message to you"),
        Action.FORWARD: _("Message to you"),
    }
    return labels.get(Action(event.action), _("Note")), event.message


@dataclasses.dataclass(frozen=True)
class Story:
    headline: str  # the subject line and the start of an SMS
    explanation: str  # what happened
    next_steps: str = ""  # what the reader can do now


def _rate_hint(report: Report) -> str:
    return _("You can also rate how your report was handled.") if report.rating is None else ""


def _answer_hint() -> str:
    return _("Please answer the question before the deadline, or the report may be archived.")


def _story_submit(facts: EventFacts) -> Story:
    return Story(
        _("Report received"),
        _(
            "Thank you. Your report has been received. It will be verified and sent to the institution "
            "with authority over it. Keep the tracking ID: it lets you follow the report."
        ),
    )


def _story_request_information(facts: EventFacts) -> Story:
    return Story(
        _("Details needed"),
        _("To handle your report we need more details from you. The institution's deadlines wait for your answer."),
        _answer_hint(),
    )


def _story_remind(facts: EventFacts) -> Story:
    return Story(
        _("Reminder: details needed"), _("We are still waiting for the details we asked you for."), _answer_hint()
    )


def _story_provide_information(facts: EventFacts) -> Story:
    return Story(_("Details received"), _("Thank you for the details. Your report is being handled again."))


def _story_hold(facts: EventFacts) -> Story:
    resume_on = facts.report.hold_until
    if resume_on is None:
        return Story(_("Report on hold"), _("Your report has been put on hold."))
    return Story(
        _("Report on hold"),
        _("Your report has been put on hold until %(date)s.") % {"date": format_day(resume_on)},
    )


def _story_resume(facts: EventFacts) -> Story:
    return Story(_("Handling resumed"), _("Your report is being handled again."))


def _story_archive(facts: EventFacts) -> Story:
    reason = str(facts.details.get("reason", ""))
    label = str(ArchiveReason(reason).label) if reason in ArchiveReason.values else reason
    return Story(
        _("Report archived"),
        _("Your report has been archived. Reason: %(reason)s.") % {"reason": label},
        _(
            "If you disagree, you can appeal the archive, or correct the report and submit it again, "
            "from your report page."
        ),
    )


def _story_appeal(facts: EventFacts) -> Story:
    return Story(_("Report back in verification"), _("Your report will be verified again."))


def _story_dispatch(facts: EventFacts) -> Story:
    institution = facts.report.owner.name
    return Story(
        _("Dispatched to %(institution)s") % {"institution": institution},
        _("Your report has been verified and sent to %(institution)s, which must follow it up.")
        % {"institution": institution},
    )


def _story_forward(facts: EventFacts) -> Story:
    institution = facts.report.owner.name
    return Story(
        _("Sent on within %(institution)s") % {"institution": institution},
        _("%(institution)s has sent your report on to the unit that will follow it up.") % {"institution": institution},
    )


def _story_return(facts: EventFacts) -> Story:
    return Story(
        _("Being sent to the right institution"),
        _(
            "The institution said that your report is not within its authority. It is being sent to the "
            "institution that has authority: no report is left without one."
        ),
    )


def _story_follow_up(facts: EventFacts) -> Story:
    return Story(_("Progress update"), _("The institution has sent a progress update on your report."))


def _story_follow_up_final(facts: EventFacts) -> Story:
    reply = _(
        "Please reply: confirm the result if the problem is solved, or dispute it if it is not. "
        "Without a reply before the deadline the report is closed as deemed complete."
    )
    return Story(
        _("Answer received: please reply"),
        _("The institution reports that it has finished handling your report."),
        f"{reply} {_rate_hint(facts.report)}".strip(),
    )


def _story_confirm(facts: EventFacts) -> Story:
    return Story(
        _("Report closed"), _("Thank you for confirming the result. Your report is closed."), _rate_hint(facts.report)
    )


def _story_dispute(facts: EventFacts) -> Story:
    return Story(
        _("Dispute received"), _("Your dispute has been sent to the institution, which must handle the report again.")
    )


def _story_deem_complete(facts: EventFacts) -> Story:
    return Story(
        _("Report closed without your reply"),
        _(
            "No reply came within the reply window, so your report has been closed as deemed complete. "
            "It is counted apart from reports that their reporters confirmed."
        ),
        _rate_hint(facts.report),
    )


def _story_merge(facts: EventFacts) -> Story:
    survivor = format_tracking_id(str(facts.details.get("into", "")))
    return Story(
        _("Merged into report %(tracking_id)s") % {"tracking_id": survivor},
        _(
            "Your report is about the same problem as report %(tracking_id)s and has been merged into it. "
            "You now follow that report and will hear of what happens to it."
        )
        % {"tracking_id": survivor},
    )


def _story_refer(facts: EventFacts) -> Story:
    institution = facts.report.owner.name
    return Story(
        _("Referred to %(institution)s") % {"institution": institution},
        _("Your report has been referred to %(institution)s, which will follow it up.") % {"institution": institution},
    )


def _story_privacy(facts: EventFacts) -> Story:
    flags = privacy_change(facts.event) or {}
    who = (
        _("The institutions handling your report cannot see who you are.")
        if flags.get("is_anonymous")
        else _("The institutions handling your report can now see your name and contact details.")
    )
    published = (
        _("Your report is not published.")
        if flags.get("is_confidential")
        else _("Your report is published, with phone numbers, e-mail addresses and ID numbers hidden.")
    )
    return Story(_("Who may see your report has changed"), f"{who} {published}")


def _story_status_change(facts: EventFacts) -> Story:
    return Story(_("Status changed"), _("The status of your report has changed."))


_REPORTER_STORIES: dict[str, Callable[[EventFacts], Story]] = {
    Action.SUBMIT: _story_submit,
    Action.REQUEST_INFORMATION: _story_request_information,
    Action.REMIND: _story_remind,
    Action.PROVIDE_INFORMATION: _story_provide_information,
    Action.HOLD: _story_hold,
    Action.RESUME: _story_resume,
    Action.ARCHIVE: _story_archive,
    Action.APPEAL: _story_appeal,
    Action.RESUBMIT: _story_appeal,
    Action.DISPATCH: _story_dispatch,
    Action.FORWARD: _story_forward,
    Action.RETURN_TO_DISPATCHER: _story_return,
    Action.FOLLOW_UP: _story_follow_up,
    Action.FOLLOW_UP_FINAL: _story_follow_up_final,
    Action.CONFIRM: _story_confirm,
    Action.DISPUTE: _story_dispute,
    Action.DEEM_COMPLETE: _story_deem_complete,
    Action.MERGE: _story_merge,
    Action.REFER: _story_refer,
    Action.REDACT: _story_privacy,
}


def _reporter_context(facts: EventFacts, recipient: Recipient) -> dict[str, Any]:
    story = _REPORTER_STORIES.get(facts.event.action, _story_status_change)(facts)
    message_label, message = _reporter_message(facts)
    status = facts.event.to_status or facts.report.status
    clock = _next_clock(facts, REPORTER_CLOCKS.get(status, ()))
    deadline, deadline_short = _deadline_texts(facts, clock, _reporter_purpose(Clock(clock.clock)) if clock else "")
    return {
        **_common(facts),
        "greeting": _("Dear %(name)s,") % {"name": recipient.name} if recipient.name else _("Hello,"),
        "headline": story.headline,
        "explanation": story.explanation,
        "next_steps": story.next_steps,
        "title": facts.report.title,
        "message_label": message_label,
        "message": message,
        "deadline": deadline,
        "deadline_short": deadline_short,
        "reporter_link": facts.reporter_link,
    }


# --- staff -------------------------------------------------------------------------------------------


def _staff_story(facts: EventFacts, recipient: Recipient) -> tuple[str, str]:
    event, report, details = facts.event, facts.report, facts.details
    action = Action(event.action)
    here = recipient.institution.name if recipient.institution is not None else report.owner.name
    copied = recipient.institution is not None and recipient.institution.pk in _copy_ids(details)
    if action == Action.DISPATCH and copied:
        return (
            _("Copy of a report for %(institution)s") % {"institution": here},
            _(
                "A report handled by %(owner)s has been copied to %(institution)s for your information. You may "
                "read it and comment on it; %(owner)s is responsible for the follow-up."
            )
            % {"institution": here, "owner": report.owner.name},
        )
    if action == Action.DISPATCH:
        return (
            _("New report for %(institution)s") % {"institution": here},
            _("A report has been dispatched to %(institution)s. Follow it up before the deadline.")
            % {"institution": here},
        )
    if action == Action.FORWARD:
        return (
            _("Report forwarded to %(unit)s") % {"unit": here},
            _("The coordinator has forwarded a report to %(unit)s. Write the follow-up before the deadline.")
            % {"unit": here},
        )
    if action == Action.RETURN_TO_DISPATCHER:
        returning = facts.returning_institutions or report.owner.name
        return (
            _("Report returned by %(institution)s") % {"institution": returning},
            _("%(institution)s says the report is not within its authority. Route it again.")
            % {"institution": returning},
        )
    clock_name = str(details.get("clock", ""))
    clock_label = str(Clock(clock_name).label) if clock_name in Clock.values else clock_name
    if action == Action.WARN:
        return (
            _("Deadline approaching: %(clock)s") % {"clock": clock_label},
            _("Most of the time for this step has been used (%(clock)s).") % {"clock": clock_label},
        )
    level = details.get("level")
    explanation = _("The deadline for this step has passed (%(clock)s).") % {"clock": clock_label}
    if isinstance(level, int):
        explanation += " " + _("Escalation level %(level)d.") % {"level": level}
    return _("Overdue: %(clock)s") % {"clock": clock_label}, explanation


def _copy_ids(details: dict[str, Any]) -> set[int]:
    copies = details.get("copies")
    return {pk for pk in copies if isinstance(pk, int)} if isinstance(copies, list) else set()


def _staff_clock(facts: EventFacts) -> ReportClock | None:
    """For a warning or escalation, the clock it is about (by id, else by kind); otherwise the next one."""
    if facts.event.action not in (Action.WARN, Action.ESCALATE):
        return _next_clock(facts, STAFF_CLOCKS.get(facts.event.to_status or facts.report.status, ()))
    clock_id, clock_name = facts.details.get("clock_id"), facts.details.get("clock")
    by_id = {clock.pk: clock for clock in facts.running_clocks.values()}
    if isinstance(clock_id, int) and clock_id in by_id:
        return by_id[clock_id]
    if clock_name in Clock.values:
        named = facts.running_clocks.get(str(clock_name))
        return named or facts.report.clocks.filter(clock=clock_name).order_by("-started_at").first()
    return None


def _staff_context(facts: EventFacts, recipient: Recipient) -> dict[str, Any]:
    headline, explanation = _staff_story(facts, recipient)
    clock = _staff_clock(facts)
    deadline, deadline_short = _deadline_texts(facts, clock, str(Clock(clock.clock).label) if clock else "")
    message_label, message = _staff_message(facts)
    return {
        **_common(facts),
        "headline": headline,
        "explanation": explanation,
        # Never the reporter's own wording of the title: the public copy has contact data masked.
        "title": facts.report.public_title or MASK,
        "message_label": message_label if message else "",
        "message": message,
        "deadline": deadline,
        "deadline_short": deadline_short,
    }


def _staff_message(facts: EventFacts) -> tuple[str, str]:
    """The free text staff read with the event: for a dispatch or forward, the internal note written
    with it (an event of its own, visible to staff only), else what the reporter was told."""
    event = facts.event
    if event.action == Action.RETURN_TO_DISPATCHER:
        return _("Reason"), event.message
    if event.action in (Action.DISPATCH, Action.FORWARD) and facts.internal_note:
        return _("Internal note"), facts.internal_note
    if event.action in (Action.DISPATCH, Action.FORWARD):
        return _("Message to the reporter"), event.message
    return _("Note"), event.message


def _identity_of(report: Report) -> list[str]:
    names, emails, phones = reporter_contact_values(report)
    values = {*names, *emails, *phones}
    for phone in phones:
        digits = re.sub(r"\D", "", phone)
        national = digits[2:] if digits.startswith("62") else digits.lstrip("0")
        values |= {digits, "+62" + national, "62" + national, "0" + national}
    # Longest first, so that a phone number is masked whole before a shorter form of it is looked for.
    return sorted((value for value in values if len(value) >= MINIMUM_IDENTITY_LENGTH), key=len, reverse=True)


def scrub_identity(text: str, report: Report) -> str:
    """The text with the reporter's name, e-mail and phone, and anything shaped like contact data, masked."""
    for value in _identity_of(report):
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", MASK, text, flags=re.IGNORECASE)
    return mask_personal_data(text)
