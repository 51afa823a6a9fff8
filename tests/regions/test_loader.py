"""regions_load: creates, compares, updates and deactivates regions from the CSV files, all or nothing."""

from __future__ import annotations

import pytest

from lapor.core.models import ReferenceDataLoad
from lapor.regions.choices import RegionKind, RegionLevel
from lapor.regions.models import Region, RegionNameToken
from lapor.regions.selectors import region_search
from lapor.regions.services import DATASET, RegionDataError, region_update, regions_load
from tests.regions.conftest import (
    SMALL_COUNTS,
    Dataset,
    WriteCounter,
    assert_tokens_follow_regions,
    load,
    write_dataset,
)

pytestmark = pytest.mark.django_db


def level_counts() -> dict[int, int]:
    return {level: Region.objects.filter(level=level).count() for level in RegionLevel}


def test_first_load_creates_every_level(source_dir, dataset):
    summary = load(source_dir, dataset)

    assert not summary.skipped
    assert {level: counts.created for level, counts in summary.levels.items()} == SMALL_COUNTS
    assert all(counts.unchanged == counts.updated == counts.deactivated == 0 for counts in summary.levels.values())
    assert level_counts() == SMALL_COUNTS
    assert summary.written == sum(SMALL_COUNTS.values())

    selatan = Region.objects.get(code="36.74")
    assert (selatan.name, selatan.level, selatan.kind, selatan.parent_id) == (
        "Kota Tangerang Selatan",
        RegionLevel.REGENCY,
        RegionKind.CITY,
        "36",
    )
    assert Region.objects.get(code="36.03").kind == RegionKind.REGENCY
    assert Region.objects.get(code="36").kind == RegionKind.PROVINCE
    assert Region.objects.get(code="36.74.03").kind == RegionKind.DISTRICT
    assert Region.objects.get(code="36.74.03.1001").kind == RegionKind.URBAN_VILLAGE
    assert Region.objects.get(code="36.74.03.2001").kind == RegionKind.RURAL_VILLAGE
    # A "desa adat" (village code 3xxx) is a desa.
    assert Region.objects.get(code="91.03.01.3007").kind == RegionKind.RURAL_VILLAGE
    assert Region.objects.get(code="36.74.03.2001").name == 'Soka"an'
    assert Region.objects.filter(is_active=True).count() == sum(SMALL_COUNTS.values())

    tokens = set(RegionNameToken.objects.filter(region_id="36.74").values_list("token", flat=True))
    assert tokens == {"kota", "tangerang", "selatan"}
    assert set(RegionNameToken.objects.filter(region_id="91.03.01.2001").values_list("token", flat=True)) == {"regapuu"}
    assert RegionNameToken.objects.values("region").distinct().count() == sum(SMALL_COUNTS.values())
    assert_tokens_follow_regions()

    stored = ReferenceDataLoad.objects.get(dataset=DATASET)
    assert stored.checksum == summary.checksum
    assert stored.summary["levels"]["village"]["created"] == SMALL_COUNTS[RegionLevel.VILLAGE]


def test_second_load_writes_nothing(source_dir, dataset):
    load(source_dir, dataset)
    tokens_before = RegionNameToken.objects.count()

    with WriteCounter() as counter:
        summary = load(source_dir, dataset, force=True)

    assert counter.writes == []
    assert summary.written == 0
    assert summary.tokens_written == 0
    assert {level: counts.unchanged for level, counts in summary.levels.items()} == SMALL_COUNTS
    assert RegionNameToken.objects.count() == tokens_before


