"""Follow-up templates: an institution's ready-made texts, offered to it and every unit below it."""

from __future__ import annotations

import pytest

from lapor.institutions.errors import InstitutionError, InstitutionErrorCode
from lapor.institutions.models import (
    FOLLOW_UP_TEMPLATE_MAX_LENGTH,
    FollowUpTemplate,
    fill_placeholders,
    placeholders_in,
)
from lapor.institutions.selectors import follow_up_templates_for
from lapor.institutions.services import (
    follow_up_template_create,
    follow_up_template_delete,
    follow_up_template_update,
)

pytestmark = pytest.mark.django_db


def test_create_tidies_name_and_text(banten):
    template = follow_up_template_create(
        institution=banten.regency, name="  Sudah   diperbaiki ", body="\r\nTerima kasih.\r\nSalam,\r\n{officer_name}\n"
    )
    template.refresh_from_db()
    assert template.institution == banten.regency
    assert template.name == "Sudah diperbaiki"
    assert template.body == "Terima kasih.\nSalam,\n{officer_name}"
    assert template.created_at == template.updated_at


@pytest.mark.parametrize(
    ("name", "body", "code", "field"),
    [
        ("", "Teks", InstitutionErrorCode.INVALID_NAME, "name"),
        ("x" * 121, "Teks", InstitutionErrorCode.INVALID_NAME, "name"),
        ("Nama", "   \n ", InstitutionErrorCode.INVALID_TEMPLATE_TEXT, "body"),
        ("Nama", "x" * (FOLLOW_UP_TEMPLATE_MAX_LENGTH + 1), InstitutionErrorCode.INVALID_TEMPLATE_TEXT, "body"),
    ],
)
def test_create_refuses_bad_input(banten, name, body, code, field):
    with pytest.raises(InstitutionError) as raised:
        follow_up_template_create(institution=banten.regency, name=name, body=body)
    assert raised.value.code == code
    assert raised.value.details["field"] == field
    assert not FollowUpTemplate.objects.exists()


def test_names_are_unique_per_institution_only(banten):
    follow_up_template_create(institution=banten.regency, name="Selesai", body="A")
    with pytest.raises(InstitutionError) as raised:
        follow_up_template_create(institution=banten.regency, name=" Selesai ", body="B")
    assert raised.value.code == InstitutionErrorCode.DUPLICATE_TEMPLATE_NAME
    # Another institution may use the same name.
    follow_up_template_create(institution=banten.transport_office, name="Selesai", body="C")
    assert FollowUpTemplate.objects.count() == 2


def test_update_changes_only_what_is_given(banten):
    template = follow_up_template_create(institution=banten.regency, name="Lama", body="Teks lama")
    created = template.updated_at
    follow_up_template_update(template=template, body="Teks baru")
    template.refresh_from_db()
    assert (template.name, template.body) == ("Lama", "Teks baru")
    assert template.updated_at > created
    follow_up_template_update(template=template, name="Baru")
    template.refresh_from_db()
    assert (template.name, template.body) == ("Baru", "Teks baru")


def test_update_refuses_a_name_taken_in_the_same_institution(banten):
    follow_up_template_create(institution=banten.regency, name="Satu", body="A")
    second = follow_up_template_create(institution=banten.regency, name="Dua", body="B")
    with pytest.raises(InstitutionError) as raised:
        follow_up_template_update(template=second, name="Satu")
    assert raised.value.code == InstitutionErrorCode.DUPLICATE_TEMPLATE_NAME
    second.refresh_from_db()
    assert second.name == "Dua"


def test_update_of_a_deleted_template_is_refused(banten):
    template = follow_up_template_create(institution=banten.regency, name="Hilang", body="A")
    assert follow_up_template_delete(template=template) is True
    with pytest.raises(InstitutionError) as raised:
        follow_up_template_update(template=template, body="B")
    assert raised.value.code == InstitutionErrorCode.UNKNOWN_TEMPLATE
    assert follow_up_template_delete(template=template) is False


def test_templates_for_a_unit_are_its_own_and_those_above_it_nearest_first(banten, django_assert_num_queries):
    province = follow_up_template_create(institution=banten.province, name="A provinsi", body="P")
    regency_b = follow_up_template_create(institution=banten.regency, name="B kabupaten", body="K")
    regency_a = follow_up_template_create(institution=banten.regency, name="A kabupaten", body="K")
    district = follow_up_template_create(institution=banten.balaraja, name="Z kecamatan", body="D")
    # Not above the village: a sibling unit's and another branch's templates.
    jayanti = follow_up_template_create(institution=banten.jayanti, name="Jayanti", body="J")
    follow_up_template_create(institution=banten.city, name="Kota", body="C")

    with django_assert_num_queries(1):
        offered = list(follow_up_templates_for(banten.balaraja_village))
        owners = [template.institution.name for template in offered]
    assert offered == [district, regency_a, regency_b, province]
    assert owners[0] == "Kecamatan Balaraja"
    assert list(follow_up_templates_for(banten.province)) == [province]
    assert list(follow_up_templates_for(banten.jayanti)) == [jayanti, regency_a, regency_b, province]


def test_fill_placeholders_fills_known_names_and_keeps_everything_else():
    values = {"tracking_id": "LPR-123", "officer_name": "Pandu", "unknown": "x"}
    text = (
        "Laporan {tracking_id} ditangani {officer_name}; {unknown} {report_title} "
        "{tracking_id.__class__} {today:>9} { } {"
    )
    assert fill_placeholders(text, values) == (
        "Laporan LPR-123 ditangani Pandu; {unknown} {report_title} {tracking_id.__class__} {today:>9} { } {"
    )


def test_render_uses_the_body(banten):
    template = follow_up_template_create(
        institution=banten.regency, name="Terima", body="Laporan {tracking_id} diterima oleh {institution}."
    )
    assert template.render({"tracking_id": "LPR-9", "institution": "Pemkab"}) == "Laporan LPR-9 diterima oleh Pemkab."


def test_placeholders_in_splits_known_and_unknown():
    assert placeholders_in("{tracking_id} {nama} {tracking_id} {today} {x.y}") == (["tracking_id", "today"], ["nama"])
