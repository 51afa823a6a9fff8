"""Writes to regions: loading the official list, and the few edits an administrator may make."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from django.db import connection, transaction
from django.utils.translation import gettext

from lapor.core import reference
from lapor.core.models import ReferenceDataLoad
from lapor.regions.choices import RegionLevel
from lapor.regions.codes import InvalidRegionCode, parent_code, region_kind, region_level
from lapor.regions.models import Region, RegionNameToken
from lapor.regions.tokens import name_tokens

DATASET: Final = "regions"
DEFAULT_SOURCE_DIR: Final = Path(__file__).resolve().parent / "data" / "wilayah"
MAX_NAME_LENGTH: Final = Region._meta.get_field("name").max_length or 100
# Rows per INSERT. Django lowers it further where the database allows fewer parameters (SQLite).
INSERT_BATCH_SIZE: Final = 2000
# Codes per "code IN (...)" list, well below SQLite's smallest parameter limit.
CODE_CHUNK_SIZE: Final = 500


@dataclasses.dataclass(frozen=True)
class LevelFile:
    level: RegionLevel
    filename: str
    columns: tuple[str, ...]


LEVEL_FILES: Final = (
    LevelFile(RegionLevel.PROVINCE, "provinces.csv", ("code", "name")),
    LevelFile(RegionLevel.REGENCY, "regencies.csv", ("code", "province_code", "name")),
    LevelFile(RegionLevel.DISTRICT, "districts.csv", ("code", "regency_code", "name")),
    LevelFile(RegionLevel.VILLAGE, "villages.csv", ("code", "district_code", "name")),
)


class RegionDataError(ValueError):
    """The region files are not a consistent list; names the file, line and code at fault."""

    def __init__(self, message: str, *, filename: str, line: int | None = None, code: str | None = None) -> None:
        self.filename = filename
        self.line = line
        self.code = code
        where = filename if line is None else f"{filename}:{line}"
        super().__init__(f"{where}: {message}")


@dataclasses.dataclass
class LevelSummary:
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    reactivated: int = 0
    unchanged: int = 0

    @property
    def written(self) -> int:
        return self.created + self.updated + self.deactivated + self.reactivated


@dataclasses.dataclass
class RegionLoadSummary:
    """What a load did, level by level. ``skipped`` means the files matched the last load's checksum."""

    checksum: str
    skipped: bool
    levels: dict[RegionLevel, LevelSummary]
    tokens_written: int = 0
    seconds: float = 0.0

    @property
    def written(self) -> int:
        return sum(summary.written for summary in self.levels.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "checksum": self.checksum,
            "levels": {level.name.lower(): dataclasses.asdict(summary) for level, summary in self.levels.items()},
            "tokens_written": self.tokens_written,
            "seconds": round(self.seconds, 3),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class RegionRow:
    code: str
    parent_code: str | None
    name: str
    kind: str


def regions_load(*, source_dir: Path | None = None, force: bool = False) -> RegionLoadSummary:
    """Bring the stored regions in line with the four CSV files in ``source_dir`` (the shipped data by default).

    New codes are created, changed names updated, codes missing from the files deactivated (never
    deleted: other rows point at them) and returning codes reactivated. Every file is checked before
    anything is written, and the whole load is one transaction. When the files have the checksum of
    the last load, nothing is parsed or compared unless ``force`` is set.
    """
    started = time.perf_counter()
    contents = _read_files(source_dir or DEFAULT_SOURCE_DIR)
    checksum = _checksum(contents)
    with transaction.atomic():
        previous = ReferenceDataLoad.objects.select_for_update().filter(dataset=DATASET).first()
        unchanged_files = previous is not None and previous.checksum == checksum
        # A matching checksum over an emptied table (e.g. after a flush of this app) must still load.
        if unchanged_files and not force and Region.objects.exists():
            return RegionLoadSummary(
                checksum=checksum,
                skipped=True,
                levels={level_file.level: LevelSummary() for level_file in LEVEL_FILES},
                seconds=time.perf_counter() - started,
            )

        rows_by_level = _parse_files(contents)
        levels: dict[RegionLevel, LevelSummary] = {}
        changes = _Changes()
        # Top-down, so that every parent row exists before its children are inserted.
        for level_file in LEVEL_FILES:
            levels[level_file.level] = _apply_level(level_file.level, rows_by_level[level_file.level], changes)
        tokens_written = _write_tokens(changes.named, replace=changes.renamed_codes)
        _set_token_activity(changes.deactivated_codes, is_active=False)
        _set_token_activity(changes.reactivated_codes, is_active=True)
        summary = RegionLoadSummary(
            checksum=checksum,
            skipped=False,
            levels=levels,
            tokens_written=tokens_written,
            seconds=time.perf_counter() - started,
        )
        if summary.written:
            _refresh_planner_statistics()
            # Bulk writes send no signals: the cached region lists (lapor.core.reference) go here.
            reference.changed()
        if not unchanged_files or summary.written:
            ReferenceDataLoad.objects.update_or_create(
                dataset=DATASET, defaults={"checksum": checksum, "summary": summary.as_json()}
            )
    summary.seconds = time.perf_counter() - started
    return summary


def region_update(*, code: str, name: str, is_active: bool) -> Region:
    """Correct a region's name or take it out of use by hand (the admin's only edits).

    The name's search tokens follow it. A later load whose files differ from the last one restores
    the official name, since the files are the authority.
    """
    clean_name = " ".join(name.split())
    if not clean_name or len(clean_name) > MAX_NAME_LENGTH:
        raise ValueError(gettext("A region name must have 1 to %(maximum)d characters.") % {"maximum": MAX_NAME_LENGTH})
    with transaction.atomic():
        region_level(code)
        region = Region.objects.select_for_update().get(code=code)
        renamed, activity_changed = region.name != clean_name, region.is_active != is_active
        region.name = clean_name
        region.kind = region_kind(region.code, clean_name)
        region.is_active = is_active
        region.save(update_fields=["name", "kind", "is_active"])
        if renamed:
            _write_tokens([(region.code, clean_name, is_active)], replace=[region.code])
        elif activity_changed:
            _set_token_activity([region.code], is_active=is_active)
    return region


def _read_files(directory: Path) -> dict[str, bytes]:
    contents = {}
    for level_file in LEVEL_FILES:
        path = directory / level_file.filename
        try:
            contents[level_file.filename] = path.read_bytes()
        except OSError as error:
            raise RegionDataError(
                gettext("cannot read %(path)s (%(reason)s).") % {"path": path, "reason": error.strerror or error},
                filename=level_file.filename,
            ) from error
    return contents


def _checksum(contents: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for filename in sorted(contents):
        data = contents[filename]
        # Names and lengths go in too, so that moving bytes between files changes the checksum.
        digest.update(f"{filename}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _parse_files(contents: dict[str, bytes]) -> dict[RegionLevel, dict[str, RegionRow]]:
    rows_by_level: dict[RegionLevel, dict[str, RegionRow]] = {}
    parents: dict[str, RegionRow] = {}
    parent_filename = ""
    for level_file in LEVEL_FILES:
        rows = _parse_file(level_file, contents[level_file.filename], parents, parent_filename)
        rows_by_level[level_file.level] = rows
        parents, parent_filename = rows, level_file.filename
    return rows_by_level


def _parse_file(
    level_file: LevelFile, data: bytes, parents: dict[str, RegionRow], parent_filename: str
) -> dict[str, RegionRow]:
    filename = level_file.filename
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RegionDataError(gettext("the file is not UTF-8 text."), filename=filename) from error
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [column.strip() for column in next(reader, [])]
    if tuple(header) != level_file.columns:
        raise RegionDataError(
            gettext("the header must be %(expected)s, not %(found)s.")
            % {"expected": ",".join(level_file.columns), "found": ",".join(header) or gettext("empty")},
            filename=filename,
            line=1,
        )
    rows: dict[str, RegionRow] = {}
    first_lines: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not record or all(not value.strip() for value in record):
            continue
        if len(record) != len(level_file.columns):
            raise RegionDataError(
                gettext("expected %(expected)d columns, found %(found)d.")
                % {"expected": len(level_file.columns), "found": len(record)},
                filename=filename,
                line=line,
            )
        code = record[0].strip()
        _check_code(code, level_file.level, filename, line)
        if code in rows:
            raise RegionDataError(
                gettext("code %(code)s appears a second time (first on line %(first)d).")
                % {"code": code, "first": first_lines[code]},
                filename=filename,
                line=line,
                code=code,
            )
        name = " ".join(record[-1].split())
        if not name or len(name) > MAX_NAME_LENGTH:
            raise RegionDataError(
                gettext("the name of %(code)s must have 1 to %(maximum)d characters.")
                % {"code": code, "maximum": MAX_NAME_LENGTH},
                filename=filename,
                line=line,
                code=code,
            )
        parent = None
        if level_file.level != RegionLevel.PROVINCE:
            parent = record[1].strip()
            _check_parent(code, parent, parents=parents, filename=filename, parent_filename=parent_filename, line=line)
        rows[code] = RegionRow(code=code, parent_code=parent, name=name, kind=region_kind(code, name))
        first_lines[code] = line
    return rows


def _check_code(code: str, level: RegionLevel, filename: str, line: int) -> None:
    try:
        found_level = region_level(code)
    except InvalidRegionCode:
        found_level = None
    if found_level != level:
        example = ("36", "36.03", "36.03.01", "36.03.01.2001")[level - 1]
        raise RegionDataError(
            gettext("%(code)r is not a %(level)s code (expected the form %(example)s).")
            % {"code": code, "level": level.label.lower(), "example": example},
            filename=filename,
            line=line,
            code=code,
        )


def _check_parent(
    code: str, parent: str, *, parents: dict[str, RegionRow], filename: str, parent_filename: str, line: int
) -> None:
    expected = parent_code(code)
    if parent != expected:
        raise RegionDataError(
            gettext("%(code)s must belong to %(expected)s, the region its code starts with, not to %(parent)s.")
            % {"code": code, "expected": expected, "parent": parent or gettext("nothing")},
            filename=filename,
            line=line,
            code=code,
        )
    if parent not in parents:
        raise RegionDataError(
            gettext("the parent %(parent)s of %(code)s is not in %(parent_file)s.")
            % {"parent": parent, "code": code, "parent_file": parent_filename},
            filename=filename,
            line=line,
            code=code,
        )


@dataclasses.dataclass
class _Changes:
    """What the levels of one load changed, for the name tokens to follow."""

    named: list[tuple[str, str, bool]] = dataclasses.field(default_factory=list)  # (code, name, is_active)
    renamed_codes: list[str] = dataclasses.field(default_factory=list)
    deactivated_codes: list[str] = dataclasses.field(default_factory=list)
    reactivated_codes: list[str] = dataclasses.field(default_factory=list)


def _apply_level(level: RegionLevel, rows: dict[str, RegionRow], changes: _Changes) -> LevelSummary:
    """Write one level's differences, and note them in ``changes``."""
    summary = LevelSummary()
    stored = {
        code: (parent_id, name, kind, is_active)
        for code, parent_id, name, kind, is_active in Region.objects.filter(level=level)
        .order_by()
        .values_list("code", "parent_id", "name", "kind", "is_active")
    }
    to_create: list[Region] = []
    to_update: list[Region] = []
    for code, row in rows.items():
        current = stored.get(code)
        if current is None:
            to_create.append(
                Region(code=code, parent_id=row.parent_code, level=level, kind=row.kind, name=row.name, is_active=True)
            )
            changes.named.append((code, row.name, True))
            continue
        stored_parent, stored_name, stored_kind, stored_active = current
        if (stored_parent, stored_name, stored_kind, stored_active) == (row.parent_code, row.name, row.kind, True):
            summary.unchanged += 1
            continue
        if stored_active:
            summary.updated += 1
        else:
            summary.reactivated += 1
            changes.reactivated_codes.append(code)
        if stored_name != row.name:
            changes.named.append((code, row.name, True))
            changes.renamed_codes.append(code)
        to_update.append(
            Region(code=code, parent_id=row.parent_code, level=level, kind=row.kind, name=row.name, is_active=True)
        )
    vanished = [code for code, current in stored.items() if code not in rows and current[3]]

    Region.objects.bulk_create(to_create, batch_size=INSERT_BATCH_SIZE)
    if to_update:
        Region.objects.bulk_update(to_update, ["parent", "name", "kind", "is_active"])
    for chunk in _chunks(vanished, CODE_CHUNK_SIZE):
        Region.objects.filter(code__in=chunk).update(is_active=False)
    changes.deactivated_codes += vanished
    summary.created = len(to_create)
    summary.deactivated = len(vanished)
    return summary


def _write_tokens(named: list[tuple[str, str, bool]], *, replace: list[str]) -> int:
    """Write the tokens of (code, name, is_active) regions after deleting those of the ``replace`` codes.

    Returns the number of tokens written.
    """
    for chunk in _chunks(replace, CODE_CHUNK_SIZE):
        RegionNameToken.objects.filter(region_id__in=chunk).delete()
    tokens = [
        RegionNameToken(
            region_id=code,
            token=token,
            region_level=region_level(code),
            region_name_length=len(name),
            region_is_active=is_active,
        )
        for code, name, is_active in named
        for token in name_tokens(name)
    ]
    RegionNameToken.objects.bulk_create(tokens, batch_size=INSERT_BATCH_SIZE)
    return len(tokens)


def _set_token_activity(codes: list[str], *, is_active: bool) -> None:
    for chunk in _chunks(codes, CODE_CHUNK_SIZE):
        RegionNameToken.objects.filter(region_id__in=chunk).update(region_is_active=is_active)


def _refresh_planner_statistics() -> None:
    # Right after a bulk load both planners lack statistics on the new rows: PostgreSQL until
    # autovacuum gets to them, SQLite until someone runs ANALYZE. Without them a search filtered by
    # level walks every village through the level index instead of starting from the few matching
    # tokens (SQLite 21 ms instead of 3 ms, PostgreSQL 113 ms instead of 14 ms, full data set).
    with connection.cursor() as cursor:
        for model in (Region, RegionNameToken):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
