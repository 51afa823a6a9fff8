"""Writes to institutions and categories. Every function is keyword-only and atomic.

The administrative services (units, their area and categories, deadline overrides, follow-up templates)
name the acting user ``actor`` in the `AdministrativeEvent` each change appends to the institution's
hash-chained trail, in the same transaction. They do not check it: who may do what is read from
memberships and permissions, which belong to accounts, and accounts builds on institutions, never the
other way round. A face acting for a user calls ``lapor.accounts.administration`` instead, which checks
the user through the door (``lapor.accounts.institution_access``; a refusal is its UNKNOWN_* error, as for
an object that does not exist) and then calls the service here; faces may not import this module (the
import contracts in pyproject.toml). ``actor=None`` is the system itself (data loaders, the command
line, the Django admin, which has its own guard): the event names nobody. The category taxonomy is
reference data loaded from a file (`categories_load`) and has no trail of its own.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from lapor.core import reference
from lapor.core.audit import chain_append
from lapor.core.models import ReferenceDataLoad
from lapor.core.tree import TreeError, subtree_q, tree_node_create, tree_node_move
from lapor.institutions.choices import (
    AdministrativeAction,
    DeadlineClock,
    DeadlineUnit,
    InstitutionKind,
    InstitutionTimeZone,
    Sector,
)
from lapor.institutions.errors import InstitutionError, InstitutionErrorCode, from_tree_error
from lapor.institutions.models import (
    CODE_MAX_LENGTH,
    FOLLOW_UP_TEMPLATE_MAX_LENGTH,
    FOLLOW_UP_TEMPLATE_NAME_MAX_LENGTH,
    AdministrativeEvent,
    Category,
    DeadlineOverride,
    FollowUpTemplate,
    Institution,
    InstitutionCategory,
    InstitutionCoverage,
)
from lapor.regions.models import Region
from lapor.regions.selectors import InvalidRegionCode, ancestor_codes

CATEGORIES_FILE: Final = Path(__file__).resolve().parent / "data" / "categories.json"
CATEGORIES_DATASET: Final = "categories"
_SLUG = re.compile(r"^[-a-z0-9_]+$")


class _Unchanged:
    """Marks an argument of an ``*_update`` service that the caller did not pass."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()


# --- validation helpers ---------------------------------------------------------------------------


def _clean_name(name: str, *, field: str = "name") -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InstitutionError(InstitutionErrorCode.INVALID_NAME, _("A name is required."), field=field)
    return cleaned


def _check_choice(value: str, choices: type[Any], *, field: str, allow_blank: bool = False) -> str:
    if (allow_blank and value == "") or value in choices.values:
        return str(value)
    raise InstitutionError(
        InstitutionErrorCode.INVALID_CHOICE,
        _("%(value)r is not a valid %(field)s.") % {"value": value, "field": field},
        field=field,
        value=value,
    )


def _check_code(code: str) -> str:
    if not code or len(code) > CODE_MAX_LENGTH or not _SLUG.match(code):
        raise InstitutionError(
            InstitutionErrorCode.INVALID_CODE,
            _("A code is made of lower-case letters, digits, hyphens and underscores (at most %(length)d).")
            % {"length": CODE_MAX_LENGTH},
            code=code,
        )
    return code


def _slug_candidates(base: str) -> Iterator[str]:
    base = base[:CODE_MAX_LENGTH].strip("-") or "institution"
    yield base
    for number in range(2, 10_000):
        suffix = f"-{number}"
        yield base[: CODE_MAX_LENGTH - len(suffix)].rstrip("-") + suffix


def _free_institution_code(*, name: str, short_name: str, parent: Institution | None) -> str:
    # OPDs repeat across 514 regencies ("Dinas Perhubungan"), so the parent's code comes first.
    own = slugify(short_name or name)
    base = f"{parent.code}-{own}" if parent is not None else own
    for candidate in _slug_candidates(base):
        if not Institution.objects.filter(code=candidate).exists():
            return candidate
    raise InstitutionError(InstitutionErrorCode.DUPLICATE_CODE, _("No free code; give one explicitly."))


