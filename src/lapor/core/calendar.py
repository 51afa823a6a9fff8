"""The one working-day calendar every deadline in Lapor is computed with.

Conventions (every clock in Lapor relies on them, so change them only with an ADR):

- A **working day** is Monday to Friday, unless it is a national holiday or cuti bersama according
  to the `holidays` package (categories "public" and "government"). A `HolidayOverride` row wins
  over both the package and the weekend: decrees add and cancel days at short notice.
- Days are **local days** in the time zone the caller names (WIB, WITA or WIT): the same instant
  can be Monday in Jayapura and still Sunday in Jakarta.
- **The start day is day zero.** Counting begins on the first working day after the local day on
  which the clock starts, whatever the hour and whether or not that day is a working day. A budget
  of N working days ends at the last instant (23:59:59.999999 local) of the Nth counted day:
  a report arriving on Friday at 20:00 with 3 working days is due at the end of Wednesday, and so
  is one arriving on Saturday, or on a Friday holiday. A budget of 0 ends with the start day.
- A working day has **elapsed** once its last instant is reached, so
  ``working_days_between(start, add_working_days(start, n)) == n``.
- **Pauses** are half-open intervals ``[pause_start, pause_end)``. A working day on which the clock
  was paused for any time at all is not counted: whoever holds the report after a pause always
  gets whole days, and nobody has to argue about half days. A pause ending exactly at midnight
  does not touch the next day, and an empty pause touches nothing.
- **Hour budgets** ("2 x 24 hours") run on calendar hours on the absolute timeline, and pauses extend
  them by exactly the time paused (overlapping pauses count once).
- Every datetime taken must be timezone-aware (a naive one raises ``ValueError``), and every
  datetime returned is aware.

A `WorkingCalendar` snapshots the override table when it is built: build one per request, task or
batch (`working_calendar()`), not one per process, or admins' edits would not be seen.
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import holidays

from lapor.core import reference

WIB: Final = "Asia/Jakarta"
WITA: Final = "Asia/Makassar"
WIT: Final = "Asia/Jayapura"
# Deadlines are counted in Indonesian local days only; refusing other names catches a caller passing
# settings.TIME_ZONE (which may be UTC) or a typo, either of which would shift every local day.
TIME_ZONES: Final = frozenset({WIB, WITA, WIT})

SECONDS_PER_DAY: Final = 24 * 60 * 60
SATURDAY: Final = 5  # date.weekday(): Monday is 0

Pause = tuple[datetime, datetime]
OverrideLoader = Callable[[Iterable[int]], Mapping[date, bool]]


@functools.cache
def _package_working_ordinals(year: int) -> frozenset[int]:
    """Weekdays of `year` that the package does not call a holiday (ordinals, for fast bisecting).

    Cached for the life of the process: the package's data cannot change while it runs, and building
    it costs far more than any lookup.
    """
    national = holidays.country_holidays("ID", categories=("public", "government"), language="id", years=year)
    first = date(year, 1, 1).toordinal()
    last = date(year, 12, 31).toordinal()
    return frozenset(
        ordinal
        for ordinal in range(first, last + 1)
        if (day := date.fromordinal(ordinal)).weekday() < SATURDAY and day not in national
    )


@dataclass(frozen=True, slots=True)
class _Year:
    ordinals: tuple[int, ...]  # the year's working days, sorted
    working: frozenset[int]


class WorkingCalendar:
    """Answers which days are working days and where a clock of working days or hours ends.

    Build it with `working_calendar()` to apply the admins' overrides; the constructor takes them
    directly so that the calendar can be used (and property-tested) without a database.
    """

    def __init__(self, *, extra_holidays: Iterable[date] = (), extra_working_days: Iterable[date] = ()) -> None:
        overrides = dict.fromkeys(extra_holidays, False)
        for day in extra_working_days:
            if day in overrides:
                raise ValueError(f"{day.isoformat()} cannot be both an extra holiday and an extra working day")
            overrides[day] = True
        self._overrides_by_year: dict[int, dict[date, bool]] = {}
        self._add_overrides(overrides)
        self._years: dict[int, _Year] = {}
        # None means the overrides of every year are known; otherwise years outside the set are
        # fetched on first use, so a calendar loaded for too few years is slower but never wrong.
        self._override_years: set[int] | None = None
        self._override_loader: OverrideLoader | None = None

    @classmethod
    def _with_overrides(
        cls, overrides: Mapping[date, bool], *, loaded_years: Iterable[int] | None, loader: OverrideLoader
    ) -> WorkingCalendar:
        calendar = cls()
        calendar._add_overrides(overrides)
        if loaded_years is not None:
            calendar._override_years = set(loaded_years)
            calendar._override_loader = loader
        return calendar

    def _add_overrides(self, overrides: Mapping[date, bool]) -> None:
        for day, working in overrides.items():
            self._overrides_by_year.setdefault(day.year, {})[day] = working

    # Days

    def is_working_day(self, day: date) -> bool:
        """Whether `day` (a local date, not a datetime) is a working day."""
        if isinstance(day, datetime):
            # A datetime's own date depends on its zone; the caller must say which local day it means.
            raise TypeError("is_working_day() takes a date; convert the datetime to a local date first")
        return day.toordinal() in self._year(day.year).working

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        loader, loaded_years = self._override_loader, self._override_years
        if loader is not None and loaded_years is not None and year not in loaded_years:
            self._add_overrides(loader([year]))
            loaded_years.add(year)
        working = set(_package_working_ordinals(year))
        for day, is_working in self._overrides_by_year.get(year, {}).items():
            if is_working:
                working.add(day.toordinal())
            else:
                working.discard(day.toordinal())
        built = _Year(ordinals=tuple(sorted(working)), working=frozenset(working))
        self._years[year] = built
        return built

    def _nth_working_day_after(self, ordinal: int, count: int) -> int:
        """The ordinal of the `count`th (>= 1) working day strictly after `ordinal`."""
        year = date.fromordinal(ordinal).year
        while True:
            ordinals = self._year(year).ordinals
            index = bisect_right(ordinals, ordinal)
            if index + count <= len(ordinals):
                return ordinals[index + count - 1]
            count -= len(ordinals) - index
            year += 1

    def _count_working_days(self, after: int, through: int) -> int:
        """How many working days lie in the ordinal range (after, through]."""
        if through <= after:
            return 0
        total = 0
        for year in range(date.fromordinal(after).year, date.fromordinal(through).year + 1):
            ordinals = self._year(year).ordinals
            total += bisect_right(ordinals, through) - bisect_right(ordinals, after)
        return total

    def _paused_working_days(self, pauses: Iterable[Pause], zone: ZoneInfo) -> list[int]:
        """Sorted ordinals of the working days that any pause touches, in local days of `zone`."""
        touched: set[int] = set()
        for pause_start, pause_end in _validated(pauses):
            if pause_end == pause_start:
                continue
            first = pause_start.astimezone(zone).date().toordinal()
            # Half-open: a pause ending at 00:00 does not touch the day that begins then.
            last = (pause_end - timedelta(microseconds=1)).astimezone(zone).date().toordinal()
            touched.update(range(first, last + 1))
        return sorted(ordinal for ordinal in touched if self.is_working_day(date.fromordinal(ordinal)))

    # Working-day clocks

    def add_working_days(self, start: datetime, days: int, *, zone: str, pauses: Iterable[Pause] = ()) -> datetime:
        """The end (23:59:59.999999 local) of the `days`th working day after the start's local day.

        Working days touched by any of `pauses` are not counted, which moves the deadline later.
        """
        tz = _zone(zone)
        _require_aware(start, "start")
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        start_day = start.astimezone(tz).date()
        if days == 0:
            return _end_of_day(start_day, tz)
        origin = start_day.toordinal()
        deadline = self._nth_working_day_after(origin, days)
        paused = self._paused_working_days(pauses, tz)
        # Each paused day inside the window pushes the deadline one working day on, which may bring
        # further paused days inside; stop when an extension brings in none.
        extended_by = 0
        while (paused_inside := _count_in(paused, origin, deadline)) > extended_by:
            deadline = self._nth_working_day_after(deadline, paused_inside - extended_by)
            extended_by = paused_inside
        return _end_of_day(date.fromordinal(deadline), tz)

    def working_days_between(self, start: datetime, end: datetime, *, zone: str, pauses: Iterable[Pause] = ()) -> int:
        """How many counted working days have fully elapsed from `start` to `end` (0 if end <= start)."""
        tz = _zone(zone)
        return self._elapsed_working_days(start, end, tz, self._paused_working_days(pauses, tz))

    def fraction_of_working_days_used(
        self, start: datetime, days: int, now: datetime, *, zone: str, pauses: Iterable[Pause] = ()
    ) -> float:
        """The share of a budget of `days` working days used by `now`: 1.0 at the deadline, above when late.

        The counted day in progress contributes the share of it that has passed, so the dashboards'
        yellow threshold (0.75) can fall within a day, not only at midnight.
        """
        if days < 1:
            raise ValueError(f"a budget of working days must be at least 1, got {days}")
        tz = _zone(zone)
        paused = self._paused_working_days(pauses, tz)
        elapsed: float = self._elapsed_working_days(start, now, tz, paused)
        local_now = now.astimezone(tz)
        today = local_now.date()
        in_progress = (
            today > start.astimezone(tz).date()
            and local_now.time() != time.max  # then today has elapsed and is already counted
            and self.is_working_day(today)
            and _count_in(paused, today.toordinal() - 1, today.toordinal()) == 0
        )
        if in_progress:
            elapsed += _seconds_since_midnight(local_now) / SECONDS_PER_DAY
        return elapsed / days

    def _elapsed_working_days(self, start: datetime, end: datetime, zone: ZoneInfo, paused: Sequence[int]) -> int:
        _require_aware(start, "start")
        _require_aware(end, "end")
        if end <= start:
            return 0
        origin = start.astimezone(zone).date().toordinal()
        last_elapsed = _last_elapsed_day(end.astimezone(zone))
        return self._count_working_days(origin, last_elapsed) - _count_in(paused, origin, last_elapsed)

    # Hour clocks

    def add_hours(self, start: datetime, hours: int, *, pauses: Iterable[Pause] = ()) -> datetime:
        """`start` plus `hours` calendar hours, extended by the time spent paused; in start's zone."""
        _require_aware(start, "start")
        if hours < 0:
            raise ValueError(f"hours must not be negative, got {hours}")
        deadline = start.astimezone(UTC) + timedelta(hours=hours)
        for pause_start, pause_end in _merged(pauses):
            if pause_end <= start:
                continue
            if pause_start >= deadline:
                break
            deadline += pause_end - max(pause_start, start)
        return deadline.astimezone(start.tzinfo)

    def fraction_of_hours_used(
        self, start: datetime, hours: int, now: datetime, *, pauses: Iterable[Pause] = ()
    ) -> float:
        """The share of a budget of `hours` used by `now`, not counting time paused; above 1.0 when late."""
        _require_aware(start, "start")
        _require_aware(now, "now")
        if hours < 1:
            raise ValueError(f"a budget of hours must be at least 1, got {hours}")
        if now <= start:
            return 0.0
        elapsed = now - start
        for pause_start, pause_end in _merged(pauses):
            overlap = min(pause_end, now) - max(pause_start, start)
            if overlap > timedelta(0):
                elapsed -= overlap
        return elapsed / timedelta(hours=hours)


