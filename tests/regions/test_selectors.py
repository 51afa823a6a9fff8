"""Region reads: code helpers without the database, and one query per selector."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from lapor.regions.choices import RegionLevel
from lapor.regions.codes import InvalidRegionCode, parent_code, province_code, region_kind, region_level
from lapor.regions.models import Region
from lapor.regions.selectors import (
    ancestor_codes,
    region_ancestors,
    region_children,
    region_get,
    region_names,
    region_search,
)
from lapor.regions.services import region_update
from lapor.regions.tokens import name_tokens, prefix_upper_bound

MALFORMED_CODES = [
    "",
    "3",
    "363",
    "36.",
    "36.3",
    "36-03",
    "36.03.01.201",
    "36.03.01.20011",
    " 36",
    "36.03.01.2001.1",
    "ab",
    "\u0663\u0666",  # Arabic-Indic digits are digits to Python's regular expressions, not to Kemendagri
]


def codes(regions: Iterable[Region]) -> list[str]:
    return [region.code for region in regions]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("36", ["36"]),
        ("36.03", ["36", "36.03"]),
        ("36.03.01", ["36", "36.03", "36.03.01"]),
        ("36.03.01.2001", ["36", "36.03", "36.03.01", "36.03.01.2001"]),
    ],
)
def test_ancestor_codes_come_from_the_code_alone(code, expected):
    # No django_db mark: a database query here would fail the test.
    assert ancestor_codes(code) == expected
    assert region_level(code) == len(expected)
    assert parent_code(code) == (expected[-2] if len(expected) > 1 else None)
    assert province_code(code) == "36"


@pytest.mark.parametrize("code", [*MALFORMED_CODES, None, 36])
def test_malformed_codes_raise_a_typed_error(code):
    with pytest.raises(InvalidRegionCode, match="is not a region code") as caught:
        ancestor_codes(code)
    assert isinstance(caught.value, ValueError)
    assert caught.value.code == code


def test_kind_follows_name_and_village_code():
    assert region_kind("36.74", "Kota Tangerang Selatan") == "kota"
    assert region_kind("31.74", "Kota Administrasi Jakarta Selatan") == "kota"
    assert region_kind("36.03", "Kabupaten Tangerang") == "kabupaten"
    assert region_kind("36.03", "Kotabaru") == "kabupaten"
    assert region_kind("36.74.03.1001", "Pondok Aren") == "kelurahan"
    assert region_kind("36.74.03.2001", "Pondok Aren") == "desa"
    assert region_kind("91.03.01.3007", "Desa Adat Yoboi") == "desa"


def test_name_tokens_are_lowercase_ascii_words():
    assert name_tokens("Kota Tangerang Selatan") == ["kota", "tangerang", "selatan"]
    assert name_tokens("Regapu\u2019u") == name_tokens("regapu'u") == name_tokens("REGAPUU") == ["regapuu"]
    assert name_tokens('Soka"an') == ["sokaan"]
    assert name_tokens("Lubuk Pakam I,II") == ["lubuk", "pakam", "i", "ii"]
    assert name_tokens("Pulau-Pulau Aru (Dobo)") == ["pulau", "aru", "dobo"]
    assert name_tokens("Sé  Ñandú") == ["se", "nandu"]
    assert name_tokens(" ,.- ") == []


@pytest.mark.parametrize(
    ("prefix", "bound"), [("sel", "sem"), ("saz", "sb"), ("a9", "aa"), ("9", "a"), ("zz", None), ("z", None)]
)
def test_prefix_upper_bound_stays_in_the_token_alphabet(prefix, bound):
    assert prefix_upper_bound(prefix) == bound


@pytest.mark.django_db
def test_region_get(small_regions, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert region_get("36.74").name == "Kota Tangerang Selatan"
    with pytest.raises(Region.DoesNotExist):
        region_get("36.99")
    with django_assert_num_queries(0), pytest.raises(InvalidRegionCode):
        region_get("36.7")


@pytest.mark.django_db
def test_region_children_in_one_query(small_regions, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert codes(region_children(None)) == ["31", "36", "91"]
    with django_assert_num_queries(1):
        assert codes(region_children("36")) == ["36.03", "36.71", "36.74"]
    with django_assert_num_queries(1):
        assert codes(region_children("36.74.03")) == ["36.74.03.1001", "36.74.03.1002", "36.74.03.2001"]
    assert codes(region_children("36.74.03.1001")) == []

    region_update(code="36.71", name="Kota Tangerang", is_active=False)
    assert codes(region_children("36")) == ["36.03", "36.74"]
    assert codes(region_children("36", include_inactive=True)) == ["36.03", "36.71", "36.74"]
    with pytest.raises(InvalidRegionCode):
        region_children("36.")


@pytest.mark.django_db
def test_region_ancestors_in_one_query(small_regions, django_assert_num_queries):
    with django_assert_num_queries(1):
        ancestors = region_ancestors("36.74.03.1001")
    assert codes(ancestors) == ["36", "36.74", "36.74.03"]
    assert ancestors[1].name == "Kota Tangerang Selatan"
    with django_assert_num_queries(1):
        assert codes(region_ancestors("36.74.03", include_self=True)) == ["36", "36.74", "36.74.03"]
    with django_assert_num_queries(0):
        assert region_ancestors("36") == []
    with pytest.raises(InvalidRegionCode):
        region_ancestors("36.74.3")


@pytest.mark.django_db
def test_search_finds_a_city_from_the_start_of_its_words(small_regions, django_assert_num_queries):
    with django_assert_num_queries(1):
        results = region_search("tangerang sel")

    # Kota Tangerang Selatan outranks the village "Tangerang Sela" by level; both match every word.
    assert codes(results) == ["36.74", "36.03.01.2004"]
    assert results[0].name == "Kota Tangerang Selatan"
    assert codes(region_search("  TANGERANG,  Sel ")) == codes(results)
    assert codes(region_search("sel tangerang")) == codes(results)


@pytest.mark.django_db
def test_search_ranks_higher_levels_then_shorter_names(small_regions):
    assert codes(region_search("tangerang")) == [
        "36.71",  # Kota Tangerang
        "36.03",  # Kabupaten Tangerang
        "36.74",  # Kota Tangerang Selatan
        "36.71.01",  # the district Tangerang
        "36.03.01.2004",  # the village Tangerang Sela
    ]
    assert codes(region_search("pondok")) == ["36.74.03", "36.74.03.1001", "36.74.03.1002"]
    assert codes(region_search("balaraja")) == ["36.03.01", "36.03.01.1001"]


@pytest.mark.django_db
def test_search_filters_and_limits(small_regions, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert codes(region_search("tangerang", level=RegionLevel.REGENCY)) == ["36.71", "36.03", "36.74"]
    assert codes(region_search("tangerang", level=4)) == ["36.03.01.2004"]
    with django_assert_num_queries(1):
        assert codes(region_search("tangerang", within="36.03")) == ["36.03.01.2004"]
    assert codes(region_search("pondok", within="36.74")) == ["36.74.03", "36.74.03.1001", "36.74.03.1002"]
    assert codes(region_search("pondok", within="36.74.03")) == ["36.74.03.1001", "36.74.03.1002"]
    assert region_search("pondok", within="31") == []
    assert codes(region_search("tangerang", limit=2)) == ["36.71", "36.03"]
    with django_assert_num_queries(0):
        assert region_search("tangerang", limit=0) == []
        assert region_search("  ,;  ") == []
    with pytest.raises(InvalidRegionCode):
        region_search("tangerang", within="36.0")


@pytest.mark.django_db
def test_search_folds_punctuation_and_accents(small_regions):
    assert codes(region_search("soka'an")) == ["36.74.03.2001"]
    assert codes(region_search("Sokaan")) == ["36.74.03.2001"]
    assert codes(region_search("regapu\u2019u")) == ["91.03.01.2001"]
    assert codes(region_search("regapu")) == ["91.03.01.2001"]
    assert codes(region_search("desa adat")) == ["91.03.01.3007"]
    assert codes(region_search("kota adm jak sel")) == ["31.74"]
    assert region_search("tangerang utara") == []
    assert region_search("zzz") == []


@pytest.mark.django_db
def test_region_names_in_one_query(small_regions, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert region_names(["36", "36.74", "99", "36"]) == {"36": "Banten", "36.74": "Kota Tangerang Selatan"}
    with django_assert_num_queries(0):
        assert region_names([]) == {}


@pytest.mark.django_db
def test_a_name_matching_one_word_twice_is_one_result(small_regions, django_assert_num_queries):
    region_update(code="36.74.03.1002", name="Selat Selatan", is_active=True)

    with django_assert_num_queries(1):
        results = region_search("sel")

    assert codes(results) == ["36.74", "31.74", "36.74.03.1002", "36.03.01.2004"]
    assert codes(region_search("sel", limit=3)) == ["36.74", "31.74", "36.74.03.1002"]