def _existing_parent(parent: Institution | None) -> Institution | None:
    if parent is None:
        return None
    current = Institution.objects.filter(pk=parent.pk).first() if parent.pk is not None else None
    if current is None:
        raise InstitutionError(InstitutionErrorCode.UNKNOWN_PARENT, _("The parent institution does not exist."))
    return current


def _is_region_code(code: str) -> bool:
    try:
        ancestor_codes(code)
    except InvalidRegionCode:
        return False
    return True


def _region_codes(codes: Iterable[str]) -> list[str]:
    cleaned = list(dict.fromkeys(code.strip() for code in codes))
    malformed = [code for code in cleaned if not _is_region_code(code)]
    if malformed:
        raise InstitutionError(
            InstitutionErrorCode.INVALID_REGION_CODE,
            _("Not a region code: %(codes)s.") % {"codes": ", ".join(malformed)},
            codes=malformed,
        )
    known = set(Region.objects.filter(code__in=cleaned).values_list("code", flat=True))
    unknown = [code for code in cleaned if code not in known]
    if unknown:
        raise InstitutionError(
            InstitutionErrorCode.UNKNOWN_REGION,
            _("Unknown region code: %(codes)s.") % {"codes": ", ".join(unknown)},
            codes=unknown,
        )
    return cleaned


def _sync_national_coverage(institution: Institution) -> None:
    """Keep the whole-country coverage row in step with ``covers_nationally`` (see InstitutionCoverage)."""
    national = InstitutionCoverage.objects.filter(institution=institution, region__isnull=True)
    if institution.covers_nationally:
        if not national.exists():
            InstitutionCoverage.objects.create(institution=institution, region=None)
    else:
        national.delete()


def _locked_institution(institution: Institution) -> Institution:
    current = Institution.objects.select_for_update().filter(pk=institution.pk).first()
    if current is None:
        raise InstitutionError(InstitutionErrorCode.UNKNOWN_INSTITUTION, _("The institution does not exist."))
    return current


# --- the administrative trail ---------------------------------------------------------------------


