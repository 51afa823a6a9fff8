"""Every write to a report: one service function per action of the workflow table, by area.

Each service locks the report, asks the access layer in which capacity the user acts, checks the
transition against `workflow.TRANSITIONS`, changes the status and clocks, and appends the event to
the report's hash chain; the notifications for that event are written to the outbox in the same
transaction, so an action and the news of it are never separated (`kernel`).

- `kernel`: locking, saving, moving along the table, recording.
- `intake`: filing a report, the reporter's private link.
- `verification`: questions to the reporter, hold, resume, archive.
- `routing`: dispatch, forwarding to units, handing back, merging.
- `follow_up`: follow-ups, closure in silence, deadline warnings and escalations.
- `reporter`: the reporter's own actions, claiming guest reports.
- `public`: comments, notes, redaction, support, moderation.
- `privacy`: the anonymous and confidential flags.
- `files`: attachments.
- `saved_filters`: the console's saved inbox filters.

Faces import from here (`lapor.reports.services`); the modules are the map for those who change them.
"""

from lapor.reports.services.files import Attached, report_attach
from lapor.reports.services.follow_up import (
    MAX_ESCALATION_LEVEL,
    report_deem_complete,
    report_escalate,
    report_follow_up,
    report_warn,
)
from lapor.reports.services.intake import (
    TRACKING_ID_ATTEMPTS,
    Filed,
    report_guest_contacts_rotate,
    report_submit,
    reporter_link,
)
from lapor.reports.services.kernel import MAX_BODY, MAX_TITLE, Done
from lapor.reports.services.privacy import change_privacy, report_set_privacy
from lapor.reports.services.public import (
    report_comment,
    report_comment_hide,
    report_note,
    report_redact,
    report_support,
)
from lapor.reports.services.reporter import (
    report_appeal,
    report_claim_by_contact,
    report_claim_candidates,
    report_confirm,
    report_dispute,
    report_provide_information,
    report_rate,
    report_refer,
)
from lapor.reports.services.routing import (
    report_dispatch,
    report_forward,
    report_merge,
    report_return,
)
from lapor.reports.services.saved_filters import (
    MAX_SAVED_FILTER_NAME,
    MAX_SAVED_FILTER_QUERY,
    MAX_SAVED_FILTERS,
    saved_filter_delete,
    saved_filter_save,
)
from lapor.reports.services.verification import (
    report_archive,
    report_auto_archive,
    report_hold,
    report_remind_information,
    report_request_information,
    report_resume,
)

__all__ = [
    "MAX_BODY",
    "MAX_ESCALATION_LEVEL",
    "MAX_SAVED_FILTERS",
    "MAX_SAVED_FILTER_NAME",
    "MAX_SAVED_FILTER_QUERY",
    "MAX_TITLE",
    "TRACKING_ID_ATTEMPTS",
    "Attached",
    "Done",
    "Filed",
    "change_privacy",
    "report_appeal",
    "report_archive",
    "report_attach",
    "report_auto_archive",
    "report_claim_by_contact",
    "report_claim_candidates",
    "report_comment",
    "report_comment_hide",
    "report_confirm",
    "report_deem_complete",
    "report_dispatch",
    "report_dispute",
    "report_escalate",
    "report_follow_up",
    "report_forward",
    "report_guest_contacts_rotate",
    "report_hold",
    "report_merge",
    "report_note",
    "report_provide_information",
    "report_rate",
    "report_redact",
    "report_refer",
    "report_remind_information",
    "report_request_information",
    "report_resume",
    "report_return",
    "report_set_privacy",
    "report_submit",
    "report_support",
    "report_warn",
    "reporter_link",
    "saved_filter_delete",
    "saved_filter_save",
]
