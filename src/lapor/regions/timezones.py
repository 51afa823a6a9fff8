"""The time zone of each region, decided by its province.

Indonesia keeps three zones: WIB (UTC+7) in the west, WITA (UTC+8) in the centre and WIT (UTC+9) in
the east. No province is split between two zones, so the first two digits of a code are enough.
"""

from __future__ import annotations

from typing import Final

from django.utils.translation import gettext

from lapor.regions.codes import InvalidRegionCode, province_code

WIB: Final = "Asia/Jakarta"
WITA: Final = "Asia/Makassar"
WIT: Final = "Asia/Jayapura"

# The abbreviations are what Indonesians write after a time in either language, so they are not translated.
ZONE_LABELS: Final[dict[str, str]] = {WIB: "WIB", WITA: "WITA", WIT: "WIT"}

PROVINCE_TIME_ZONES: Final[dict[str, str]] = {
    # Sumatra
    "11": WIB,  # Aceh
    "12": WIB,  # Sumatera Utara
    "13": WIB,  # Sumatera Barat
    "14": WIB,  # Riau
    "15": WIB,  # Jambi
    "16": WIB,  # Sumatera Selatan
    "17": WIB,  # Bengkulu
    "18": WIB,  # Lampung
    "19": WIB,  # Kepulauan Bangka Belitung
    "21": WIB,  # Kepulauan Riau
    # Java
    "31": WIB,  # DKI Jakarta
    "32": WIB,  # Jawa Barat
    "33": WIB,  # Jawa Tengah
    "34": WIB,  # DI Yogyakarta
    "35": WIB,  # Jawa Timur
    "36": WIB,  # Banten
    # Bali and Nusa Tenggara
    "51": WITA,  # Bali
    "52": WITA,  # Nusa Tenggara Barat
    "53": WITA,  # Nusa Tenggara Timur
    # Kalimantan: the west and centre keep western time, the rest central time
    "61": WIB,  # Kalimantan Barat
    "62": WIB,  # Kalimantan Tengah
    "63": WITA,  # Kalimantan Selatan
    "64": WITA,  # Kalimantan Timur
    "65": WITA,  # Kalimantan Utara
    # Sulawesi
    "71": WITA,  # Sulawesi Utara
    "72": WITA,  # Sulawesi Tengah
    "73": WITA,  # Sulawesi Selatan
    "74": WITA,  # Sulawesi Tenggara
    "75": WITA,  # Gorontalo
    "76": WITA,  # Sulawesi Barat
    # Maluku and Papua
    "81": WIT,  # Maluku
    "82": WIT,  # Maluku Utara
    "91": WIT,  # Papua
    "92": WIT,  # Papua Barat
    "93": WIT,  # Papua Selatan
    "94": WIT,  # Papua Tengah
    "95": WIT,  # Papua Pegunungan
    "96": WIT,  # Papua Barat Daya
}


class UnknownProvince(InvalidRegionCode):
    """A well-formed code whose first two digits name no province."""

    def __init__(self, code: str) -> None:
        super().__init__(code, gettext("%(code)r is in no known province.") % {"code": code})


def time_zone_for_region(code: str) -> str:
    """The IANA time zone name of the region with this code (e.g. "36.74" → "Asia/Jakarta")."""
    zone = PROVINCE_TIME_ZONES.get(province_code(code))
    if zone is None:
        raise UnknownProvince(code)
    return zone


def time_zone_label(code: str) -> str:
    """The Indonesian abbreviation of the region's zone: "WIB", "WITA" or "WIT"."""
    return ZONE_LABELS[time_zone_for_region(code)]
