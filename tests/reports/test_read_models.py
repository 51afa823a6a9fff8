"""The read models of a report are ready to be published as OpenAPI schemas: pydantic derives from
each the JSON schema the API will publish (its properties are exactly the dataclass's fields, each of
a declared type), and reports serialized by the real serializers validate against that schema, strictly,
and come back equal, from Python values and from JSON."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from pydantic import TypeAdapter

from lapor.institutions.services import category_create
from lapor.reports import read_models
from lapor.reports.access import access_report, visible_reports
from lapor.reports.choices import ArchiveReason
from lapor.reports.models import Report
from lapor.reports.read_models import (
    READ_MODELS,
    ExportRow,
    PublicReport,
    PublicReportSummary,
    ReporterReportSummary,
    ReporterView,
    StaffView,
)
from lapor.reports.serializers import (
    EXPORT_FIELDS,
    export_rows,
    public_report,
    public_report_summary,
    reporter_report_summary,
    reporter_view,
    staff_view,
)
from lapor.reports.services import report_archive, report_dispatch
from tests.reports.test_privacy import _live_an_anonymous_life

CLASSES = [
    value
    for value in vars(read_models).values()
    if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == read_models.__name__
]
# A property the schema gives a type of its own (or a choice of types, or a reference to a part).
TYPED_KEYS = {"type", "$ref", "anyOf", "enum"}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_every_read_model_is_a_frozen_slotted_dataclass():
    assert set(READ_MODELS) <= set(CLASSES)
    assert len(CLASSES) >= 15
    for cls in CLASSES:
        assert cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]
        assert "__slots__" in vars(cls), cls


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_the_schema_of_a_read_model_has_exactly_its_fields_all_required_and_typed(cls):
    schema = TypeAdapter(cls).json_schema()
    names = [field.name for field in dataclasses.fields(cls)]
    assert schema["title"] == cls.__name__
    assert list(schema["properties"]) == names
    assert schema["required"] == names
    for name, prop in schema["properties"].items():
        assert TYPED_KEYS & set(prop), (cls.__name__, name, prop)
    # Nested parts are read models too, each published once under its own name.
    assert set(schema.get("$defs", {})) <= {part.__name__ for part in CLASSES}


def test_the_staff_schema_names_every_part_it_is_made_of():
    defs = set(TypeAdapter(StaffView).json_schema()["$defs"])
    assert defs == {
        "ArchiveNote",
        "AttachmentView",
        "CategoryRef",
        "ClockView",
        "InstitutionRef",
        "RegionNames",
        "ReportDates",
        "ReportStatus",
        "ReporterContact",
        "StaffEventView",
    }


def test_the_fields_a_reporter_writes_each_have_their_place_in_the_staff_and_reporter_views():
    for cls in (StaffView, ReporterView):
        assert set(Report.REPORTER_TEXT_FIELDS) <= {field.name for field in dataclasses.fields(cls)}, cls


def _views(world) -> list[Any]:
    """Every shape, from reports that fill every part: a trail of every kind of entry, files of the
    reporter and of staff, deadlines, a category, a region, a named reporter, an archive note."""
    category = category_create(code="pungli", name="Pungutan liar")
    lived = _live_an_anonymous_life(world, world.reporter)
    lived.category = category
    lived.save(update_fields=["category"])
    named = report_dispatch(
        user=world.national_admin, report=world.submit(category=category), institution=world.city
    ).report
    archived = report_archive(
        user=world.national_admin,
        report=world.submit(),
        reason=ArchiveReason.OUT_OF_SCOPE,
        explanation="Bukan kewenangan instansi pemerintah.",
    ).report
    anonymous = lived.tracking_id
    return [
        public_report(access_report(AnonymousUser(), anonymous)),
        public_report_summary(access_report(AnonymousUser(), anonymous)),
        reporter_view(access_report(world.reporter, anonymous)),
        reporter_view(access_report(world.reporter, archived.tracking_id)),
        reporter_report_summary(access_report(world.reporter, anonymous)),
        staff_view(access_report(world.national_admin, anonymous), viewer=world.national_admin),
        staff_view(access_report(world.coordinator, named.tracking_id), viewer=world.coordinator),
        staff_view(access_report(world.national_admin, archived.tracking_id), viewer=world.national_admin),
    ]


def test_real_reports_validate_against_their_schemas_and_come_back_equal(world, media):
    views = _views(world)
    assert {type(view) for view in views} == {
        PublicReport,
        PublicReportSummary,
        ReporterView,
        ReporterReportSummary,
        StaffView,
    }
    # The sample fills what may be empty, so that each part's schema is put to the test.
    staff = [view for view in views if isinstance(view, StaffView)]
    assert all(view.events and view.clocks and view.region for view in staff)
    assert any(view.reporter is not None for view in staff)
    assert any(view.reporter is None for view in staff)
    assert any(view.archive is not None for view in staff)
    assert any(view.category is not None for view in staff)
    assert any(view.attachments for view in views if isinstance(view, PublicReport | ReporterView | StaffView))
    assert any(view.units and view.copies for view in staff)
    for view in views:
        name = type(view).__name__
        adapter = TypeAdapter(type(view))
        assert _impure(dataclasses.asdict(view)) == [], name
        assert adapter.validate_python(dataclasses.asdict(view)) == view, name
        # Serializing warns of any value that is not of its declared type; here that fails the test.
        published = adapter.dump_json(view, warnings="error")
        assert adapter.validate_json(published, strict=True) == view, name


def _impure(value: Any, path: str = "") -> list[str]:
    """Where ``value`` holds anything but plain JSON values: an enum member or a lazy translation
    where a string belongs would reach a client only by luck of its serializer."""
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _impure(item, f"{path}.{key}")]
    if isinstance(value, list | tuple):
        return [found for index, item in enumerate(value) for found in _impure(item, f"{path}[{index}]")]
    return [] if type(value) in (str, int, float, bool, type(None)) else [f"{path}: {type(value).__name__}"]


def test_a_read_model_cannot_be_changed_on_its_way_to_a_face(world, media):
    view = _views(world)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.title = "Diubah"


def test_export_rows_have_exactly_the_declared_columns(world):
    report_dispatch(user=world.national_admin, report=world.submit(), institution=world.city)
    rows = list(export_rows(visible_reports(world.national_admin)))
    assert rows
    adapter = TypeAdapter(ExportRow)
    for row in rows:
        assert tuple(row) == EXPORT_FIELDS
        assert adapter.validate_python(row, strict=True) == row


@pytest.mark.django_db
def test_the_regions_above_a_village_are_read_in_one_query_unless_selected(world, django_assert_num_queries):
    from lapor.reports.serializers import public_report_summary

    report = report_dispatch(user=world.national_admin, report=world.submit(), institution=world.city).report
    selected = Report.objects.select_related("category", "owner", "village__parent__parent__parent").get(pk=report.pk)
    with django_assert_num_queries(0):
        expected = public_report_summary(selected).region
    assert expected is not None
    assert expected.province
    assert expected.regency
    assert expected.district
    assert expected.village
    # The village alone (as access.reporter_proof_by_link selects it): the three above in one query.
    plain = Report.objects.select_related("category", "owner", "village").get(pk=report.pk)
    with django_assert_num_queries(1):
        assert public_report_summary(plain).region == expected


@pytest.mark.parametrize("language", ["id", "en"])
def test_labels_are_the_models_display_in_every_language(language):
    from django.utils import translation

    from lapor.reports.choices import ReportKind, Status
    from lapor.reports.serializers import _label

    with translation.override(language):
        for status in [*Status.values, "unknown"]:
            assert _label(Status, status) == Report(status=status).get_status_display()
        for kind in [*ReportKind.values, "unknown"]:
            assert _label(ReportKind, kind) == Report(kind=kind).get_kind_display()