def working_calendar(*, years: Iterable[int] | None = None) -> WorkingCalendar:
    """A calendar with the admins' overrides loaded in one query.

    Without `years` every override is loaded (the table holds a handful of rows a year). With
    `years`, only those years are loaded now; a computation reaching another year loads it then.
    """
    wanted = None if years is None else sorted(set(years))
    if wanted is None:
        # The calendar of every override is shared by the process for a while (lapor.core.reference):
        # it also keeps the years it has worked out.
        return reference.cached(("working-calendar",), _full_calendar)
    return WorkingCalendar._with_overrides(_load_overrides(wanted), loaded_years=wanted, loader=_load_overrides)


def _full_calendar() -> WorkingCalendar:
    return WorkingCalendar._with_overrides(_load_overrides(None), loaded_years=None, loader=_load_overrides)


def _load_overrides(years: Iterable[int] | None) -> dict[date, bool]:
    from django.db.models import Q

    from lapor.core.models import HolidayOverride

    rows = HolidayOverride.objects.all()
    if years is not None:
        in_years = Q(pk__in=[])
        for year in years:
            in_years |= Q(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31))
        rows = rows.filter(in_years)
    return {day: kind == HolidayOverride.Kind.WORKING_DAY for day, kind in rows.values_list("date", "kind")}


