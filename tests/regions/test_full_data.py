"""The shipped region files load completely, correctly and idempotently on this database."""

from __future__ import annotations

import pytest

from lapor.core.models import ReferenceDataLoad
from lapor.regions.models import Region, RegionNameToken
from lapor.regions.selectors import region_children, region_search
from lapor.regions.services import DATASET, regions_load
from tests.regions.conftest import WriteCounter, assert_tokens_follow_regions

OFFICIAL_COUNTS = {1: 38, 2: 514, 3: 7285, 4: 83762}


@pytest.mark.slow
@pytest.mark.django_db
def test_the_shipped_data_loads_fully_and_a_second_load_changes_nothing():
    summary = regions_load()

    assert {level: counts.created for level, counts in summary.levels.items()} == OFFICIAL_COUNTS
    assert {level: Region.objects.filter(level=level, is_active=True).count() for level in OFFICIAL_COUNTS} == (
        OFFICIAL_COUNTS
    )
    assert Region.objects.filter(kind="kabupaten").count() == 416
    assert Region.objects.filter(kind="kota").count() == 98
    assert Region.objects.filter(kind="kelurahan").count() == 8496
    assert Region.objects.filter(kind="desa").count() == 75266
    assert not Region.objects.filter(level__gt=1, parent__isnull=True).exists()
    assert RegionNameToken.objects.values("region").distinct().count() == sum(OFFICIAL_COUNTS.values())
    assert_tokens_follow_regions()
    assert ReferenceDataLoad.objects.get(dataset=DATASET).checksum == summary.checksum

    assert region_search("tangerang sel")[0].code == "36.74"
    assert [region.code for region in region_children("36")][:3] == ["36.01", "36.02", "36.03"]

    with WriteCounter() as counter:
        again = regions_load(force=True)

    assert counter.writes == []
    assert again.written == 0
    assert {level: counts.unchanged for level, counts in again.levels.items()} == OFFICIAL_COUNTS
    assert regions_load().skipped
