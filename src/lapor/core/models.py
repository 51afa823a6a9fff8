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