def test_a_changed_file_updates_names_and_adds_codes_without_breaking_references(source_dir, dataset):
    load(source_dir, dataset)
    ciater = Region.objects.get(code="36.74.01.1001")
    serpong = Region.objects.get(code="36.74.01")

    dataset["regencies.csv"][1] = ("36.03", "36", "Kota Tangerang Raya")
    dataset["districts.csv"].append(("36.74.02", "36.74", "Serpong Utara"))
    dataset["villages.csv"].append(("36.74.02.1001", "36.74.02", "Pakualam"))
    dataset["villages.csv"][5] = ("36.74.01.1001", "36.74.01", "Ciater Baru")
    summary = load(source_dir, dataset)

    regency, district, village = (
        summary.levels[level] for level in (RegionLevel.REGENCY, RegionLevel.DISTRICT, RegionLevel.VILLAGE)
    )
    assert (regency.updated, regency.created, regency.unchanged) == (1, 0, 4)
    assert (district.created, district.updated, district.unchanged) == (1, 0, 6)
    assert (village.created, village.updated, village.unchanged) == (1, 1, 10)
    assert summary.levels[RegionLevel.PROVINCE].unchanged == 3

    renamed = Region.objects.get(code="36.03")
    assert (renamed.name, renamed.kind) == ("Kota Tangerang Raya", RegionKind.CITY)
    ciater.refresh_from_db()
    assert ciater.name == "Ciater Baru"
    # The rows other rows point at are the same rows: nothing was deleted and re-created.
    assert ciater.parent_id == serpong.code
    assert list(serpong.children.values_list("code", flat=True)) == ["36.74.01.1001"]
    assert Region.objects.select_related("parent").get(code="36.74.02.1001").parent == Region(code="36.74.02")
    assert Region.objects.get(code="36.03.01").parent == renamed

    assert [region.code for region in region_search("ciater baru")] == ["36.74.01.1001"]
    assert [region.code for region in region_search("kabupaten tangerang")] == []
    assert [region.code for region in region_search("tangerang raya")] == ["36.03"]
    assert [region.code for region in region_search("pakualam")] == ["36.74.02.1001"]
    assert set(RegionNameToken.objects.filter(region_id="36.74.01.1001").values_list("token", flat=True)) == {
        "ciater",
        "baru",
    }
    assert_tokens_follow_regions()


def test_vanished_codes_are_deactivated_never_deleted_and_come_back(source_dir, dataset):
    load(source_dir, dataset)
    full = copy_of(dataset)
    dataset["districts.csv"] = [row for row in dataset["districts.csv"] if row[0] != "36.74.03"]
    dataset["villages.csv"] = [row for row in dataset["villages.csv"] if not row[0].startswith("36.74.03.")]

    summary = load(source_dir, dataset)

    assert summary.levels[RegionLevel.DISTRICT].deactivated == 1
    assert summary.levels[RegionLevel.VILLAGE].deactivated == 3
    assert level_counts() == SMALL_COUNTS
    gone = Region.objects.filter(code__startswith="36.74.03")
    assert gone.count() == 4
    assert not gone.filter(is_active=True).exists()
    assert_tokens_follow_regions()
    assert region_search("pondok") == []
    assert {region.code for region in region_search("pondok", include_inactive=True)} == {
        "36.74.03",
        "36.74.03.1001",
        "36.74.03.1002",
    }

    summary = load(source_dir, full)

    assert summary.levels[RegionLevel.DISTRICT].reactivated == 1
    assert summary.levels[RegionLevel.VILLAGE].reactivated == 3
    assert summary.levels[RegionLevel.VILLAGE].created == 0
    assert gone.filter(is_active=True).count() == 4
    assert_tokens_follow_regions()


def test_an_orphan_parent_is_a_clear_error_and_nothing_is_written(source_dir, dataset):
    dataset["villages.csv"].append(("36.74.09.1001", "36.74.09", "Nowhere"))

    with pytest.raises(RegionDataError) as caught:
        load(source_dir, dataset)

    error = caught.value
    assert (error.filename, error.line, error.code) == ("villages.csv", 13, "36.74.09.1001")
    assert "villages.csv:13" in str(error)
    assert "36.74.09" in str(error)
    assert "districts.csv" in str(error)
    assert Region.objects.count() == 0
    assert RegionNameToken.objects.count() == 0
    assert not ReferenceDataLoad.objects.filter(dataset=DATASET).exists()


def test_a_bad_file_leaves_the_previous_load_untouched(source_dir, dataset):
    load(source_dir, dataset)
    dataset["villages.csv"][0] = ("31.74.01.1001", "31.74.01", "Tebet Timur Baru")
    dataset["regencies.csv"].append(("36.75", "36", "Kota Baru"))
    dataset["districts.csv"].append(("36.75.01", "36.71", "Misplaced"))

    with WriteCounter() as counter, pytest.raises(RegionDataError, match=r"districts.csv:8: 36.75.01 must belong"):
        load(source_dir, dataset)

    assert counter.writes == []
    assert level_counts() == SMALL_COUNTS
    assert Region.objects.get(code="31.74.01.1001").name == "Tebet Timur"


