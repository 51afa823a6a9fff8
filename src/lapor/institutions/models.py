from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from lapor.core.audit import ChainedEvent
from lapor.core.tree import TreeNode
from lapor.institutions.choices import (
    AdministrativeAction,
    DeadlineClock,
    DeadlineUnit,
    InstitutionKind,
    InstitutionTimeZone,
    Sector,
)

CODE_MAX_LENGTH = 80
FOLLOW_UP_TEMPLATE_MAX_LENGTH = 5000
FOLLOW_UP_TEMPLATE_NAME_MAX_LENGTH = 120


class Institution(TreeNode):
    """An institution (instansi) or one of its units, placed in one tree of any depth.

    Ministries, agencies, BUMN and provincial governments are roots or sit under an umbrella root;
    regencies sit under their province; OPD, kecamatan and kelurahan/desa units under their regency.
    Create, move and change institutions through ``lapor.institutions.services``.
    """

    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(
        _("short name"), max_length=50, blank=True, help_text=_("Acronym or common short name, e.g. Dishub.")
    )
    code = models.SlugField(
        _("code"), max_length=CODE_MAX_LENGTH, unique=True, help_text=_("Stable identifier used in URLs and imports.")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=InstitutionKind.choices)
    sector = models.CharField(_("sector"), max_length=40, choices=Sector.choices, default=Sector.GENERAL)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Inactive institutions receive no reports; deactivating one deactivates its units."),
    )
    covers_nationally = models.BooleanField(
        _("covers the whole country"), default=False, help_text=_("Ministries and national agencies.")
    )
    handles_all_categories = models.BooleanField(
        _("handles every category"),
        default=False,
        help_text=_("A general government (e.g. a regency) that answers for every category in its area."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=32,
        blank=True,
        choices=InstitutionTimeZone.choices,
        help_text=_("Leave empty to use the one of the institution above it or of its region."),
    )

    class Meta(TreeNode.Meta):
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["kind"], name="institution_kind_idx"),
            models.Index(fields=["sector"], name="institution_sector_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Category(TreeNode):
    """A report category in a taxonomy of any depth, e.g. Infrastruktur > Penerangan Jalan Umum.

    ``handler_kind`` and ``handler_sector`` describe who usually handles it, which helps dispatchers
    and seeds the categories that institutions handle.
    """

    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    code = models.SlugField(_("code"), max_length=CODE_MAX_LENGTH, unique=True)
    name = models.CharField(_("name (Indonesian)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150, blank=True)
    description = models.TextField(_("description"), blank=True)
    handler_kind = models.CharField(
        _("usually handled by (kind)"), max_length=32, choices=InstitutionKind.choices, blank=True
    )
    handler_sector = models.CharField(
        _("usually handled by (sector)"), max_length=40, choices=Sector.choices, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta(TreeNode.Meta):
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.localized_name

    @property
    def localized_name(self) -> str:
        """The English name when English is active and one exists; the canonical Indonesian otherwise."""
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class InstitutionCoverage(models.Model):
    """An area an institution serves. Covering a region covers every region below it.

    A row with no region means the whole country. It mirrors ``Institution.covers_nationally`` (the
    services keep both in step) so that "who covers this village" is one indexed lookup on this
    table, without an OR across tables that would force a scan of every institution.
    """

    # The unique (institution, region) index below serves lookups by institution.
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="coverages", verbose_name=_("institution"), db_index=False
    )
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="institution_coverages",
        verbose_name=_("region"),
        help_text=_("Empty means the whole country."),
    )

    class Meta:
        verbose_name = _("coverage")
        verbose_name_plural = _("coverage")
        constraints = [
            models.UniqueConstraint(fields=["institution", "region"], name="institution_coverage_unique"),
            models.UniqueConstraint(
                fields=["institution"], condition=Q(region__isnull=True), name="institution_coverage_one_national"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} → {self.region_id or _('Indonesia')}"


class InstitutionCategory(models.Model):
    """A category an institution handles; handling a category covers its subcategories."""

    institution = models.ForeignKey(
        Institution,
        on_delete=models.CASCADE,
        related_name="handled_categories",
        verbose_name=_("institution"),
        db_index=False,
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="handlers", verbose_name=_("category")
    )

    class Meta:
        verbose_name = _("handled category")
        verbose_name_plural = _("handled categories")
        constraints = [
            models.UniqueConstraint(fields=["institution", "category"], name="institution_category_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} → {self.category_id}"


class DeadlineOverride(models.Model):
    """An institution's own deadline for one clock, e.g. Kabupaten Tangerang answers within 2x24 hours.

    It applies to the institution and every unit below it, unless a deeper unit overrides it again.
    """

    institution = models.ForeignKey(
        Institution,
        on_delete=models.CASCADE,
        related_name="deadline_overrides",
        verbose_name=_("institution"),
        db_index=False,
    )
    clock = models.CharField(_("clock"), max_length=32, choices=DeadlineClock.choices)
    amount = models.PositiveSmallIntegerField(_("amount"))
    unit = models.CharField(_("unit"), max_length=16, choices=DeadlineUnit.choices)
    basis = models.CharField(
        _("legal basis"), max_length=200, blank=True, help_text=_("The regulation or service standard that sets it.")
    )

    class Meta:
        verbose_name = _("deadline override")
        verbose_name_plural = _("deadline overrides")
        constraints = [
            models.UniqueConstraint(fields=["institution", "clock"], name="deadline_override_unique"),
            models.CheckConstraint(condition=Q(amount__gte=1), name="deadline_override_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_clock_display()}: {self.amount} {self.get_unit_display()}"


# The names a follow-up template may use, each filled by the follow-up composer. Anything else in
# braces is left as written (see `fill_placeholders`).
FOLLOW_UP_PLACEHOLDERS: dict[str, Any] = {
    "tracking_id": _("the report's tracking ID"),
    "report_title": _("the report's title"),
    "institution": _("the name of the institution answering"),
    "officer_name": _("the name of the officer writing the follow-up"),
    "today": _("today's date"),
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill_placeholders(text: str, values: Mapping[str, object]) -> str:
    """``text`` with each ``{name}`` of FOLLOW_UP_PLACEHOLDERS found in ``values`` replaced.

    What ``str.format_map`` does for plain names, without its risks: a stray brace never raises, and
    attribute access (``{tracking_id.__class__}``), indexing and format specs (``{today:>999999999}``)
    are not placeholders at all, so they stay as written, like unknown names.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in FOLLOW_UP_PLACEHOLDERS and name in values:
            return str(values[name])
        return match.group(0)

    return _PLACEHOLDER.sub(replace, text)


def placeholders_in(text: str) -> tuple[list[str], list[str]]:
    """(known, unknown) placeholder names in ``text``, each once, in order of appearance."""
    names = list(dict.fromkeys(_PLACEHOLDER.findall(text)))
    return [name for name in names if name in FOLLOW_UP_PLACEHOLDERS], [
        name for name in names if name not in FOLLOW_UP_PLACEHOLDERS
    ]


class FollowUpTemplate(models.Model):
    """A ready-made follow-up text of an institution, offered to it and to every unit below it.

    The body may contain placeholders from FOLLOW_UP_PLACEHOLDERS, e.g. ``{tracking_id}``; the
    composer fills them with `fill_placeholders`. Create and change templates through
    ``lapor.institutions.services``; read those a unit may use with
    ``lapor.institutions.selectors.follow_up_templates_for``.
    """

    # The unique (institution, name) index below serves lookups by institution.
    institution = models.ForeignKey(
        Institution,
        on_delete=models.CASCADE,
        related_name="follow_up_templates",
        verbose_name=_("institution"),
        db_index=False,
    )
    name = models.CharField(_("name"), max_length=FOLLOW_UP_TEMPLATE_NAME_MAX_LENGTH)
    body = models.TextField(_("text"), max_length=FOLLOW_UP_TEMPLATE_MAX_LENGTH)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("follow-up template")
        verbose_name_plural = _("follow-up templates")
        ordering = ["institution", "name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "name"], name="follow_up_template_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def render(self, values: Mapping[str, object]) -> str:
        """The body with its placeholders filled from ``values`` (see `fill_placeholders`)."""
        return fill_placeholders(self.body, values)


class AdministrativeEvent(ChainedEvent):
    """The tamper-evident trail of administrative changes: who changed which unit, role, deadline or
    template, one hash chain per institution (the institution changed, or the one the membership,
    template or deadline belongs to). Written by the services that make the change, in its transaction;
    the table is append-only. ``subject_id`` names the membership or template by id (it may since have
    been deleted); personal data stays out of ``details`` (people are named by their account's id)."""

    CHAIN_FIELD = "institution"
    HASHED_FIELDS = ("actor", "action", "subject_id", "details")

    # No database constraint: the trail outlives an institution deleted by hand (a mistaken row removed
    # in the admin or the shell), so that its history is never what stops or disappears with it.
    institution = models.ForeignKey(
        Institution,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="administrative_events",
        verbose_name=_("institution"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    action = models.CharField(_("change"), max_length=32, choices=AdministrativeAction.choices)
    subject_id = models.PositiveBigIntegerField(_("subject"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict)

    class Meta(ChainedEvent.Meta):
        verbose_name = _("administrative event")
        verbose_name_plural = _("administrative events")
        constraints = [
            models.UniqueConstraint(fields=["institution", "sequence"], name="administrative_event_sequence")
        ]
