from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import translation

from lapor.institutions.choices import DeadlineClock, DeadlineUnit, InstitutionKind, Sector
from lapor.institutions.errors import InstitutionError, InstitutionErrorCode
from lapor.institutions.models import Institution, InstitutionCategory, InstitutionCoverage
from lapor.institutions.services import (
    category_create,
    category_update,
    deadline_override_set,
    institution_create,
    institution_move,
    institution_set_categories,
    institution_set_coverage,
    institution_update,
)

pytestmark = pytest.mark.django_db


def error_code(call: Callable[..., object], **arguments: Any) -> str:
    with pytest.raises(InstitutionError) as error:
        call(**arguments)
    return error.value.code


def coverage_codes(institution: Institution) -> list[str]:
    return sorted(
        code or "ID"
        for code in InstitutionCoverage.objects.filter(institution=institution).values_list("region_id", flat=True)
    )


def test_codes_are_derived_from_the_parent_and_kept_unique(banten):
    assert banten.regency.code == "pemkab-tangerang"
    assert banten.transport_office.code == "pemkab-tangerang-dishub"
    again = institution_create(name="Dinas Perhubungan", short_name="Dishub", kind="opd", parent=banten.regency)
    assert again.code == "pemkab-tangerang-dishub-2"
    assert banten.province.code == "pemprov-banten"
    assert (
        error_code(institution_create, name="X", kind="opd", code="pemkab-tangerang")
        == InstitutionErrorCode.DUPLICATE_CODE
    )
    assert error_code(institution_create, name="X", kind="opd", code="Bad Code") == InstitutionErrorCode.INVALID_CODE


def test_bad_input_is_refused_with_a_code(regions):
    deleted = institution_create(name="Sementara", kind="opd")
    Institution.objects.filter(pk=deleted.pk).delete()
    cases: list[tuple[dict[str, Any], InstitutionErrorCode]] = [
        ({"name": "  ", "kind": "opd"}, InstitutionErrorCode.INVALID_NAME),
        ({"name": "X", "kind": "kerajaan"}, InstitutionErrorCode.INVALID_CHOICE),
        ({"name": "X", "kind": "opd", "sector": "astrologi"}, InstitutionErrorCode.INVALID_CHOICE),
        ({"name": "X", "kind": "opd", "time_zone": "Europe/Paris"}, InstitutionErrorCode.INVALID_CHOICE),
        ({"name": "X", "kind": "opd", "parent": deleted}, InstitutionErrorCode.UNKNOWN_PARENT),
        ({"name": "X", "kind": "opd", "parent": Institution(name="unsaved")}, InstitutionErrorCode.UNKNOWN_PARENT),
        ({"name": "X", "kind": "opd", "region_codes": ["36.99"]}, InstitutionErrorCode.UNKNOWN_REGION),
        ({"name": "X", "kind": "opd", "region_codes": ["36.3"]}, InstitutionErrorCode.INVALID_REGION_CODE),
        ({"name": "X", "kind": "opd", "category_codes": ["tidak-ada"]}, InstitutionErrorCode.UNKNOWN_CATEGORY),
    ]
    for arguments, expected in cases:
        assert error_code(institution_create, **arguments) == expected, arguments
    # Nothing was half-created: each service is atomic.
    assert not Institution.objects.filter(name="X").exists()


def test_unknown_region_error_lists_the_codes(regions):
    with pytest.raises(InstitutionError) as error:
        institution_create(name="X", kind="opd", region_codes=["36.03", "36.98", "36.99"])
    assert error.value.details == {"codes": ["36.98", "36.99"]}


def test_coverage_is_replaced_and_national_coverage_follows_the_flag(banten):
    office = banten.transport_office
    assert institution_set_coverage(institution=office, region_codes=["36.03.02", "36.03.01", "36.03.01"]) == [
        "36.03.01",
        "36.03.02",
    ]
    assert coverage_codes(office) == ["36.03.01", "36.03.02"]
    institution_update(institution=office, covers_nationally=True)
    assert coverage_codes(office) == ["36.03.01", "36.03.02", "ID"]
    institution_set_coverage(institution=office, region_codes=["36.71"])
    assert coverage_codes(office) == ["36.71", "ID"]
    institution_update(institution=office, covers_nationally=False)
    assert coverage_codes(office) == ["36.71"]
    assert coverage_codes(banten.ministry) == ["ID"]


