from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReferenceDataLoad(models.Model):
    """The last successful load of a reference data set, so that an unchanged file is skipped."""

    dataset = models.CharField(_("dataset"), max_length=64, unique=True)
    checksum = models.CharField(_("checksum"), max_length=64)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now=True)
    summary = models.JSONField(_("summary"), default=dict)

    class Meta:
        verbose_name = _("reference data load")
        verbose_name_plural = _("reference data loads")

    def __str__(self) -> str:
        return f"{self.dataset} @ {self.checksum[:12]}"


class HolidayOverride(models.Model):
    """A decree's change to the national holiday list, which wins over the `holidays` package.

    Holidays and cuti bersama are decreed each year and sometimes changed at short notice (a cuti
    bersama cancelled, an election day declared a holiday); the package cannot know this in time.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday: a non-working day added")
        WORKING_DAY = "working_day", _("Working day: worked although the package calls it a holiday")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    decree = models.CharField(
        _("decree reference"),
        max_length=255,
        help_text=_("The decree that makes this change, e.g. the joint ministerial decree (SKB) on cuti bersama."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("holiday override")
        verbose_name_plural = _("holiday overrides")

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()}: {self.name}"


class AuditAnchor(models.Model):
    """The Merkle root of every chain head of one event model at a moment, chained to the previous anchor.

    Per-chain hashes catch edits inside a chain but not a chain cut short at its end; the anchor fixes
    the heads so that such a truncation is caught too. Its hash is meant to be published outside the
    database (see lapor.core.audit), which is what finally protects the anchors themselves.
    """

    model_label = models.CharField(_("event model"), max_length=100)
    sequence = models.PositiveIntegerField(_("sequence"))
    upto = models.DateTimeField(_("covers events up to"))
    merkle_root = models.CharField(_("Merkle root"), max_length=64)
    chain_count = models.PositiveBigIntegerField(_("chains"))
    event_count = models.PositiveBigIntegerField(_("events"))
    previous_anchor_hash = models.CharField(_("previous anchor hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("audit anchor")
        verbose_name_plural = _("audit anchors")
        constraints = [
            models.UniqueConstraint(fields=["model_label", "sequence"], name="core_auditanchor_model_sequence"),
            models.UniqueConstraint(fields=["model_label", "upto"], name="core_auditanchor_model_upto"),
        ]

    def __str__(self) -> str:
        return f"{self.model_label} #{self.sequence} @ {self.upto.isoformat()}"


class RateLimitCounter(models.Model):
    """How many times one subject (a client address or an account, hashed) hit one scope in one fixed window.

    Written only by lapor.core.ratelimit with an atomic upsert; a row is useless once its window has
    ended, and the worker's sweep deletes it then.
    """

    key = models.CharField(_("key"), max_length=200, unique=True)
    count = models.PositiveIntegerField(_("count"), default=0)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("rate-limit counter")
        verbose_name_plural = _("rate-limit counters")

    def __str__(self) -> str:
        return f"{self.key} = {self.count}"
