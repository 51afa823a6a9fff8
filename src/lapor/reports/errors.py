from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.functional import Promise


class ReportErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    ACTION_NOT_ALLOWED = "action_not_allowed"
    INVALID = "invalid"
    MISSING_REASON = "missing_reason"
    INVALID_TARGET = "invalid_target"
    DEADLINE_NOT_PASSED = "deadline_not_passed"
    ALREADY_RATED = "already_rated"
    ATTACHMENT_REJECTED = "attachment_rejected"
    DUPLICATE_SUPPORT = "duplicate_support"


class ReportError(Exception):
    """A refused or impossible report action; faces turn ``code`` into an HTTP status or a form error."""

    def __init__(self, code: ReportErrorCode, message: str | Promise, *, field: str = "", **context: Any) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.field = field
        self.context = context
