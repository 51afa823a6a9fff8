from __future__ import annotations

import pytest
from django.urls import reverse

from lapor.institutions.models import Category, DeadlineOverride, Institution, InstitutionCoverage

pytestmark = pytest.mark.django_db


def inline_management(prefix: str, total: int = 0, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_lists_and_forms_render(admin_client, banten):
    for url in [
        reverse("admin:institutions_institution_changelist"),
        reverse("admin:institutions_institution_changelist") + "?kind__exact=opd&depth=3&q=Dishub",
        reverse("admin:institutions_institution_add"),
        reverse("admin:institutions_institution_change", args=[banten.regency.pk]),
        reverse("admin:institutions_category_changelist"),
        reverse(
            "admin:institutions_category_change", args=[banten.transport_office.handled_categories.get().category_id]
        ),
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
    response = admin_client.get(reverse("admin:institutions_institution_changelist") + "?q=Dishub")
    assert b"Dinas Perhubungan" in response.content
    assert b"Kecamatan Jayanti" not in response.content


def test_adding_through_the_admin_goes_through_the_services(admin_client, banten):
    data = {
        "parent": str(banten.regency.pk),
        "name": "Dinas Lingkungan Hidup",
        "short_name": "DLH",
        "code": "",
        "kind": "opd",
        "sector": "lingkungan_hidup",
        "is_active": "on",
        "time_zone": "",
        **inline_management("coverages", total=1),
        "coverages-0-region": "36.03",
        **inline_management("handled_categories", total=1),
        "handled_categories-0-category": str(Category.objects.get(code="infrastruktur").pk),
        **inline_management("deadline_overrides", total=1),
        "deadline_overrides-0-clock": "first_follow_up",
        "deadline_overrides-0-amount": "48",
        "deadline_overrides-0-unit": "hours",
        "deadline_overrides-0-basis": "",
    }
    response = admin_client.post(reverse("admin:institutions_institution_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Institution.objects.get(name="Dinas Lingkungan Hidup")
    assert created.code == "pemkab-tangerang-dlh"
    assert created.parent == banten.regency
    assert created.path.startswith(banten.regency.path)
    assert created.depth == 3
    assert list(InstitutionCoverage.objects.filter(institution=created).values_list("region_id", flat=True)) == [
        "36.03"
    ]
    assert DeadlineOverride.objects.get(institution=created).amount == 48


def test_changing_the_parent_moves_and_a_cycle_is_a_form_error(admin_client, banten):
    url = reverse("admin:institutions_institution_change", args=[banten.balaraja.pk])
    data = {
        "name": "Kecamatan Balaraja",
        "short_name": "",
        "code": banten.balaraja.code,
        "kind": "kecamatan",
        "sector": "umum",
        "is_active": "on",
        "time_zone": "",
        **inline_management("coverages", total=1, initial=1),
        "coverages-0-id": str(InstitutionCoverage.objects.get(institution=banten.balaraja).pk),
        "coverages-0-institution": str(banten.balaraja.pk),
        "coverages-0-region": "36.03.01",
        **inline_management("handled_categories"),
        **inline_management("deadline_overrides"),
    }
    response = admin_client.post(url, {**data, "parent": str(banten.balaraja_village.pk)})
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert Institution.objects.get(pk=banten.balaraja.pk).parent == banten.regency

    response = admin_client.post(url, {**data, "parent": str(banten.city.pk)})
    assert response.status_code == 302
    moved = Institution.objects.get(pk=banten.balaraja.pk)
    assert moved.parent == banten.city
    assert Institution.objects.get(pk=banten.balaraja_village.pk).path.startswith(moved.path)
    # The category inline was submitted empty: the unit now handles none.
    assert not moved.handled_categories.exists()
