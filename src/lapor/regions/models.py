from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from lapor.regions.choices import RegionKind, RegionLevel
from lapor.regions.timezones import time_zone_for_region


class Region(models.Model):
    """An Indonesian administrative area, keyed by its Kemendagri code (e.g. 36.74.01.1001).

    The code is itself a materialised path: a region's ancestors are the prefixes of its code, and
    every region below 36.03 has a code starting with "36.03.". Rows are written by the loader
    (``regions_load``) from the official list; a code that leaves the list is deactivated, never
    deleted, because reports and institutions keep pointing at it.
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

    @property
    def province_code(self) -> str:
        return self.code[:2]

    @property
    def time_zone(self) -> str:
        """The IANA zone in which this region keeps time: Asia/Jakarta, Asia/Makassar or Asia/Jayapura."""
        return time_zone_for_region(self.code)


class RegionNameToken(models.Model):
    """One normalised word of a region's name, so that name search is an index range, not a scan.

    "Kota Tangerang Selatan" has the tokens kota, tangerang and selatan; the query "tangerang sel"
    matches it because it has a token in ["tangerang", "tangeranh") and one in ["sel", "sem").

    The region's level, name length and active flag are copied here so that a search ranks and
    cuts its matches to the first few on this table alone and then reads only those regions;
    otherwise PostgreSQL joins a common prefix (kota, sum) to all 91,000 regions by a full scan.
    The services that write regions keep the copies in step.
    """

    region = models.ForeignKey(
        Region,
        on_delete=models.CASCADE,
        related_name="name_tokens",
        verbose_name=_("region"),
        # The unique constraint below starts with region and serves as its index.
        db_index=False,
    )
    token = models.CharField(_("token"), max_length=100)
    region_level = models.PositiveSmallIntegerField(_("region level"), choices=RegionLevel.choices)
    region_name_length = models.PositiveSmallIntegerField(_("region name length"))
    region_is_active = models.BooleanField(_("region active"))

    class Meta:
        verbose_name = _("region name token")
        verbose_name_plural = _("region name tokens")
        constraints = [models.UniqueConstraint(fields=["region", "token"], name="regions_token_once_per_region")]
        indexes = [models.Index(fields=["token", "region"], name="regions_token_prefix")]

    def __str__(self) -> str:
        return f"{self.token} → {self.region_id}"
