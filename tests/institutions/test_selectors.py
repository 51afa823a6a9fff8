from __future__ import annotations

from collections.abc import Iterable

import pytest
from django.utils import translation

from lapor.institutions.choices import DeadlineClock, DeadlineUnit, InstitutionKind, Sector
from lapor.institutions.errors import InstitutionError, InstitutionErrorCode
from lapor.institutions.models import DeadlineOverride, Institution
from lapor.institutions.selectors import (
    covering_reason,
    effective_deadline,
    effective_time_zone,
    units_covering,
)
from lapor.institutions.services import (
    deadline_override_remove,
    deadline_override_set,
    institution_update,
)
from tests.institutions.plans import check_query_plans

BALARAJA_VILLAGE = "36.03.01.1001"


def names(units: Iterable[Institution]) -> list[str]:
    return [unit.name for unit in units]


def test_street_lights_in_a_kelurahan_reach_its_offices_deepest_first(banten, categories, django_assert_num_queries):
    with django_assert_num_queries(1):
        units = list(units_covering(village_code=BALARAJA_VILLAGE, category=categories.street_lights))
        reasons = {unit.pk: covering_reason(unit) for unit in units}
    assert names(units) == [
        "Kelurahan Balaraja",
        # depth 3, in tree order: the regency's offices and its kecamatan
        "Dinas Perhubungan",
        "Dinas Pekerjaan Umum dan Penataan Ruang",
        "Kecamatan Balaraja",
        "Pemerintah Kabupaten Tangerang",
        "Pemerintah Provinsi Banten",
    ]
    assert [unit.depth for unit in units] == [4, 3, 3, 3, 2, 1]

    transport = reasons[banten.transport_office.pk]
    assert (transport.region_code, transport.region_name) == ("36.03", "Kabupaten Tangerang")
    assert (transport.category_code, transport.category_name) == ("penerangan-jalan-umum", "Penerangan Jalan Umum")
    # Handling "Infrastruktur" covers its subcategory.
    assert reasons[banten.public_works_office.pk].category_code == "infrastruktur"
    assert reasons[banten.balaraja.pk].region_code == "36.03.01"
    village = reasons[banten.balaraja_village.pk]
    assert (village.region_code, village.category_code, village.all_categories) == (BALARAJA_VILLAGE, None, True)
    with translation.override("en"):
        assert str(transport) == "covers Kabupaten Tangerang (36.03); handles Penerangan Jalan Umum"
        assert str(village) == "covers Balaraja (36.03.01.1001); handles every category"


def test_national_coverage_and_category_inheritance(banten, categories, django_assert_num_queries):
    with django_assert_num_queries(1):
        roads = list(units_covering(village_code="36.03.02.2001", category=categories.roads))
    assert names(roads) == [
        "Dinas Pekerjaan Umum dan Penataan Ruang",
        "Kecamatan Jayanti",
        "Pemerintah Kabupaten Tangerang",
        "Pemerintah Provinsi Banten",
        "Kementerian Pekerjaan Umum",
    ]
    ministry = covering_reason(roads[-1])
    assert (ministry.region_code, ministry.nationally, ministry.category_code) == (None, True, "jalan-rusak")
    with translation.override("en"):
        assert str(ministry) == "covers the whole country; handles Jalan Rusak"

    with django_assert_num_queries(1):
        outages = list(units_covering(village_code="36.71.01.1001", category=categories.outages))
    assert names(outages) == ["Pemerintah Kota Tangerang", "Pemerintah Provinsi Banten", "PT PLN (Persero)"]
    assert covering_reason(outages[-1]).category_code == "ketenagalistrikan"


def test_without_a_category_every_covering_active_unit_counts(banten, django_assert_num_queries):
    with django_assert_num_queries(1):
        units = list(units_covering(village_code="36.03.01.2003"))
    assert names(units) == [
        "Dinas Perhubungan",
        "Dinas Pekerjaan Umum dan Penataan Ruang",
        "Kecamatan Balaraja",
        "Pemerintah Kabupaten Tangerang",
        "Pemerintah Provinsi Banten",
        "Kementerian Pekerjaan Umum",
        "PT PLN (Persero)",
    ]
    assert banten.closed_office.pk not in {unit.pk for unit in units}
    assert all(covering_reason(unit).category_code is None for unit in units)


