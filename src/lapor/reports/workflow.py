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

# The cases of "Not our authority" (Action.RETURN_TO_DISPATCHER).
# A unit the report was forwarded to hands it back to its coordinator: the report stays with the institution.
UNIT_HANDS_BACK = "unit"
# The institution hands it back to whoever dispatched it, who must verify and route it again.
INSTITUTION_HANDS_BACK = "institution"

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
    case: str = ""  # tells apart the rows of one action

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
    # Only an officer acting for a unit the report was forwarded to (and not the owner's coordinator) hands
    # it back to the coordinator: the unit's assignment ends, nothing else changes.
    Transition(Action.RETURN_TO_DISPATCHER, WITH_INSTITUTION, frozenset({A.UNIT_OFFICER}), None, case=UNIT_HANDS_BACK),
    Transition(
        Action.RETURN_TO_DISPATCHER,
        WITH_INSTITUTION,
        STAFF_WHO_ANSWER,
        S.RETURNED,
        starts=frozenset({Clock.VERIFY_DISPATCH}),
        stops=INSTITUTION_CLOCKS - {Clock.OVERALL},
        case=INSTITUTION_HANDS_BACK,
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

_BY_ACTION: dict[Action, dict[str, Transition]] = {}
for _transition in TRANSITIONS:
    _BY_ACTION.setdefault(_transition.action, {})[_transition.case] = _transition
assert sum(map(len, _BY_ACTION.values())) == len(TRANSITIONS), "one row per action and case"
assert all(len(rows) == 1 or "" not in rows for rows in _BY_ACTION.values()), "an action's cases are all named"


def rows_for(action: Action) -> tuple[Transition, ...]:
    """The rows of ``action``: one, or one per case."""
    return tuple(_BY_ACTION[action].values())


def transition_for(action: Action, case: str = "") -> Transition:
    """The row of ``action`` (of its ``case``, for an action with several rows)."""
    return _BY_ACTION[action][case]


def _allows(transition: Transition, status: Status | None, actor: Actor) -> bool:
    if transition.action == Action.SUBMIT:
        return status is None and actor in transition.actors
    return status in transition.sources and actor in transition.actors


def is_allowed(action: Action, status: Status | None, actor: Actor, *, case: str | None = None) -> bool:
    """Whether ``actor`` may take ``action`` in ``status``: by the row of ``case``, or by any row of the action."""
    rows = rows_for(action) if case is None else (transition_for(action, case),)
    return any(_allows(transition, status, actor) for transition in rows)


def allowed_actions(status: Status, actors: frozenset[Actor]) -> list[Action]:
    """What the given capacities may do to a report in ``status`` (for faces to offer buttons)."""
    return [
        action
        for action in _BY_ACTION
        if action != Action.SUBMIT and any(status in row.sources and actors & row.actors for row in rows_for(action))
    ]


def every_case() -> Iterator[tuple[Action, Status | None, Actor, bool]]:
    """Every (action, status, actor) combination with whether the table allows it (for the tests)."""
    for action in _BY_ACTION:
        statuses: list[Status | None] = [None, *Status] if action == Action.SUBMIT else list(Status)
        for status in statuses:
            for actor in Actor:
                yield action, status, actor, is_allowed(action, status, actor)
