from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from lapor.regions.choices import RegionKind, RegionLevel


class Region(models.Model):
    """An Indonesian administrative area, keyed by its Kemendagri code (e.g. 36.74.01.1001).

    The code is itself a materialised path: a region's ancestors are the prefixes of its code, and
    every region below 36.03 has a code starting with "36.03.".
    """

    code = models.CharField(_("code"), max_length=13, primary_key=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=RegionLevel.choices, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=RegionKind.choices)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("False once a code has left the official list; kept for references.")
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
