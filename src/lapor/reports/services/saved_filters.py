"""Saved inbox filters of the console's inboxes."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from lapor.accounts.models import User
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import SavedFilter
from lapor.reports.services.kernel import required_text

MAX_SAVED_FILTERS = 50
MAX_SAVED_FILTER_NAME = 100
MAX_SAVED_FILTER_QUERY = 1000


@transaction.atomic
def saved_filter_save(*, user: User, name: str, query: str) -> SavedFilter:
    """Save a staff member's inbox filter (the inbox's query string) under a name of their choice;
    saving under a name they already use replaces that filter. At most MAX_SAVED_FILTERS each."""
    name = required_text(name, field="name", maximum=MAX_SAVED_FILTER_NAME)
    query = (query or "").strip().lstrip("?")
    if len(query) > MAX_SAVED_FILTER_QUERY:
        raise ReportError(ReportErrorCode.INVALID, _("These filters are too long to save."), field="query")
    existing = SavedFilter.objects.select_for_update().filter(user=user, name=name).first()
    if existing is not None:
        existing.query = query
        existing.save(update_fields=["query"])
        return existing
    if SavedFilter.objects.filter(user=user).count() >= MAX_SAVED_FILTERS:
        raise ReportError(
            ReportErrorCode.INVALID,
            _("You have %(count)d saved filters: delete one first.") % {"count": MAX_SAVED_FILTERS},
            field="name",
        )
    return SavedFilter.objects.create(user=user, name=name, query=query)


@transaction.atomic
def saved_filter_delete(*, user: User, saved_filter_id: int) -> None:
    """Delete one of the user's own saved filters; another user's answers as one that does not exist."""
    deleted, _rows = SavedFilter.objects.filter(pk=saved_filter_id, user=user).delete()
    if not deleted:
        raise ReportError(ReportErrorCode.NOT_FOUND, _("No saved filter by that name."))