def test_categories_are_replaced(banten, categories):
    office = banten.transport_office
    institution_set_categories(institution=office, category_codes=["jalan-rusak", "listrik-padam"])
    handled = InstitutionCategory.objects.filter(institution=office).values_list("category__code", flat=True)
    assert sorted(handled) == ["jalan-rusak", "listrik-padam"]
    institution_set_categories(institution=office, category_codes=[])
    assert not InstitutionCategory.objects.filter(institution=office).exists()


def test_deactivation_reaches_the_whole_subtree_but_reactivation_does_not(banten):
    institution_update(institution=banten.balaraja, is_active=False)
    banten.balaraja_village.refresh_from_db()
    assert banten.balaraja.is_active is False
    assert banten.balaraja_village.is_active is False
    assert Institution.objects.get(pk=banten.regency.pk).is_active
    assert (
        error_code(institution_update, institution=banten.balaraja_village, is_active=True)
        == InstitutionErrorCode.PARENT_INACTIVE
    )
    assert (
        error_code(institution_create, name="Seksi", kind="opd", parent=banten.balaraja)
        == InstitutionErrorCode.PARENT_INACTIVE
    )
    institution_update(institution=banten.balaraja, is_active=True)
    banten.balaraja_village.refresh_from_db()
    assert banten.balaraja.is_active
    assert not banten.balaraja_village.is_active
    institution_update(institution=banten.balaraja_village, is_active=True)
    assert Institution.objects.get(pk=banten.balaraja_village.pk).is_active


def test_moving_under_an_inactive_institution_deactivates_the_unit(banten):
    institution_move(institution=banten.jayanti, new_parent=banten.closed_office)
    assert Institution.objects.get(pk=banten.jayanti.pk).is_active is False


def test_update_changes_only_what_is_passed(banten):
    updated = institution_update(institution=banten.transport_office, name="  Dinas   Perhubungan Kab. Tangerang ")
    assert updated.name == "Dinas Perhubungan Kab. Tangerang"
    assert banten.transport_office.name == updated.name
    assert updated.sector == Sector.TRANSPORTATION
    assert updated.kind == InstitutionKind.REGIONAL_UNIT
    assert (
        error_code(institution_update, institution=banten.transport_office, code="pemkab-tangerang")
        == InstitutionErrorCode.DUPLICATE_CODE
    )
    assert (
        error_code(institution_update, institution=Institution(pk=987654, name="gone"), name="X")
        == InstitutionErrorCode.UNKNOWN_INSTITUTION
    )


def test_deadline_override_validation(banten):
    regency = banten.regency
    assert (
        error_code(deadline_override_set, institution=regency, clock="lunch", amount=1, unit="hours")
        == InstitutionErrorCode.INVALID_CHOICE
    )
    assert (
        error_code(deadline_override_set, institution=regency, clock="overall", amount=1, unit="weeks")
        == InstitutionErrorCode.INVALID_CHOICE
    )
    assert (
        error_code(deadline_override_set, institution=regency, clock="overall", amount=0, unit="hours")
        == InstitutionErrorCode.INVALID_AMOUNT
    )
    override = deadline_override_set(
        institution=regency,
        clock=DeadlineClock.FIRST_FOLLOW_UP,
        amount=48,
        unit=DeadlineUnit.HOURS,
        basis="Perbup Tangerang tentang standar pelayanan",
    )
    with translation.override("en"):
        assert str(override) == "First follow-up: 48 hours"


def test_category_services_validate(categories):
    assert error_code(category_create, code="infrastruktur", name="Lagi") == InstitutionErrorCode.DUPLICATE_CODE
    assert (
        error_code(category_create, code="baru", name="Baru", handler_kind="kerajaan")
        == InstitutionErrorCode.INVALID_CHOICE
    )
    unsaved_parent = type(categories.roads)(code="x", name="x")
    assert (
        error_code(category_create, code="baru", name="Baru", parent=unsaved_parent)
        == InstitutionErrorCode.UNKNOWN_PARENT
    )
    renamed = category_update(category=categories.roads, name="Jalan Rusak dan Berlubang", handler_sector="perhubungan")
    assert (renamed.name, renamed.handler_sector, renamed.code) == (
        "Jalan Rusak dan Berlubang",
        "perhubungan",
        "jalan-rusak",
    )
