"""Routing a report to the institution with authority: dispatch with copies, internal forwarding to
units, handing back ("not our authority") and merging duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lapor.accounts.models import User
from lapor.institutions.models import Institution
from lapor.institutions.selectors import institution_subtree
from lapor.reports import deadlines
from lapor.reports.access import capacities
from lapor.reports.choices import INTERNAL_NOTE_KEY, Action, Actor, ReportWeight, Visibility
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report, ReportAssignment, ReportCopy, ReportEvent, ReportSupport
from lapor.reports.services.kernel import (
    MAX_BODY,
    Done,
    act,
    locked,
    move,
    reason_text,
    record,
    require_national_institution,
    save_changes,
)
from lapor.reports.services.privacy import change_privacy
from lapor.reports.workflow import INSTITUTION_HANDS_BACK, UNIT_HANDS_BACK


def _check_dispatch_target(capacity: Actor, user: User, report: Report, institution: Institution) -> None:
    if not institution.is_active:
        raise ReportError(ReportErrorCode.INVALID_TARGET, _("Choose an active institution."), field="institution")
    if capacity == Actor.COORDINATOR and not institution.path.startswith(report.owner.path):
        raise ReportError(
            ReportErrorCode.INVALID_TARGET,
            _("A coordinator dispatches only within its own institution."),
            field="institution",
        )


@transaction.atomic
def report_dispatch(
    *,
    user: User,
    report: Report,
    institution: Institution,
    weight: str = ReportWeight.NORMATIVE,
    copies: Sequence[Institution] = (),
    note: str = "",
    message: str = "",
    make_anonymous: bool = False,
    make_confidential: bool = False,
) -> Done:
    """Verify and dispatch (disposisi) to the institution with authority, with optional copies.

    ``note`` is for staff only (an internal note beside the dispatch); ``message`` is what the reporter
    reads, in their notification and on their report page. ``make_anonymous`` / ``make_confidential``
    may only add privacy, and do so as `report_set_privacy` does (its own event; the reporter is told):
    a dispatch never makes a report less private, whatever its form sends."""
    report = locked(report)
    capacity = act(user, report, Action.DISPATCH)
    _check_dispatch_target(capacity, user, report, institution)
    if weight not in ReportWeight.values:
        raise ReportError(ReportErrorCode.INVALID, _("Choose the weight of the report."), field="weight")
    if (make_anonymous and not report.is_anonymous) or (make_confidential and not report.is_confidential):
        change_privacy(
            report,
            user=user,
            is_anonymous=report.is_anonymous or make_anonymous,
            is_confidential=report.is_confidential or make_confidential,
            note="",
        )
    dispatcher = report.owner
    report.weight = weight
    internal = _internal_note(report, user=user, capacity=capacity, note=note)
    report.owner = institution
    report.dispatched_by = dispatcher
    now = timezone.now()
    report.dispatched_at = now
    ReportAssignment.objects.filter(report=report, is_active=True).update(is_active=False)
    before = move(
        report, Action.DISPATCH, capacity, at=now, calendar=deadlines.new_calendar(), clock_institution=institution
    )
    save_changes(report)
    copy_ids = []
    for holder in copies:
        if holder.pk != institution.pk and holder.is_active:
            ReportCopy.objects.get_or_create(report=report, institution=holder)
            copy_ids.append(holder.pk)
    details: dict[str, Any] = {"to": institution.pk, "from": dispatcher.pk, "weight": weight, "copies": copy_ids}
    if internal is not None:
        details[INTERNAL_NOTE_KEY] = internal.sequence
    event = record(
        report,
        action=Action.DISPATCH,
        capacity=capacity,
        user=user,
        from_status=before,
        message=message.strip(),
        details=details,
    )
    return Done(report, event)


def _internal_note(report: Report, *, user: User, capacity: Actor, note: str) -> ReportEvent | None:
    """What staff wrote for staff beside a dispatch or forward: a note event of its own, visible to
    staff only, so that it can never reach the reporter by the event the reporter reads."""
    text = note.strip()
    if not text:
        return None
    if len(text) > MAX_BODY:
        raise ReportError(ReportErrorCode.INVALID, _("The text is too long."), field="note")
    return record(
        report,
        action=Action.NOTE,
        capacity=capacity,
        user=user,
        from_status=report.status,
        message=text,
        visibility=Visibility.STAFF,
    )


@transaction.atomic
def report_forward(
    *, user: User, report: Report, units: Sequence[Institution], note: str = "", message: str = ""
) -> Done:
    """A coordinator forwards (disposisi internal) the report to one or more units below it.
    ``note`` is for staff only; ``message``, when given, is what the reporter reads (and is told)."""
    report = locked(report)
    capacity = act(user, report, Action.FORWARD)
    if not units:
        raise ReportError(ReportErrorCode.INVALID_TARGET, _("Choose at least one unit."), field="units")
    allowed = set(
        institution_subtree(report.owner)
        .filter(pk__in=[unit.pk for unit in units], is_active=True)
        .values_list("pk", flat=True)
    )
    if len(allowed) != len({unit.pk for unit in units}):
        raise ReportError(
            ReportErrorCode.INVALID_TARGET, _("Forward only to active units of the owning institution."), field="units"
        )
    internal = _internal_note(report, user=user, capacity=capacity, note=note)
    for unit in units:
        if not ReportAssignment.objects.filter(report=report, unit=unit, is_active=True).exists():
            ReportAssignment.objects.create(report=report, unit=unit, assigned_by=user)
    before = report.status
    save_changes(report)
    details: dict[str, Any] = {"units": sorted(allowed)}
    if internal is not None:
        details[INTERNAL_NOTE_KEY] = internal.sequence
    event = record(
        report,
        action=Action.FORWARD,
        capacity=capacity,
        user=user,
        from_status=before,
        message=message.strip(),
        visibility=Visibility.PUBLIC,
        details=details,
    )
    return Done(report, event)


@transaction.atomic
def report_return(*, user: User, report: Report, reason: str) -> Done:
    """ "Not our authority". A unit hands the report back to its coordinator; an institution hands it
    back to whoever dispatched it, who must route it again. Either way the report keeps an owner."""
    report = locked(report)
    capacity = act(user, report, Action.RETURN_TO_DISPATCHER)
    reason = reason_text(reason)
    now = timezone.now()
    held = capacities(user, report)
    own_units = ReportAssignment.objects.filter(
        report=report, is_active=True, unit__memberships__user=user, unit__memberships__is_active=True
    )
    if capacity == Actor.UNIT_OFFICER and Actor.COORDINATOR not in held and own_units.exists():
        unit_ids = list(own_units.values_list("unit_id", flat=True))
        ReportAssignment.objects.filter(report=report, unit_id__in=unit_ids).update(is_active=False)
        before = move(
            report,
            Action.RETURN_TO_DISPATCHER,
            capacity,
            at=now,
            calendar=deadlines.new_calendar(),
            case=UNIT_HANDS_BACK,
        )
        save_changes(report)
        event = record(
            report,
            action=Action.RETURN_TO_DISPATCHER,
            capacity=capacity,
            user=user,
            from_status=before,
            message=reason,
            details={"returned_to": report.owner_id, "units": unit_ids},
        )
        return Done(report, event)
    returning = report.owner
    report.owner = report.dispatched_by or require_national_institution()
    ReportAssignment.objects.filter(report=report, is_active=True).update(is_active=False)
    # The verify-and-dispatch clock starts again with the budget of the institution that now holds it.
    before = move(
        report,
        Action.RETURN_TO_DISPATCHER,
        capacity,
        at=now,
        calendar=deadlines.new_calendar(),
        case=INSTITUTION_HANDS_BACK,
    )
    save_changes(report)
    event = record(
        report,
        action=Action.RETURN_TO_DISPATCHER,
        capacity=capacity,
        user=user,
        from_status=before,
        message=reason,
        details={"returned_by": returning.pk, "returned_to": report.owner_id},
        institution=returning,
    )
    return Done(report, event)


@transaction.atomic
def report_merge(*, user: User, report: Report, into: Report, note: str = "") -> Done:
    """Merge a duplicate into a surviving report; its reporter and supporters follow the survivor."""
    report = locked(report)
    survivor = locked(into)
    capacity = act(user, report, Action.MERGE)
    if survivor.pk == report.pk or not survivor.is_open or survivor.merged_into_id is not None:
        raise ReportError(ReportErrorCode.INVALID_TARGET, _("Merge into another open report."), field="into")
    if Actor.PUBLIC not in capacities(user, survivor) or not (
        capacities(user, survivor) & {Actor.NATIONAL_ADMIN, Actor.COORDINATOR}
    ):
        raise ReportError(ReportErrorCode.INVALID_TARGET, _("Merge into another open report."), field="into")
    now = timezone.now()
    before = move(report, Action.MERGE, capacity, at=now, calendar=deadlines.new_calendar())
    report.merged_into = survivor
    report.closed_at = now
    save_changes(report)
    followers = set(ReportSupport.objects.filter(report=report).values_list("user_id", flat=True))
    if report.reporter_id:
        followers.add(report.reporter_id)
    already = set(ReportSupport.objects.filter(report=survivor).values_list("user_id", flat=True))
    new_followers = followers - already - ({survivor.reporter_id} if survivor.reporter_id else set())
    ReportSupport.objects.bulk_create([ReportSupport(report=survivor, user_id=uid) for uid in new_followers])
    Report.objects.filter(pk=survivor.pk).update(support_count=F("support_count") + len(new_followers))
    event = record(
        report,
        action=Action.MERGE,
        capacity=capacity,
        user=user,
        from_status=before,
        message=note.strip(),
        details={"into": survivor.tracking_id, "followers": sorted(new_followers)},
    )
    record(
        survivor,
        action=Action.NOTE,
        capacity=capacity,
        user=user,
        from_status=survivor.status,
        visibility=Visibility.STAFF,
        message="",
        details={"merged_from": report.tracking_id},
    )
    return Done(report, event)
