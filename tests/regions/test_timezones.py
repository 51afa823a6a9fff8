"""Every province keeps one of Indonesia's three time zones."""

from __future__ import annotations

import csv
import zoneinfo

import pytest

from lapor.regions.codes import InvalidRegionCode
from lapor.regions.models import Region
from lapor.regions.services import DEFAULT_SOURCE_DIR
from lapor.regions.timezones import (
    PROVINCE_TIME_ZONES,
    UnknownProvince,
    time_zone_for_region,
    time_zone_label,
)


def shipped_provinces() -> dict[str, str]:
    with (DEFAULT_SOURCE_DIR / "provinces.csv").open(encoding="utf-8", newline="") as file:
        return {row["code"]: row["name"] for row in csv.DictReader(file)}


def test_every_shipped_province_has_a_zone_and_no_other_code_does():
    provinces = shipped_provinces()

    assert len(provinces) == 38
    assert set(PROVINCE_TIME_ZONES) == set(provinces)
    for code in provinces:
        zone = time_zone_for_region(code)
        assert zone in {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}
        zoneinfo.ZoneInfo(zone)


def test_zone_counts_follow_the_islands():
    labels = [time_zone_label(code) for code in shipped_provinces()]
    # Sumatra 10, Java 6, Kalimantan Barat and Tengah: 18 WIB. Bali and Nusa Tenggara 3, Kalimantan 3,
    # Sulawesi 6: 12 WITA. Maluku 2 and Papua 6: 8 WIT.
    assert (labels.count("WIB"), labels.count("WITA"), labels.count("WIT")) == (18, 12, 8)


@pytest.mark.parametrize(
    ("code", "zone", "label"),
    [
        ("31", "Asia/Jakarta", "WIB"),  # DKI Jakarta
        ("36.74", "Asia/Jakarta", "WIB"),  # Kota Tangerang Selatan
        ("11.01.01.2001", "Asia/Jakarta", "WIB"),  # a village in Aceh
        ("61", "Asia/Jakarta", "WIB"),  # Kalimantan Barat
        ("62.01", "Asia/Jakarta", "WIB"),  # Kalimantan Tengah
        ("51.71", "Asia/Makassar", "WITA"),  # Kota Denpasar
        ("53", "Asia/Makassar", "WITA"),  # Nusa Tenggara Timur
        ("63", "Asia/Makassar", "WITA"),  # Kalimantan Selatan
        ("64", "Asia/Makassar", "WITA"),  # Kalimantan Timur
        ("73.71", "Asia/Makassar", "WITA"),  # Kota Makassar
        ("81", "Asia/Jayapura", "WIT"),  # Maluku
        ("82", "Asia/Jayapura", "WIT"),  # Maluku Utara
        ("91.03.01.3007", "Asia/Jayapura", "WIT"),  # a desa adat in Kabupaten Jayapura
        ("96", "Asia/Jayapura", "WIT"),  # Papua Barat Daya
    ],
)
def test_known_zones(code, zone, label):
    assert time_zone_for_region(code) == zone
    assert time_zone_label(code) == label


def test_unknown_or_malformed_codes_are_errors():
    with pytest.raises(UnknownProvince, match=r"'99\.01' is in no known province"):
        time_zone_for_region("99.01")
    with pytest.raises(InvalidRegionCode):
        time_zone_label("36-74")
    assert issubclass(UnknownProvince, ValueError)


def test_region_time_zone_property():
    assert Region(code="73.71.01", name="Mariso").time_zone == "Asia/Makassar"
