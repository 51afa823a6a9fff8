"""A small region data set written to tmp_path, shaped like the shipped files."""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lapor.regions.services import RegionLoadSummary, regions_load

Rows = list[tuple[str, ...]]
Dataset = dict[str, Rows]

HEADERS = {
    "provinces.csv": ("code", "name"),
    "regencies.csv": ("code", "province_code", "name"),
    "districts.csv": ("code", "regency_code", "name"),
    "villages.csv": ("code", "district_code", "name"),
}

SMALL_DATASET: Dataset = {
    "provinces.csv": [
        ("31", "Daerah Khusus Ibukota Jakarta"),
        ("36", "Banten"),
        ("91", "Papua"),
    ],
    "regencies.csv": [
        ("31.74", "31", "Kota Administrasi Jakarta Selatan"),
        ("36.03", "36", "Kabupaten Tangerang"),
        ("36.71", "36", "Kota Tangerang"),
        ("36.74", "36", "Kota Tangerang Selatan"),
        ("91.03", "91", "Kabupaten Jayapura"),
    ],
    "districts.csv": [
        ("31.74.01", "31.74", "Tebet"),
        ("36.03.01", "36.03", "Balaraja"),
        ("36.71.01", "36.71", "Tangerang"),
        ("36.74.01", "36.74", "Serpong"),
        ("36.74.03", "36.74", "Pondok Aren"),
        ("91.03.01", "91.03", "Sentani"),
    ],
    "villages.csv": [
        ("31.74.01.1001", "31.74.01", "Tebet Timur"),
        ("36.03.01.1001", "36.03.01", "Balaraja"),
        ("36.03.01.2003", "36.03.01", "Cangkudu"),
        ("36.03.01.2004", "36.03.01", "Tangerang Sela"),
        ("36.71.01.1001", "36.71.01", "Sukasari"),
        ("36.74.01.1001", "36.74.01", "Ciater"),
        ("36.74.03.1001", "36.74.03", "Pondok Aren"),
        ("36.74.03.1002", "36.74.03", "Pondok Kacang Timur"),
        ("36.74.03.2001", "36.74.03", 'Soka"an'),
        ("91.03.01.2001", "91.03.01", "Regapu\u2019u"),
        ("91.03.01.3007", "91.03.01", "Desa Adat Yoboi"),
    ],
}
SMALL_COUNTS = {1: 3, 2: 5, 3: 6, 4: 11}


def write_dataset(directory: Path, dataset: Dataset) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for filename, header in HEADERS.items():
        with (directory / filename).open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(dataset[filename])
    return directory


def load(directory: Path, dataset: Dataset, *, force: bool = False) -> RegionLoadSummary:
    return regions_load(source_dir=write_dataset(directory, dataset), force=force)


class WriteCounter(CaptureQueriesContext):
    """Captures the statements run inside it and tells the writes among them."""

    def __init__(self) -> None:
        super().__init__(connection)

    @property
    def writes(self) -> list[str]:
        return [
            query["sql"]
            for query in self.captured_queries
            if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "ANALYZE"))
        ]


@pytest.fixture
def dataset() -> Dataset:
    return copy.deepcopy(SMALL_DATASET)


@pytest.fixture
def source_dir(tmp_path: Path) -> Path:
    return tmp_path / "wilayah"


@pytest.fixture
def small_regions(db: None, source_dir: Path, dataset: Dataset) -> RegionLoadSummary:
    return load(source_dir, dataset)


def assert_tokens_follow_regions() -> None:
    """Every region has exactly the tokens of its name, carrying its level, name length and active flag."""
    from lapor.regions.models import Region, RegionNameToken
    from lapor.regions.tokens import name_tokens

    expected = {
        (region.code, token, region.level, len(region.name), region.is_active)
        for region in Region.objects.all()
        for token in name_tokens(region.name)
    }
    stored = set(
        RegionNameToken.objects.values_list(
            "region_id", "token", "region_level", "region_name_length", "region_is_active"
        )
    )
    assert stored == expected
    assert RegionNameToken.objects.count() == len(expected)