@pytest.mark.parametrize(
    ("filename", "row", "message"),
    [
        ("provinces.csv", ("3A", "Nowhere"), r"provinces.csv:5: '3A' is not a province code"),
        ("regencies.csv", ("36.7", "36", "Kota Nowhere"), r"regencies.csv:7: '36.7' is not a regency or city code"),
        ("districts.csv", ("36.74.01.1001", "36.74", "Wrong level"), r"districts.csv:8: '36.74.01.1001' is not a"),
        ("villages.csv", ("36.74.01.101", "36.74.01", "Short"), r"villages.csv:13: '36.74.01.101' is not a village"),
        ("villages.csv", ("36.74.01.1009", "36.74.03", "Elsewhere"), r"villages.csv:13: 36.74.01.1009 must belong"),
        ("regencies.csv", ("36.74", "36", "Again"), r"regencies.csv:7: code 36.74 appears a second time .*line 5"),
        ("districts.csv", ("36.74.05", "36.74", "  "), r"districts.csv:8: the name of 36.74.05 must have"),
        ("villages.csv", ("36.74.01.1009", "Ciater Dua"), r"villages.csv:13: expected 3 columns, found 2"),
        ("provinces.csv", (" 9 1", "Spaced"), r"provinces.csv:5: '9 1' is not a province code"),
    ],
)
def test_malformed_rows_are_errors_naming_file_line_and_code(source_dir, dataset, filename, row, message):
    dataset[filename].append(row)

    with pytest.raises(RegionDataError, match=message):
        load(source_dir, dataset)

    assert Region.objects.count() == 0


def test_a_wrong_header_or_missing_file_is_an_error(source_dir, dataset):
    write_dataset(source_dir, dataset)
    (source_dir / "districts.csv").write_text("kode,kabupaten,nama\n36.74.01,36.74,Serpong\n", encoding="utf-8")
    with pytest.raises(RegionDataError, match=r"districts.csv:1: the header must be code,regency_code,name"):
        regions_load(source_dir=source_dir)

    (source_dir / "villages.csv").unlink()
    with pytest.raises(RegionDataError, match=r"villages.csv: cannot read .*villages.csv"):
        regions_load(source_dir=source_dir)

    write_dataset(source_dir, dataset)
    (source_dir / "villages.csv").write_bytes(b"code,district_code,name\n36.74.01.1001,36.74.01,\xff\n")
    with pytest.raises(RegionDataError, match=r"villages.csv: the file is not UTF-8"):
        regions_load(source_dir=source_dir, force=True)
    assert Region.objects.count() == 0


def test_unchanged_files_are_skipped_unless_forced(source_dir, dataset, django_assert_max_num_queries):
    load(source_dir, dataset)
    # Something changed the table behind the loader's back; only a forced load compares again.
    Region.objects.filter(code="36.74").update(name="Tangsel")

    with WriteCounter() as counter, django_assert_max_num_queries(4):
        skipped = regions_load(source_dir=source_dir)

    assert skipped.skipped
    assert skipped.written == 0
    assert counter.writes == []
    assert Region.objects.get(code="36.74").name == "Tangsel"

    forced = regions_load(source_dir=source_dir, force=True)

    assert not forced.skipped
    assert forced.levels[RegionLevel.REGENCY].updated == 1
    assert Region.objects.get(code="36.74").name == "Kota Tangerang Selatan"


def test_a_new_checksum_with_the_same_data_only_records_the_checksum(source_dir, dataset):
    first = load(source_dir, dataset)
    dataset["villages.csv"].reverse()

    with WriteCounter() as counter:
        second = load(source_dir, dataset)

    assert second.checksum != first.checksum
    assert second.written == 0
    assert len(counter.writes) == 1
    assert ReferenceDataLoad.objects.get(dataset=DATASET).checksum == second.checksum
    assert regions_load(source_dir=source_dir).skipped


def test_an_emptied_table_is_loaded_again_despite_the_checksum(source_dir, dataset):
    load(source_dir, dataset)
    RegionNameToken.objects.all().delete()
    Region.objects.order_by("-level").filter(level=4).delete()
    for level in (3, 2, 1):
        Region.objects.filter(level=level).delete()

    summary = regions_load(source_dir=source_dir)

    assert not summary.skipped
    assert level_counts() == SMALL_COUNTS


def test_region_update_renames_with_tokens_and_kind(small_regions):
    region = region_update(code="36.03", name="  Kota   Tangerang Utara ", is_active=False)

    assert (region.name, region.kind, region.is_active) == ("Kota Tangerang Utara", RegionKind.CITY, False)
    assert region_search("tangerang utara", include_inactive=True) == [region]
    assert region_search("kabupaten tangerang", include_inactive=True) == []
    assert region_search("tangerang utara") == []
    assert_tokens_follow_regions()

    region_update(code="36.03", name="Kota Tangerang Utara", is_active=True)
    assert region_search("tangerang utara") == [region]
    assert_tokens_follow_regions()

    with pytest.raises(ValueError, match="1 to 100 characters"):
        region_update(code="36.03", name="   ", is_active=True)
    with pytest.raises(Region.DoesNotExist):
        region_update(code="36.99", name="Nowhere", is_active=True)


def copy_of(dataset: Dataset) -> Dataset:
    return {filename: list(rows) for filename, rows in dataset.items()}
