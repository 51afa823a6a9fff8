"""Keeping secrets out of the access logs.

A reporter's private link (/lacak/<id>/k/<secret>/, lapor.portal.views.tracking) carries its secret in
the path of exactly one request, which redirects to a page without it. The access log lines of the
development server ("django.server") and of gunicorn ("gunicorn.access") show that path; the filter
here replaces the secret before any handler writes the line. Installed by lapor.core.apps.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# "/lacak/<id>/k/<secret>" with or without a language prefix; the secret ends at "/", "?", a space or a quote.
SECRET_IN_PATH = re.compile(r"(/lacak/[^/\s]+/k/)[^/?#\s\"']+")
REDACTED = "[secret]"
ACCESS_LOGGERS = ("django.server", "gunicorn.access")


def redact(text: str) -> str:
    return SECRET_IN_PATH.sub(rf"\g<1>{REDACTED}", text)


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message and arguments (a tuple, or gunicorn's dict of atoms) without secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            # In place: gunicorn passes its own dict class, which answers "-" for a missing atom.
            for key, value in list(record.args.items()):
                record.args[key] = _redact_value(value)
        elif isinstance(record.args, tuple):
            record.args = tuple(_redact_value(value) for value in record.args)
        return True


def install() -> None:
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactSecretsFilter) for existing in logger.filters):
            logger.addFilter(RedactSecretsFilter())
