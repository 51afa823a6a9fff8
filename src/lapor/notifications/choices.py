from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed: will retry")
    DEAD = "dead", _("Gave up after repeated failures")


class Audience(models.TextChoices):
    """Whom a message is written for: it decides what the message may say (staff never learn who an
    anonymous reporter is; reporters never read internal notes)."""

    REPORTER = "reporter", _("Reporter")
    STAFF = "staff", _("Staff")


# Rows a worker may claim: waiting ones, failed ones whose retry is due, and ones whose sender's lease
# ran out (the worker stopped mid-send, so the outcome is unknown and the message is tried again).
CLAIMABLE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.SENDING)