def test_kind_and_sector_filters(banten, categories, django_assert_num_queries):
    with django_assert_num_queries(1):
        offices = list(
            units_covering(
                village_code=BALARAJA_VILLAGE, category=categories.street_lights, kinds=[InstitutionKind.REGIONAL_UNIT]
            )
        )
    assert names(offices) == ["Dinas Perhubungan", "Dinas Pekerjaan Umum dan Penataan Ruang"]
    with django_assert_num_queries(1):
        transport = list(units_covering(village_code=BALARAJA_VILLAGE, sectors=[Sector.TRANSPORTATION]))
    assert transport == [banten.transport_office]


def test_deactivated_units_drop_out(banten, categories):
    institution_update(institution=banten.balaraja, is_active=False)
    units = units_covering(village_code=BALARAJA_VILLAGE, category=categories.street_lights)
    # The kelurahan below the closed kecamatan closes with it.
    assert "Kecamatan Balaraja" not in names(units)
    assert "Kelurahan Balaraja" not in names(units)


def test_a_district_code_works_and_a_bad_code_is_refused(banten):
    assert "Kecamatan Balaraja" in names(units_covering(village_code="36.03.01"))
    assert "Kecamatan Balaraja" not in names(units_covering(village_code="36.03.02"))
    with pytest.raises(InstitutionError) as error:
        units_covering(village_code="36-03")
    assert error.value.code == InstitutionErrorCode.INVALID_REGION_CODE


def found(override: DeadlineOverride | None) -> DeadlineOverride:
    assert override is not None
    return override


def test_deadline_overrides_are_inherited_by_the_nearest_ancestor(banten, django_assert_num_queries):
    # Kabupaten Tangerang promises a first follow-up within 2x24 hours.
    deadline_override_set(
        institution=banten.regency, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=48, unit=DeadlineUnit.HOURS
    )
    deadline_override_set(
        institution=banten.balaraja, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=1, unit=DeadlineUnit.WORKING_DAYS
    )
    with django_assert_num_queries(1):
        for_office = found(effective_deadline(institution=banten.transport_office, clock=DeadlineClock.FIRST_FOLLOW_UP))
        assert for_office.institution == banten.regency
    assert (for_office.amount, for_office.unit) == (48, DeadlineUnit.HOURS)
    # The kelurahan inherits from its kecamatan, the nearer of the two.
    nearest = found(effective_deadline(institution=banten.balaraja_village, clock=DeadlineClock.FIRST_FOLLOW_UP))
    assert (nearest.institution_id, nearest.amount, nearest.unit) == (banten.balaraja.pk, 1, "working_days")
    assert effective_deadline(institution=banten.province, clock=DeadlineClock.FIRST_FOLLOW_UP) is None
    assert effective_deadline(institution=banten.regency, clock=DeadlineClock.RESOLUTION_LIGHT) is None
    assert effective_deadline(institution=banten.city, clock=DeadlineClock.FIRST_FOLLOW_UP) is None

    # Setting again replaces; removing falls back to the regency.
    deadline_override_set(
        institution=banten.balaraja, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=2, unit=DeadlineUnit.WORKING_DAYS
    )
    replaced = found(effective_deadline(institution=banten.balaraja_village, clock=DeadlineClock.FIRST_FOLLOW_UP))
    assert replaced.amount == 2
    assert deadline_override_remove(institution=banten.balaraja, clock=DeadlineClock.FIRST_FOLLOW_UP)
    assert not deadline_override_remove(institution=banten.balaraja, clock=DeadlineClock.FIRST_FOLLOW_UP)
    fallback = found(effective_deadline(institution=banten.balaraja_village, clock=DeadlineClock.FIRST_FOLLOW_UP))
    assert fallback.institution_id == banten.regency.pk


def test_time_zone_is_inherited(banten, django_assert_num_queries):
    assert effective_time_zone(institution=banten.balaraja_village) == ""
    institution_update(institution=banten.province, time_zone="Asia/Jakarta")
    institution_update(institution=banten.balaraja, time_zone="Asia/Makassar")
    with django_assert_num_queries(1):
        assert effective_time_zone(institution=banten.balaraja_village) == "Asia/Makassar"
    assert effective_time_zone(institution=banten.transport_office) == "Asia/Jakarta"


def test_hot_queries_read_through_indexes(db):
    """On SQLite here (PostgreSQL has its own pass in test_postgres.py): no full scan of institutions."""
    plans = check_query_plans()
    assert plans["units_covering"]
