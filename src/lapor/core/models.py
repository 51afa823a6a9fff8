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
