"""The report workflow as data: one table of transitions that the services consult and the tests are
generated from.

Each row says which action may be taken from which statuses, by whom (the actor's capacity on that
report), which status follows (``None``: the status does not change; ``RESUME``: the status the report
had before it was paused) and which clocks start and stop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from lapor.reports.choices import OPEN_STATUSES, Action, Actor, Clock, Status

A = Actor
S = Status

# Marks a transition that returns the report to the status it had before it was paused.
RESUME = "resume"

STAFF_WHO_VERIFY = frozenset({A.NATIONAL_ADMIN, A.COORDINATOR})
STAFF_WHO_ANSWER = frozenset({A.COORDINATOR, A.UNIT_OFFICER})
INSTITUTION_STAFF = frozenset({A.NATIONAL_ADMIN, A.COORDINATOR, A.UNIT_OFFICER, A.COPY_HOLDER, A.OVERSIGHT})
BEFORE_DISPATCH = frozenset({S.SUBMITTED, S.RETURNED})
WITH_INSTITUTION = frozenset({S.DISPATCHED, S.IN_PROGRESS})
INSTITUTION_CLOCKS = frozenset({Clock.VERIFY_DISPATCH, Clock.FIRST_FOLLOW_UP, Clock.RESOLUTION, Clock.OVERALL})
ALL_CLOCKS = frozenset(Clock)
# What the public may see: verified and dispatched (confidential reports are excluded by the access layer).
PUBLISHED = frozenset({S.DISPATCHED, S.IN_PROGRESS, S.COMPLETED, S.CLOSED, S.REFERRED, S.RETURNED})


@dataclasses.dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[Status]
    actors: frozenset[Actor]
    target: Status | str | None
    starts: frozenset[Clock] = frozenset()
    stops: frozenset[Clock] = frozenset()
    pauses: bool = False  # the institution's clocks stop while the report waits
    unpauses: bool = False

    def next_status(self, current: Status, resume_status: Status | None) -> Status:
        if self.target is None:
            return current
        if self.target == RESUME:
            return resume_status or Status.SUBMITTED
        return Status(self.target)


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        Action.SUBMIT,
        frozenset(),
        frozenset({A.REPORTER, A.SYSTEM}),
        S.SUBMITTED,
        starts=frozenset({Clock.VERIFY_DISPATCH, Clock.OVERALL}),
    ),
    Transition(
        Action.REQUEST_INFORMATION,
        frozenset({S.SUBMITTED, S.RETURNED, S.DISPATCHED, S.IN_PROGRESS}),
        frozenset({A.NATIONAL_ADMIN, A.COORDINATOR, A.UNIT_OFFICER}),
        S.AWAITING_INFORMATION,
        starts=frozenset({Clock.INFORMATION_REPLY}),
        pauses=True,
    ),
    Transition(
        Action.PROVIDE_INFORMATION,
        frozenset({S.AWAITING_INFORMATION}),
        frozenset({A.REPORTER}),
        RESUME,
        stops=frozenset({Clock.INFORMATION_REPLY}),
        unpauses=True,
    ),
    Transition(
        Action.HOLD,
        frozenset({S.SUBMITTED, S.RETURNED, S.DISPATCHED, S.IN_PROGRESS}),
        STAFF_WHO_VERIFY,
        S.ON_HOLD,
        pauses=True,
    ),
    Transition(Action.RESUME, frozenset({S.ON_HOLD}), frozenset({*STAFF_WHO_VERIFY, A.SYSTEM}), RESUME, unpauses=True),
    Transition(
        Action.ARCHIVE,
        frozenset({S.SUBMITTED, S.RETURNED, S.ON_HOLD, S.AWAITING_INFORMATION}),
        frozenset({*STAFF_WHO_VERIFY, A.SYSTEM}),
        S.ARCHIVED,
        stops=ALL_CLOCKS,
    ),
    Transition(
        Action.APPEAL,
        frozenset({S.ARCHIVED}),
        frozenset({A.REPORTER}),
        S.SUBMITTED,
        starts=frozenset({Clock.VERIFY_DISPATCH, Clock.OVERALL}),
    ),
    Transition(
        Action.RESUBMIT,
        frozenset({S.ARCHIVED}),
        frozenset({A.REPORTER}),
        S.SUBMITTED,
        starts=frozenset({Clock.VERIFY_DISPATCH, Clock.OVERALL}),
    ),
    Transition(
        Action.DISPATCH,
        BEFORE_DISPATCH,
        STAFF_WHO_VERIFY,
        S.DISPATCHED,
        starts=frozenset({Clock.FIRST_FOLLOW_UP, Clock.RESOLUTION}),
        stops=frozenset({Clock.VERIFY_DISPATCH}),
    ),
    Transition(Action.FORWARD, WITH_INSTITUTION, frozenset({A.COORDINATOR}), None),
    Transition(
        Action.RETURN_TO_DISPATCHER,
        WITH_INSTITUTION,
        STAFF_WHO_ANSWER,
        None,  # the service decides: a unit hands back to its coordinator, an institution to its dispatcher
    ),
    Transition(
        Action.FOLLOW_UP,
        WITH_INSTITUTION,
        STAFF_WHO_ANSWER,
        S.IN_PROGRESS,
        stops=frozenset({Clock.FIRST_FOLLOW_UP}),
    ),
    Transition(
        Action.FOLLOW_UP_FINAL,
        WITH_INSTITUTION,
        STAFF_WHO_ANSWER,
        S.COMPLETED,
        starts=frozenset({Clock.REPORTER_REPLY}),
        stops=frozenset({Clock.FIRST_FOLLOW_UP, Clock.RESOLUTION}),
    ),
    Transition(
        Action.CONFIRM,
        frozenset({S.COMPLETED}),
        frozenset({A.REPORTER}),
        S.CLOSED,
        stops=ALL_CLOCKS,
    ),
    Transition(
        Action.DISPUTE,
        frozenset({S.COMPLETED}),
        frozenset({A.REPORTER}),
        S.IN_PROGRESS,
        starts=frozenset({Clock.RESOLUTION}),
        stops=frozenset({Clock.REPORTER_REPLY}),
    ),
    Transition(Action.RATE, frozenset({S.COMPLETED, S.CLOSED}), frozenset({A.REPORTER}), None),
    Transition(
        Action.DEEM_COMPLETE,
        frozenset({S.COMPLETED}),
        frozenset({A.SYSTEM}),
        S.CLOSED,
        stops=ALL_CLOCKS,
    ),
    Transition(
        Action.MERGE,
        frozenset(OPEN_STATUSES - {S.COMPLETED}),
        STAFF_WHO_VERIFY,
        S.MERGED,
        stops=ALL_CLOCKS,
    ),
    Transition(
        Action.REFER,
        frozenset(OPEN_STATUSES),
        frozenset({A.REPORTER}),
        S.REFERRED,
        stops=ALL_CLOCKS,
    ),
    Transition(
        Action.COMMENT,
        PUBLISHED,
        frozenset({A.REPORTER, A.PUBLIC, *INSTITUTION_STAFF}),
        None,
    ),
    Transition(Action.NOTE, frozenset(Status), INSTITUTION_STAFF, None),
    Transition(
        Action.REDACT,
        frozenset(Status),
        frozenset({A.NATIONAL_ADMIN, A.COORDINATOR, A.UNIT_OFFICER}),
        None,
    ),
    # A report filed as a guest joins the account that proved the guest's e-mail address or phone
    # (services.report_claim_by_contact finds the reports by that contact, in whatever status): the
    # account becomes the reporter; no status changes and no clock moves.
    Transition(Action.CLAIM, frozenset(Status), frozenset({A.REPORTER}), None),
    # Events the timers write; they change no status.
    Transition(Action.REMIND, frozenset({S.AWAITING_INFORMATION}), frozenset({A.SYSTEM}), None),
    Transition(Action.WARN, frozenset(OPEN_STATUSES), frozenset({A.SYSTEM}), None),
    Transition(Action.ESCALATE, frozenset(OPEN_STATUSES), frozenset({A.SYSTEM}), None),
)

_BY_ACTION = {transition.action: transition for transition in TRANSITIONS}
assert len(_BY_ACTION) == len(TRANSITIONS), "one row per action"


def transition_for(action: Action) -> Transition:
    return _BY_ACTION[action]


def is_allowed(action: Action, status: Status | None, actor: Actor) -> bool:
    transition = _BY_ACTION[action]
    if action == Action.SUBMIT:
        return status is None and actor in transition.actors
    return status in transition.sources and actor in transition.actors


def allowed_actions(status: Status, actors: frozenset[Actor]) -> list[Action]:
    """What the given capacities may do to a report in ``status`` (for faces to offer buttons)."""
    return [
        transition.action
        for transition in TRANSITIONS
        if transition.action != Action.SUBMIT and status in transition.sources and actors & transition.actors
    ]


def every_case() -> Iterator[tuple[Action, Status | None, Actor, bool]]:
    """Every (action, status, actor) combination with whether the table allows it (for the tests)."""
    for transition in TRANSITIONS:
        statuses: list[Status | None] = [None, *Status] if transition.action == Action.SUBMIT else list(Status)
        for status in statuses:
            for actor in Actor:
                yield transition.action, status, actor, is_allowed(transition.action, status, actor)
