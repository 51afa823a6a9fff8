"""Masking of personal data in text that will be published (titles, bodies, follow-ups).

Before a report is shown to the public, NIK numbers, phone numbers and e-mail addresses in its text
are masked; staff can redact more by editing the public copy. The original stays in the report,
visible only to those the access layer allows.

Reports are full of numbers that are not personal (dates, times, amounts in rupiah, RT/RW, postal
codes, plate numbers), and masking those would make the public text useless. So one scan reads the
text from left to right and, at each position, first recognises the numbers known to be harmless and
keeps them whole; only what remains can be taken for an e-mail address, a NIK or a phone number.
Without that, "Rp 62.500.000.000" would read as a phone number (62 500 000 000) and "02.03.2024
08.00" as the mobile number 0203202408 00.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

MASK = "[disamarkan]"

# The digits after the trunk prefix 0 or the country code 62: 8 for the shortest fixed lines in
# small towns (0xxx-xxxxx), 12 for the longest mobile numbers (08xx-xxxx-xxxxx).
_PHONE_MIN_DIGITS = 8
_PHONE_MAX_DIGITS = 12

_SCAN = re.compile(
    r"""
    # --- harmless numbers, kept whole -----------------------------------------------------------
    (?P<amount>
        (?:\b(?:Rp|IDR)\.?\s*)[0-9][0-9.,]*                  # Rp 1.500.000 · Rp1.500.000,00 · IDR 250000
    )
  | (?P<thousands>
        (?<![0-9.,])[1-9][0-9]{0,2}(?:\.[0-9]{3})+(?:,[0-9]{1,2})?(?![.,]?[0-9])   # 62.500.000 · 1.250,50
    )
  | (?P<date>
        (?<![0-9])
        (?:[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}                   # 2024-03-12
          |[0-9]{1,2}[./-][0-9]{1,2}[./-](?:[0-9]{4}|[0-9]{2}))   # 12-03-2024 · 02.03.24 · 5/6/2024
        (?![./:-]?[0-9])
    )
  | (?P<time>
        (?<![0-9.])[0-9]{1,2}[.:][0-9]{2}(?![.:]?[0-9])      # 08.00 · 16:30
    )
    # --- personal data, masked ------------------------------------------------------------------
  | (?P<email>
        (?<![\w.+-])[\w.+-]+
        (?:@|\s*[\[(]\s*(?:at|@)\s*[\])]\s*)                 # budi@… · budi [at] …
        [\w-]+(?:(?:\.|\s*[\[(]\s*dot\s*[\])]\s*)[\w-]+)+
    )
  | (?P<nik>
        # 16 digits (a NIK, or a family card number), written whole or in groups: 3174 0512 3456 0001,
        # 3174.0512.3456.0001, 317405 120390 0001.
        (?<![0-9])[1-9](?:[ .-]?[0-9]){15}(?![ .-]?[0-9])
    )
  | (?P<phone>
        (?<![0-9+])(?<![0-9][.,])
        (?:\(?\+62\)?[ .-]?|62[ .-]?|\(0|0)                   # +62 · (+62) · 62 · (021) · 0
        \(?[0-9]{1,4}\)?                                     # area code or mobile prefix: 21 · 812
        (?:[ .-]?[0-9]{2,5}){1,4}                            # the subscriber number, in groups
        (?![0-9])
    )
    """,
    re.VERBOSE | re.IGNORECASE,
)
_DIGIT_RUN = re.compile(r"[0-9]+")


def _national_digits(candidate: str) -> str:
    digits = re.sub(r"[^0-9]", "", candidate)
    if candidate.lstrip("(").startswith(("+62", "62")):
        return digits[2:]
    return digits[1:]


def _is_phone(candidate: str) -> bool:
    digits = _national_digits(candidate)
    return _PHONE_MIN_DIGITS <= len(digits) <= _PHONE_MAX_DIGITS and not digits.startswith("0")


def _mask_phone(candidate: str) -> str:
    """Mask the longest leading part of ``candidate`` that is a phone number.

    The scan may take a number that follows the phone into it ("0812 3456 7890 15310", with a
    postal code after it); the phone is still masked and the number after it kept.
    """
    ends = [match.end() for match in _DIGIT_RUN.finditer(candidate)]
    for end in reversed(ends):
        if _is_phone(candidate[:end]):
            return MASK + candidate[end:]
    return candidate


def _replace(match: re.Match[str]) -> str:
    kind = match.lastgroup
    text = match.group()
    if kind in ("email", "nik"):
        return MASK
    if kind == "phone":
        return _mask_phone(text)
    return text


def mask_personal_data(text: str, *, names: Iterable[str] = ()) -> str:
    """``text`` with NIK numbers, phone numbers and e-mail addresses replaced by MASK; and ``names``
    (the reporter's, who is never named in public), whole or any part of four letters or more, as
    whole words in any case: people sign their reports, "Saya Budi Santoso, warga RT 03"."""
    masked = _SCAN.sub(_replace, text)
    pattern = _names_pattern(tuple(names))
    return pattern.sub(MASK, masked) if pattern is not None else masked


_NAME_PART_MIN = 4


@functools.lru_cache(maxsize=256)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    parts: set[str] = set()
    for name in names:
        words = re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", name or "")
        if words:
            parts.add(" ".join(words))
        parts.update(word for word in words if len(word) >= _NAME_PART_MIN)
    if not parts:
        return None
    # Longest first, so that the full name is masked as one piece; spaces match any run of spaces.
    alternatives = "|".join(
        r"\s+".join(re.escape(word) for word in part.split(" ")) for part in sorted(parts, key=len, reverse=True)
    )
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _keep_all_but_nik(match: re.Match[str]) -> str:
    return MASK if match.lastgroup == "nik" else match.group()


# Fewer digits than this in a stored phone number: too short to be looked for as the reporter's own.
_CONTACT_PHONE_MIN_DIGITS = 6


def _reporter_contacts(report: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The reporter's e-mail addresses and the national digits of their phone numbers (account and guest)."""
    reporter = report.reporter if report.reporter_id else None
    emails = {value.strip() for value in (reporter.email if reporter else "", report.guest_email) if value}
    nationals: set[str] = set()
    for phone in (reporter.phone if reporter else "", report.guest_phone):
        digits = re.sub(r"[^0-9]", "", phone or "")
        national = digits[2:] if digits.startswith("62") else digits.lstrip("0")
        if len(national) >= _CONTACT_PHONE_MIN_DIGITS:
            nationals.add(national)
    return tuple(sorted(email for email in emails if email)), tuple(sorted(nationals))


@functools.lru_cache(maxsize=256)
def _contacts_pattern(emails: tuple[str, ...], nationals: tuple[str, ...]) -> re.Pattern[str] | None:
    """The reporter's own e-mail addresses, and their phone numbers written in any of the usual ways
    (+62 812-3456-7890, 0812 3456 7890, 6281234567890)."""
    alternatives = [re.escape(email) for email in emails]
    alternatives += [r"(?:\+?\(?62\)?|0)[ .-]?" + r"[ .-]?".join(national) for national in nationals]
    if not alternatives:
        return None
    return re.compile(rf"(?<![\w+])(?:{'|'.join(alternatives)})(?![\w])", re.IGNORECASE)


def mask_reporter_identity(report: Any, text: str) -> str:
    """``text`` written by staff about ``report`` (a follow-up, a staff comment) with only the reporter's
    identity masked: their names, their own e-mail addresses and phone numbers, and NIK numbers (which
    no office publishes). An office's own phone number or e-mail address ("Hubungi 021-1234567") is
    the answer the public needs and stays as written."""
    pattern = _contacts_pattern(*_reporter_contacts(report))
    masked = pattern.sub(MASK, text) if pattern is not None else text
    masked = _SCAN.sub(_keep_all_but_nik, masked)
    names = _names_pattern(tuple(reporter_names(report)))
    return names.sub(MASK, masked) if names is not None else masked


def reporter_names(report: Any) -> list[str]:
    """The names of who filed ``report`` (account holder or guest), to be masked in public text."""
    reporter = report.reporter if report.reporter_id else None
    names = [reporter.full_name if reporter is not None else "", report.guest_name or ""]
    return [name for name in names if name]


def mask_for_report(report: Any, text: str) -> str:
    """`mask_personal_data` of text about ``report``, its reporter's names and own contacts included."""
    pattern = _contacts_pattern(*_reporter_contacts(report))
    masked = pattern.sub(MASK, text) if pattern is not None else text
    return mask_personal_data(masked, names=reporter_names(report))


def reporter_text(report: Any, field: str, *, known: bool) -> str:
    """One of the fields the reporter writes (``Report.REPORTER_TEXT_FIELDS``) as a viewer reads it:
    as written for one who may know the reporter (``known``, from `access.report_reach`), masked
    for everyone else. Any other field is refused, so that a caller cannot pass raw text through."""
    if field not in type(report).REPORTER_TEXT_FIELDS:
        raise ValueError(f"{field!r} is not a field the reporter writes.")
    text = getattr(report, field) or ""
    return text if known else mask_for_report(report, text)


def reporter_texts(report: Any, *, known: bool) -> dict[str, str]:
    """Every field the reporter writes, as `reporter_text` gives it."""
    return {field: reporter_text(report, field, known=known) for field in type(report).REPORTER_TEXT_FIELDS}
