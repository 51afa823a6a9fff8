import csv
from pathlib import Path

import pytest

from lapor.regions.services import regions_load

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "lapor" / "regions" / "data" / "wilayah"


@pytest.fixture
def banten_regions(tmp_path, db):
    """Only the province of Banten, cut from the shipped data: enough for the demo, and quick."""
    for name in ("provinces", "regencies", "districts", "villages"):
        with (SHIPPED / f"{name}.csv").open(newline="", encoding="utf-8") as source:
            rows = list(csv.reader(source))
        header, body = rows[0], rows[1:]
        kept = [row for row in body if row[0] == "36" or row[0].startswith("36.")]
        with (tmp_path / f"{name}.csv").open("w", newline="", encoding="utf-8") as target:
            csv.writer(target).writerows([header, *kept])
    regions_load(source_dir=tmp_path)
