from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lapor.notifications.choices import CLAIMABLE_STATUSES, Audience, DeliveryStatus, NotificationChannel


class Notification(models.Model):
    """One message in the transactional outbox: written in the same transaction as the event it
    announces, delivered afterwards by a task, retried with backoff until it is sent or given up.

    While a worker sends it (status "sending"), ``next_attempt_at`` is the end of that worker's lease:
    should the worker die, the row becomes claimable again once the lease has run out.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    audience = models.CharField(_("audience"), max_length=8, choices=Audience.choices, default=Audience.REPORTER)
    channel = models.CharField(_("channel"), max_length=8, choices=NotificationChannel.choices)
    address = models.CharField(_("address"), max_length=254)
    language = models.CharField(_("language"), max_length=8, default="id")
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    body = models.TextField(_("body"))
    # The same event never produces the same message twice (e.g. "event:123:user:45:email").
    dedupe_key = models.CharField(max_length=128, unique=True)
    report = models.ForeignKey("reports.Report", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # Events are append-only and never deleted, so the reference cannot dangle.
    event = models.ForeignKey("reports.ReportEvent", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # A message that carries a secret (a one-time code): once delivered or given up, its numbers are
    # masked in the stored copy, so that a reader of the outbox (an admin, a backup) cannot use the code.
    redact_on_delivery = models.BooleanField(_("redact after delivery"), default=False)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=[status.value for status in CLAIMABLE_STATUSES]),
                name="notification_claimable",
            ),
            # The admin's default order and its "created" filter.
            models.Index(fields=["-created_at"], name="notification_created"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.address}: {self.subject or self.body[:40]}"