def _zone(name: str) -> ZoneInfo:
    if name not in TIME_ZONES:
        raise ValueError(f"zone must be one of {sorted(TIME_ZONES)}, got {name!r}")
    return ZoneInfo(name)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got the naive {value.isoformat()}")


def _validated(pauses: Iterable[Pause]) -> list[Pause]:
    checked = []
    for pause_start, pause_end in pauses:
        _require_aware(pause_start, "pause start")
        _require_aware(pause_end, "pause end")
        if pause_end < pause_start:
            raise ValueError(
                f"a pause cannot end ({pause_end.isoformat()}) before it starts ({pause_start.isoformat()})"
            )
        checked.append((pause_start, pause_end))
    return checked


def _merged(pauses: Iterable[Pause]) -> list[Pause]:
    merged: list[Pause] = []
    for pause_start, pause_end in sorted(_validated(pauses)):
        if merged and pause_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], pause_end))
        else:
            merged.append((pause_start, pause_end))
    return merged


def _count_in(ordinals: Sequence[int], after: int, through: int) -> int:
    return max(0, bisect_right(ordinals, through) - bisect_right(ordinals, after))


def _end_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.max, tzinfo=zone)


def _last_elapsed_day(local_end: datetime) -> int:
    day = local_end.date().toordinal()
    return day if local_end.time() == time.max else day - 1


def _seconds_since_midnight(local: datetime) -> float:
    return local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1_000_000