def administrative_event_record(
    *,
    institution: Institution,
    actor: AbstractBaseUser | None,
    action: AdministrativeAction,
    subject_id: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> AdministrativeEvent:
    """Append a change to ``institution``'s trail; call it inside the change's own transaction."""
    return chain_append(
        AdministrativeEvent,
        chain_id=institution.pk,
        actor=actor,
        action=action,
        subject_id=subject_id,
        details=dict(details or {}),
    )


# --- institutions ---------------------------------------------------------------------------------


@transaction.atomic
def institution_create(
    *,
    name: str,
    kind: str,
    parent: Institution | None = None,
    sector: str = Sector.GENERAL,
    short_name: str = "",
    code: str = "",
    is_active: bool = True,
    covers_nationally: bool = False,
    handles_all_categories: bool = False,
    time_zone: str = "",
    region_codes: Iterable[str] = (),
    category_codes: Iterable[str] = (),
    actor: AbstractBaseUser | None = None,
) -> Institution:
    """Create an institution or unit as the last child of ``parent``.

    ``code`` defaults to a slug of the parent's code and the short name (or name). Coverage is not
    inherited from the parent: a Dinas covers what it is given in ``region_codes``.
    """
    name = _clean_name(name)
    short_name = " ".join(short_name.split())
    _check_choice(kind, InstitutionKind, field="kind")
    _check_choice(sector, Sector, field="sector")
    _check_choice(time_zone, InstitutionTimeZone, field="time_zone", allow_blank=True)
    parent = _existing_parent(parent)
    if is_active and parent is not None and not parent.is_active:
        raise InstitutionError(
            InstitutionErrorCode.PARENT_INACTIVE, _("An active unit cannot be placed under an inactive institution.")
        )
    if code:
        _check_code(code)
        if Institution.objects.filter(code=code).exists():
            raise InstitutionError(
                InstitutionErrorCode.DUPLICATE_CODE, _("The code %(code)s is taken.") % {"code": code}, code=code
            )
    else:
        code = _free_institution_code(name=name, short_name=short_name, parent=parent)
    try:
        institution = tree_node_create(
            Institution,
            parent=parent,
            name=name,
            short_name=short_name,
            code=code,
            kind=kind,
            sector=sector,
            is_active=is_active,
            covers_nationally=covers_nationally,
            handles_all_categories=handles_all_categories,
            time_zone=time_zone,
        )
    except TreeError as error:
        raise from_tree_error(error) from error
    _sync_national_coverage(institution)
    administrative_event_record(
        institution=institution,
        actor=actor,
        action=AdministrativeAction.UNIT_CREATE,
        details={"parent": parent.pk if parent else None, "name": name, "code": code, "kind": kind},
    )
    region_codes = list(region_codes)
    if region_codes:
        institution_set_coverage(institution=institution, region_codes=region_codes, actor=actor)
    category_codes = list(category_codes)
    if category_codes:
        institution_set_categories(institution=institution, category_codes=category_codes, actor=actor)
    return institution


def _institution_changes(current: Institution, requested: dict[str, Any]) -> dict[str, Any]:
    cleaners: dict[str, Callable[[Any], Any]] = {
        "name": _clean_name,
        "short_name": lambda value: " ".join(value.split()),
        "code": _check_code,
        "kind": lambda value: _check_choice(value, InstitutionKind, field="kind"),
        "sector": lambda value: _check_choice(value, Sector, field="sector"),
        "time_zone": lambda value: _check_choice(value, InstitutionTimeZone, field="time_zone", allow_blank=True),
        "covers_nationally": bool,
        "handles_all_categories": bool,
    }
    changes = {field: cleaners[field](value) for field, value in requested.items()}
    changes = {field: value for field, value in changes.items() if getattr(current, field) != value}
    if "code" in changes and Institution.objects.filter(code=changes["code"]).exclude(pk=current.pk).exists():
        raise InstitutionError(
            InstitutionErrorCode.DUPLICATE_CODE,
            _("The code %(code)s is taken.") % {"code": changes["code"]},
            code=changes["code"],
        )
    return changes


@transaction.atomic
def institution_update(
    *,
    institution: Institution,
    name: str | _Unchanged = UNCHANGED,
    short_name: str | _Unchanged = UNCHANGED,
    code: str | _Unchanged = UNCHANGED,
    kind: str | _Unchanged = UNCHANGED,
    sector: str | _Unchanged = UNCHANGED,
    is_active: bool | _Unchanged = UNCHANGED,
    covers_nationally: bool | _Unchanged = UNCHANGED,
    handles_all_categories: bool | _Unchanged = UNCHANGED,
    time_zone: str | _Unchanged = UNCHANGED,
    actor: AbstractBaseUser | None = None,
) -> Institution:
    """Change an institution's own fields (not its place in the tree: see ``institution_move``).

    Deactivating deactivates every unit below it too, in one UPDATE, so that no unit under a closed
    institution keeps receiving reports; reactivating brings back only the institution itself.
    """
    current = _locked_institution(institution)
    requested = {
        "name": name,
        "short_name": short_name,
        "code": code,
        "kind": kind,
        "sector": sector,
        "time_zone": time_zone,
        "covers_nationally": covers_nationally,
        "handles_all_categories": handles_all_categories,
    }
    changes = _institution_changes(
        current, {field: value for field, value in requested.items() if value is not UNCHANGED}
    )
    if not isinstance(is_active, _Unchanged) and is_active != current.is_active:
        if is_active:
            if current.parent_id is not None and not Institution.objects.get(pk=current.parent_id).is_active:
                raise InstitutionError(
                    InstitutionErrorCode.PARENT_INACTIVE, _("Reactivate the institution above it first.")
                )
        else:
            Institution.objects.filter(subtree_q(current.path, include_self=False)).update(is_active=False)
        changes["is_active"] = is_active
    previous = {field: getattr(current, field) for field in changes}
    for field, value in changes.items():
        setattr(current, field, value)
    if changes:
        current.save(update_fields=list(changes))
    edited = {field: [previous[field], value] for field, value in changes.items() if field != "is_active"}
    if edited:
        administrative_event_record(
            institution=current, actor=actor, action=AdministrativeAction.UNIT_UPDATE, details=edited
        )
    if "is_active" in changes:
        administrative_event_record(
            institution=current,
            actor=actor,
            action=AdministrativeAction.UNIT_REACTIVATE
            if changes["is_active"]
            else AdministrativeAction.UNIT_DEACTIVATE,
        )
    if "covers_nationally" in changes:
        _sync_national_coverage(current)
    for field in changes:
        setattr(institution, field, getattr(current, field))
    return current


@transaction.atomic
def institution_move(
    *, institution: Institution, new_parent: Institution | None, actor: AbstractBaseUser | None = None
) -> Institution:
    """Place an institution (with all its units) under ``new_parent``, or make it a root.

    Refuses a move under the institution itself or one of its own units.
    """
    if new_parent is not None and new_parent.pk is None:
        raise InstitutionError(InstitutionErrorCode.UNKNOWN_PARENT, _("The parent institution does not exist."))
    old_parent_id = Institution.objects.filter(pk=institution.pk).values_list("parent_id", flat=True).first()
    try:
        moved = tree_node_move(institution, new_parent=new_parent)
    except TreeError as error:
        raise from_tree_error(error) from error
    if moved.is_active and moved.parent_id is not None and not Institution.objects.get(pk=moved.parent_id).is_active:
        # A unit moved under a closed institution closes with it, as if it had been there all along.
        Institution.objects.filter(subtree_q(moved.path)).update(is_active=False)
        moved.is_active = False
    if old_parent_id != moved.parent_id:
        administrative_event_record(
            institution=moved,
            actor=actor,
            action=AdministrativeAction.UNIT_MOVE,
            details={"from": old_parent_id, "to": moved.parent_id},
        )
    return moved


@transaction.atomic
def institution_set_coverage(
    *, institution: Institution, region_codes: Iterable[str], actor: AbstractBaseUser | None = None
) -> list[str]:
    """Replace the regions an institution covers; returns the codes now covered, sorted.

    The whole-country coverage is set with ``covers_nationally`` instead.
    """
    current = _locked_institution(institution)
    codes = _region_codes(region_codes)
    before = set(
        InstitutionCoverage.objects.filter(institution=current, region__isnull=False).values_list(
            "region_id", flat=True
        )
    )
    InstitutionCoverage.objects.filter(institution=current, region__isnull=False).exclude(region__in=codes).delete()
    present = set(
        InstitutionCoverage.objects.filter(institution=current, region__in=codes).values_list("region_id", flat=True)
    )
    InstitutionCoverage.objects.bulk_create(
        [InstitutionCoverage(institution=current, region_id=code) for code in codes if code not in present]
    )
    _record_set_change(current, actor, AdministrativeAction.COVERAGE_SET, before=before, after=set(codes))
    return sorted(codes)


def _record_set_change(
    institution: Institution,
    actor: AbstractBaseUser | None,
    action: AdministrativeAction,
    *,
    before: set[Any],
    after: set[Any],
) -> None:
    if before != after:
        administrative_event_record(
            institution=institution,
            actor=actor,
            action=action,
            details={"added": sorted(after - before), "removed": sorted(before - after)},
        )


@transaction.atomic
def institution_set_categories(
    *, institution: Institution, category_codes: Iterable[str], actor: AbstractBaseUser | None = None
) -> list[str]:
    """Replace the categories an institution handles; returns the codes now handled, sorted."""
    current = _locked_institution(institution)
    before = set(InstitutionCategory.objects.filter(institution=current).values_list("category__code", flat=True))
    codes = list(dict.fromkeys(category_codes))
    categories = dict(Category.objects.filter(code__in=codes).values_list("code", "pk"))
    unknown = [code for code in codes if code not in categories]
    if unknown:
        raise InstitutionError(
            InstitutionErrorCode.UNKNOWN_CATEGORY,
            _("Unknown category: %(codes)s.") % {"codes": ", ".join(unknown)},
            codes=unknown,
        )
    wanted = set(categories.values())
    InstitutionCategory.objects.filter(institution=current).exclude(category_id__in=wanted).delete()
    present = set(
        InstitutionCategory.objects.filter(institution=current, category_id__in=wanted).values_list(
            "category_id", flat=True
        )
    )
    InstitutionCategory.objects.bulk_create(
        [InstitutionCategory(institution=current, category_id=pk) for pk in wanted if pk not in present]
    )
    _record_set_change(current, actor, AdministrativeAction.CATEGORIES_SET, before=before, after=set(codes))
    return sorted(codes)


@transaction.atomic
def deadline_override_set(
    *,
    institution: Institution,
    clock: str,
    amount: int,
    unit: str,
    basis: str = "",
    actor: AbstractBaseUser | None = None,
) -> DeadlineOverride:
    """Set an institution's own deadline for ``clock``; it applies to its units too unless they
    override it again."""
    _check_choice(clock, DeadlineClock, field="clock")
    _check_choice(unit, DeadlineUnit, field="unit")
    if not 1 <= amount <= 32767:  # noqa: PLR2004 - the column's range
        raise InstitutionError(
            InstitutionErrorCode.INVALID_AMOUNT, _("A deadline is at least 1 and at most 32767."), amount=amount
        )
    current = _locked_institution(institution)
    previous = (
        DeadlineOverride.objects.filter(institution=current, clock=clock).values("amount", "unit", "basis").first()
    )
    override, _created = DeadlineOverride.objects.update_or_create(
        institution=current, clock=clock, defaults={"amount": amount, "unit": unit, "basis": basis.strip()}
    )
    now = {"amount": override.amount, "unit": override.unit, "basis": override.basis}
    if previous != now:
        administrative_event_record(
            institution=current,
            actor=actor,
            action=AdministrativeAction.DEADLINE_SET,
            details={"clock": clock, **now, "previous": previous},
        )
    return override


@transaction.atomic
def deadline_override_remove(*, institution: Institution, clock: str, actor: AbstractBaseUser | None = None) -> bool:
    """Remove an institution's own deadline for ``clock``; True when there was one."""
    _check_choice(clock, DeadlineClock, field="clock")
    current = _locked_institution(institution)
    previous = (
        DeadlineOverride.objects.filter(institution=current, clock=clock).values("amount", "unit", "basis").first()
    )
    deleted, _by_model = DeadlineOverride.objects.filter(institution=current, clock=clock).delete()
    if deleted:
        administrative_event_record(
            institution=current,
            actor=actor,
            action=AdministrativeAction.DEADLINE_REMOVE,
            details={"clock": clock, "previous": previous},
        )
    return deleted > 0


# --- follow-up templates ---------------------------------------------------------------------------


def _template_name(name: str) -> str:
    cleaned = _clean_name(name)
    if len(cleaned) > FOLLOW_UP_TEMPLATE_NAME_MAX_LENGTH:
        raise InstitutionError(
            InstitutionErrorCode.INVALID_NAME,
            _("A name has at most %(length)d characters.") % {"length": FOLLOW_UP_TEMPLATE_NAME_MAX_LENGTH},
            field="name",
        )
    return cleaned


def _template_body(body: str) -> str:
    # Line breaks are the officer's; only the ends are tidied, and Windows line ends made plain.
    cleaned = body.replace("\r\n", "\n").strip()
    if not cleaned:
        raise InstitutionError(InstitutionErrorCode.INVALID_TEMPLATE_TEXT, _("A text is required."), field="body")
    if len(cleaned) > FOLLOW_UP_TEMPLATE_MAX_LENGTH:
        raise InstitutionError(
            InstitutionErrorCode.INVALID_TEMPLATE_TEXT,
            _("A text has at most %(length)d characters.") % {"length": FOLLOW_UP_TEMPLATE_MAX_LENGTH},
            field="body",
        )
    return cleaned


def _duplicate_template_name(name: str) -> InstitutionError:
    return InstitutionError(
        InstitutionErrorCode.DUPLICATE_TEMPLATE_NAME,
        _("This institution already has a template named %(name)s.") % {"name": name},
        field="name",
    )


def _save_template(template: FollowUpTemplate, **kwargs: Any) -> None:
    try:
        # A savepoint: a lost race on the name leaves the caller's transaction usable.
        with transaction.atomic():
            template.save(**kwargs)
    except IntegrityError as error:
        raise _duplicate_template_name(template.name) from error


@transaction.atomic
def follow_up_template_create(
    *, institution: Institution, name: str, body: str, actor: AbstractBaseUser | None = None
) -> FollowUpTemplate:
    """A follow-up template of ``institution``, offered to it and every unit below it. The body may use
    the placeholders of FOLLOW_UP_PLACEHOLDERS; other text in braces is kept as written."""
    name = _template_name(name)
    body = _template_body(body)
    current = _locked_institution(institution)
    if FollowUpTemplate.objects.filter(institution=current, name=name).exists():
        raise _duplicate_template_name(name)
    now = timezone.now()
    template = FollowUpTemplate(institution=current, name=name, body=body, created_at=now, updated_at=now)
    _save_template(template)
    administrative_event_record(
        institution=current,
        actor=actor,
        action=AdministrativeAction.TEMPLATE_CREATE,
        subject_id=template.pk,
        details={"name": name},
    )
    return template


@transaction.atomic
def follow_up_template_update(
    *,
    template: FollowUpTemplate,
    name: str | _Unchanged = UNCHANGED,
    body: str | _Unchanged = UNCHANGED,
    actor: AbstractBaseUser | None = None,
) -> FollowUpTemplate:
    """Change a template's name or text; it stays with its institution."""
    current = FollowUpTemplate.objects.select_for_update().filter(pk=template.pk).first()
    if current is None:
        raise InstitutionError(InstitutionErrorCode.UNKNOWN_TEMPLATE, _("The template does not exist."))
    changes: dict[str, str] = {}
    if not isinstance(name, _Unchanged):
        changes["name"] = _template_name(name)
    if not isinstance(body, _Unchanged):
        changes["body"] = _template_body(body)
    changes = {field: value for field, value in changes.items() if getattr(current, field) != value}
    if "name" in changes and (
        FollowUpTemplate.objects.filter(institution_id=current.institution_id, name=changes["name"])
        .exclude(pk=current.pk)
        .exists()
    ):
        raise _duplicate_template_name(changes["name"])
    if changes:
        administrative_event_record(
            institution=Institution(pk=current.institution_id),
            actor=actor,
            action=AdministrativeAction.TEMPLATE_UPDATE,
            subject_id=current.pk,
            details={"name": [current.name, changes.get("name", current.name)], "fields": sorted(changes)},
        )
        for field, value in changes.items():
            setattr(current, field, value)
        current.updated_at = timezone.now()
        _save_template(current, update_fields=[*changes, "updated_at"])
        for field in [*changes, "updated_at"]:
            setattr(template, field, getattr(current, field))
    return current


@transaction.atomic
def follow_up_template_delete(*, template: FollowUpTemplate, actor: AbstractBaseUser | None = None) -> bool:
    """Delete a template; True when it existed. Follow-ups written from it keep their text."""
    current = FollowUpTemplate.objects.select_for_update().filter(pk=template.pk).first()
    if current is None:
        return False
    current.delete()
    administrative_event_record(
        institution=Institution(pk=current.institution_id),
        actor=actor,
        action=AdministrativeAction.TEMPLATE_DELETE,
        subject_id=template.pk,
        details={"name": current.name},
    )
    return True


# --- categories -----------------------------------------------------------------------------------


def _category_fields(
    *, name: str, name_en: str, description: str, handler_kind: str, handler_sector: str
) -> dict[str, Any]:
    return {
        "name": _clean_name(name),
        "name_en": " ".join(name_en.split()),
        "description": description.strip(),
        "handler_kind": _check_choice(handler_kind, InstitutionKind, field="handler_kind", allow_blank=True),
        "handler_sector": _check_choice(handler_sector, Sector, field="handler_sector", allow_blank=True),
    }


@transaction.atomic
def category_create(
    *,
    code: str,
    name: str,
    parent: Category | None = None,
    name_en: str = "",
    description: str = "",
    handler_kind: str = "",
    handler_sector: str = "",
    is_active: bool = True,
) -> Category:
    _check_code(code)
    fields = _category_fields(
        name=name, name_en=name_en, description=description, handler_kind=handler_kind, handler_sector=handler_sector
    )
    if Category.objects.filter(code=code).exists():
        raise InstitutionError(
            InstitutionErrorCode.DUPLICATE_CODE, _("The code %(code)s is taken.") % {"code": code}, code=code
        )
    if parent is not None and (parent.pk is None or not Category.objects.filter(pk=parent.pk).exists()):
        raise InstitutionError(InstitutionErrorCode.UNKNOWN_PARENT, _("The parent category does not exist."))
    try:
        return tree_node_create(Category, parent=parent, code=code, is_active=is_active, **fields)
    except TreeError as error:
        raise from_tree_error(error) from error


@transaction.atomic
def category_update(
    *,
    category: Category,
    name: str | _Unchanged = UNCHANGED,
    name_en: str | _Unchanged = UNCHANGED,
    description: str | _Unchanged = UNCHANGED,
    handler_kind: str | _Unchanged = UNCHANGED,
    handler_sector: str | _Unchanged = UNCHANGED,
    is_active: bool | _Unchanged = UNCHANGED,
) -> Category:
    """Change a category's own fields. Its code is stable: institutions and reports refer to it."""
    current = Category.objects.select_for_update().filter(pk=category.pk).first()
    if current is None:
        raise InstitutionError(InstitutionErrorCode.UNKNOWN_CATEGORY, _("The category does not exist."))
    fields = _category_fields(
        name=current.name if isinstance(name, _Unchanged) else name,
        name_en=current.name_en if isinstance(name_en, _Unchanged) else name_en,
        description=current.description if isinstance(description, _Unchanged) else description,
        handler_kind=current.handler_kind if isinstance(handler_kind, _Unchanged) else handler_kind,
        handler_sector=current.handler_sector if isinstance(handler_sector, _Unchanged) else handler_sector,
    )
    if not isinstance(is_active, _Unchanged):
        fields["is_active"] = is_active
    changed = [field for field, value in fields.items() if getattr(current, field) != value]
    for field in changed:
        setattr(current, field, fields[field])
    if changed:
        current.save(update_fields=changed)
    return current


@transaction.atomic
def category_move(*, category: Category, new_parent: Category | None) -> Category:
    if new_parent is not None and new_parent.pk is None:
        raise InstitutionError(InstitutionErrorCode.UNKNOWN_PARENT, _("The parent category does not exist."))
    try:
        moved = tree_node_move(category, new_parent=new_parent)
    except TreeError as error:
        raise from_tree_error(error) from error
    # The subtree's paths move by a bulk update, which sends no signals: the cached category lists go.
    reference.changed()
    return moved


@dataclass(frozen=True)
class CategoryEntry:
    code: str
    parent_code: str | None
    name: str
    name_en: str
    description: str
    handler_kind: str
    handler_sector: str
    is_active: bool


@dataclass(frozen=True)
class CategoriesLoadResult:
    created: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0
    skipped: bool = False


def _file_error(message: str) -> InstitutionError:
    return InstitutionError(InstitutionErrorCode.INVALID_CATEGORY_FILE, message)


def parse_categories(document: Any) -> list[CategoryEntry]:
    """Validate a categories document; returns its entries parents first.

    Shape: ``{"categories": [{"code", "name", "name_en", "description", "handler_kind",
    "handler_sector", "is_active", "children": [...]}, ...]}``; only ``code`` and ``name`` are required.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("categories"), list):
        raise _file_error(_("The file needs a list under the key categories."))
    entries: list[CategoryEntry] = []
    seen: set[str] = set()

    def walk(items: list[Any], parent_code: str | None) -> None:
        for item in items:
            if not isinstance(item, Mapping):
                raise _file_error(_("Every category is an object."))
            code = item.get("code")
            if not isinstance(code, str) or not _SLUG.match(code) or len(code) > CODE_MAX_LENGTH:
                raise _file_error(_("Bad category code: %(code)r.") % {"code": code})
            if code in seen:
                raise _file_error(_("The category code %(code)s appears twice.") % {"code": code})
            seen.add(code)
            try:
                fields = _category_fields(
                    name=str(item.get("name", "")),
                    name_en=str(item.get("name_en", "")),
                    description=str(item.get("description", "")),
                    handler_kind=str(item.get("handler_kind", "")),
                    handler_sector=str(item.get("handler_sector", "")),
                )
            except InstitutionError as error:
                raise _file_error(f"{code}: {error.message}") from error
            entries.append(
                CategoryEntry(code=code, parent_code=parent_code, is_active=bool(item.get("is_active", True)), **fields)
            )
            children = item.get("children", [])
            if not isinstance(children, list):
                raise _file_error(_("The children of %(code)s are not a list.") % {"code": code})
            walk(children, code)

    walk(document["categories"], None)
    return entries


@transaction.atomic
def categories_load(*, path: Path | None = None, force: bool = False) -> CategoriesLoadResult:
    """Create or update the category taxonomy from a JSON file (the shipped one by default).

    Idempotent: a category is found by its code, created when missing, updated and moved when the
    file says otherwise, and left alone when equal. Categories missing from the file are kept (reports
    refer to them); deactivate them in the admin. An unchanged file is skipped unless ``force``.
    """
    source = path or CATEGORIES_FILE
    raw = source.read_bytes()
    checksum = hashlib.sha256(raw).hexdigest()
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise _file_error(_("The file is not valid JSON: %(error)s") % {"error": error}) from error
    entries = parse_categories(document)
    previous = ReferenceDataLoad.objects.select_for_update().filter(dataset=CATEGORIES_DATASET).first()
    if previous is not None and previous.checksum == checksum and not force:
        return CategoriesLoadResult(skipped=True)
    existing = {category.code: category for category in Category.objects.all()}
    created = updated = moved = unchanged = 0
    for entry in entries:
        parent = existing[entry.parent_code] if entry.parent_code else None
        current = existing.get(entry.code)
        if current is None:
            existing[entry.code] = category_create(
                code=entry.code,
                parent=parent,
                name=entry.name,
                name_en=entry.name_en,
                description=entry.description,
                handler_kind=entry.handler_kind,
                handler_sector=entry.handler_sector,
                is_active=entry.is_active,
            )
            created += 1
            continue
        was_moved = current.parent_id != (parent.pk if parent else None)
        if was_moved:
            category_move(category=current, new_parent=parent)
            moved += 1
        wanted: dict[str, Any] = {
            "name": entry.name,
            "name_en": entry.name_en,
            "description": entry.description,
            "handler_kind": entry.handler_kind,
            "handler_sector": entry.handler_sector,
            "is_active": entry.is_active,
        }
        if any(getattr(current, field) != value for field, value in wanted.items()):
            existing[entry.code] = category_update(category=current, **wanted)
            updated += 1
        elif not was_moved:
            unchanged += 1
    ReferenceDataLoad.objects.update_or_create(
        dataset=CATEGORIES_DATASET,
        defaults={
            "checksum": checksum,
            "summary": {"created": created, "updated": updated, "moved": moved, "unchanged": unchanged},
        },
    )
    return CategoriesLoadResult(created=created, updated=updated, moved=moved, unchanged=unchanged)
