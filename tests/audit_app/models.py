"""A ledger and its events: the shape reports.Report and reports.ReportEvent will have."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from lapor.core.audit import ChainedEvent


class Ledger(models.Model):
    """The owner of one chain; chain_append locks its row."""

    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class LedgerEvent(ChainedEvent):
    CHAIN_FIELD = "ledger"
    HASHED_FIELDS = ("actor", "action", "amount", "happened_on", "details")
    UNHASHED_FIELDS = ("note",)

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(Ledger, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=50)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    happened_on = models.DateField(null=True, blank=True)
    details = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ledger", "sequence"], name="audit_app_ledgerevent_chain")]


class TopicEvent(ChainedEvent):
    """A chain keyed by a plain value with no owner row to lock."""

    CHAIN_FIELD = "topic"
    HASHED_FIELDS = ("text",)

    topic = models.CharField(max_length=40)
    text = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "sequence"], name="audit_app_topicevent_chain")]
