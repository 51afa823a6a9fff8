from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from lapor.core.models import ReferenceDataLoad
from lapor.institutions.choices import InstitutionKind, Sector
from lapor.institutions.errors import InstitutionError, InstitutionErrorCode
from lapor.institutions.models import Category
from lapor.institutions.selectors import category_ancestors, category_subtree, category_tree
from lapor.institutions.services import CATEGORIES_FILE, categories_load, category_update

pytestmark = pytest.mark.django_db


def shipped() -> dict[str, Any]:
    return json.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))


def test_the_shipped_taxonomy_is_complete_and_consistent():
    top_level = shipped()["categories"]
    assert 8 <= len(top_level) <= 12
    for area in top_level:
        assert 3 <= len(area["children"]) <= 6, area["code"]
        for entry in [area, *area["children"]]:
            for field in ("name", "name_en", "description"):
                assert entry[field], (entry["code"], field)
            assert entry.get("handler_kind", "") in {"", *InstitutionKind.values}, entry["code"]
            assert entry.get("handler_sector", "") in {"", *Sector.values}, entry["code"]
    codes = {area["code"] for area in top_level}
    assert {"infrastruktur", "lingkungan-hidup", "kependudukan", "kesehatan", "pendidikan", "sosial"} <= codes
    assert {"ketenagalistrikan", "perhubungan", "perizinan", "ketenagakerjaan", "topik-lainnya"} <= codes


def test_load_builds_the_tree_and_is_idempotent(django_assert_num_queries):
    first = categories_load()
    expected = sum(1 + len(area["children"]) for area in shipped()["categories"])
    assert (first.created, first.updated, first.moved, first.skipped) == (expected, 0, 0, False)
    assert Category.objects.count() == expected
    paths_before = dict(Category.objects.values_list("code", "path"))

    assert categories_load().skipped
    forced = categories_load(force=True)
    assert (forced.created, forced.updated, forced.moved, forced.unchanged) == (0, 0, 0, expected)
    assert dict(Category.objects.values_list("code", "path")) == paths_before
    assert ReferenceDataLoad.objects.get(dataset="categories").summary["unchanged"] == expected

    lights = Category.objects.get(code="penerangan-jalan-umum")
    assert (lights.name, lights.name_en) == ("Penerangan Jalan Umum", "Street lighting")
    assert (lights.handler_kind, lights.handler_sector) == (InstitutionKind.REGIONAL_UNIT, Sector.TRANSPORTATION)
    assert Category.objects.get(code="listrik-padam").handler_kind == InstitutionKind.STATE_ENTERPRISE
    with django_assert_num_queries(1):
        assert [category.code for category in category_ancestors(lights, include_self=True)] == [
            "infrastruktur",
            "penerangan-jalan-umum",
        ]
    for category in Category.objects.select_related("parent"):
        if category.parent is None:
            assert category.depth == 1
        else:
            assert category.path.startswith(category.parent.path)
            assert category.depth == category.parent.depth + 1


def test_load_applies_renames_and_moves_from_the_file(tmp_path):
    categories_load()
    document = shipped()
    infrastructure = next(area for area in document["categories"] if area["code"] == "infrastruktur")
    transport = next(area for area in document["categories"] if area["code"] == "perhubungan")
    lights = next(child for child in infrastructure["children"] if child["code"] == "penerangan-jalan-umum")
    infrastructure["children"].remove(lights)
    lights["name_en"] = "Public street lighting"
    transport["children"].append(lights)
    changed = tmp_path / "categories.json"
    changed.write_text(json.dumps(document), encoding="utf-8")

    result = categories_load(path=changed)

    assert (result.created, result.moved, result.updated) == (0, 1, 1)
    moved = Category.objects.get(code="penerangan-jalan-umum")
    assert moved.name_en == "Public street lighting"
    assert moved.parent == Category.objects.get(code="perhubungan")
    assert [category.code for category in category_subtree(moved.parent)][-1] == "penerangan-jalan-umum"


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"items": []}, "categories"),
        ({"categories": [{"code": "Bad Code", "name": "X"}]}, "Bad Code"),
        ({"categories": [{"code": "a", "name": "A"}, {"code": "a", "name": "B"}]}, "twice"),
        ({"categories": [{"code": "a", "name": ""}]}, "name"),
        ({"categories": [{"code": "a", "name": "A", "handler_sector": "astrologi"}]}, "astrologi"),
        ({"categories": [{"code": "a", "name": "A", "children": {}}]}, "children"),
    ],
)
def test_a_bad_file_is_refused_before_anything_is_written(tmp_path, document, fragment):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InstitutionError) as error:
        categories_load(path=bad)
    assert error.value.code == InstitutionErrorCode.INVALID_CATEGORY_FILE
    assert fragment in error.value.message
    assert not Category.objects.exists()


def test_category_tree_is_one_query_and_hides_inactive_subtrees(django_assert_num_queries):
    categories_load()
    category_update(category=Category.objects.get(code="kependudukan"), is_active=False)
    with django_assert_num_queries(1):
        shown = category_tree()
    codes = [category.code for category in shown]
    assert "kependudukan" not in codes
    assert "ktp-el" not in codes
    assert codes.index("infrastruktur") < codes.index("jalan-rusak") < codes.index("lingkungan-hidup")
    assert [category.path for category in shown] == sorted(category.path for category in shown)
    assert len(category_tree(include_inactive=True)) == Category.objects.count()


def test_the_command_loads_and_reports():
    output = StringIO()
    call_command("categories", "load", stdout=output)
    assert f" {Category.objects.count()} " in output.getvalue()
    output = StringIO()
    call_command("categories", "load", stdout=output)
    assert "--force" in output.getvalue()
    with pytest.raises(CommandError):
        call_command("categories", "load", "--file", "/nonexistent/categories.json")
