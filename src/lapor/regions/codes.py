"""Kemendagri region codes, understood without the database.

A code is a materialised path: ``36`` (province) → ``36.03`` (regency or city) → ``36.03.01``
(district) → ``36.03.01.2001`` (village). Each level adds a dot and a fixed number of digits, so a
code's level, parent and ancestors follow from the code alone.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext

from lapor.regions.choices import RegionKind, RegionLevel

SEPARATOR = "."
# Digits added by each level, in order: province, regency, district, village.
SEGMENT_DIGITS = (2, 2, 2, 4)
CODE_PATTERN = re.compile(r"[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{4})?)?)?")
MAX_CODE_LENGTH = 13
# The first digit of a village's own four digits tells kelurahan (1) from desa (2); 3 marks a
# "desa adat" (customary village, in Papua), which is a desa too.
KELURAHAN_DIGIT = "1"


class InvalidRegionCode(ValueError):  # noqa: N818 - reads as what it is, like ValueError
    """A string that is not a Kemendagri region code (e.g. ``36.3`` or ``36-03``)."""

    def __init__(self, code: object, message: str | None = None) -> None:
        self.code = code
        if message is None:
            message = gettext("%(code)r is not a region code: expected e.g. 36, 36.03, 36.03.01 or 36.03.01.2001.") % {
                "code": code
            }
        super().__init__(message)


def region_level(code: str) -> RegionLevel:
    """The level of a well-formed code; raises InvalidRegionCode for anything else."""
    if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH or not CODE_PATTERN.fullmatch(code):
        raise InvalidRegionCode(code)
    return RegionLevel(code.count(SEPARATOR) + 1)


def is_region_code(code: object) -> bool:
    return isinstance(code, str) and len(code) <= MAX_CODE_LENGTH and CODE_PATTERN.fullmatch(code) is not None


def ancestor_codes(code: str) -> list[str]:
    """The codes from the province down to ``code`` itself, root first.

    >>> ancestor_codes("36.03.01.2001")
    ['36', '36.03', '36.03.01', '36.03.01.2001']
    """
    level = region_level(code)
    parts = code.split(SEPARATOR)
    return [SEPARATOR.join(parts[:depth]) for depth in range(1, level + 1)]


def parent_code(code: str) -> str | None:
    """The code of the region directly above ``code``; None for a province."""
    codes = ancestor_codes(code)
    return codes[-2] if len(codes) > 1 else None


def province_code(code: str) -> str:
    region_level(code)
    return code[: SEGMENT_DIGITS[0]]


def region_kind(code: str, name: str) -> RegionKind:
    """The kind of region, from its level, its name (regencies) and its code (villages)."""
    level = region_level(code)
    if level == RegionLevel.PROVINCE:
        return RegionKind.PROVINCE
    if level == RegionLevel.REGENCY:
        # Regency names carry their kind: "Kabupaten Tangerang", "Kota Tangerang Selatan".
        return RegionKind.CITY if name.lower().startswith("kota ") else RegionKind.REGENCY
    if level == RegionLevel.DISTRICT:
        return RegionKind.DISTRICT
    village_digits = code.rsplit(SEPARATOR, 1)[1]
    return RegionKind.URBAN_VILLAGE if village_digits.startswith(KELURAHAN_DIGIT) else RegionKind.RURAL_VILLAGE
