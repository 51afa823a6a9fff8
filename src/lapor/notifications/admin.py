from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lapor.notifications.models import Notification
from lapor.notifications.services import notification_retry

FIELDS = (
    "status",
    "channel",
    "audience",
    "address",
    "recipient",
    "language",
    "report",
    "event",
    "subject",
    "body",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "sent_at",
    "dedupe_key",
)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    """The outbox, for superusers: what was sent to whom, and what failed and why.

    Read-only, because a notification is a record of what Lapor said; the one thing an admin does
    is send a failed one again once the cause (a gateway, a mail server) is fixed.
    """

    list_display = ["created_at", "channel", "audience", "address", "summary", "status", "attempts", "next_attempt_at"]
    list_filter = ["status", "channel", "audience", "created_at"]
    search_fields = ["address", "subject"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_select_related = False
    actions = ["retry_now"]
    fields = FIELDS
    readonly_fields = FIELDS

    @admin.display(description=_("message"))
    def summary(self, notification: Notification) -> str:
        return notification.subject or notification.body[:80]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        selected = list(queryset.values_list("pk", flat=True))
        retried = notification_retry(notification_ids=selected)
        if retried:
            self.message_user(
                request,
                ngettext(
                    "%(count)d notification will be sent again now.",
                    "%(count)d notifications will be sent again now.",
                    retried,
                )
                % {"count": retried},
                messages.SUCCESS,
            )
        if skipped := len(selected) - retried:
            self.message_user(
                request,
                ngettext(
                    "%(count)d notification was skipped: it is sent or being sent.",
                    "%(count)d notifications were skipped: they are sent or being sent.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
