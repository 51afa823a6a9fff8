"""The working-day calendar: the package's 2026 holidays, overrides, deadlines, zones and pauses.

The concrete dates are those of `holidays` 0.109 (pinned in requirements/*.txt), which match the
2026 SKB on national holidays and cuti bersama; a package upgrade that moves a date fails here first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lapor.core.calendar import TIME_ZONES, WIB, WIT, WITA, WorkingCalendar, working_calendar
from lapor.core.models import HolidayOverride

JAKARTA = ZoneInfo(WIB)


def wib(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=JAKARTA)


def end_of(year: int, month: int, day: int, zone: str = WIB) -> datetime:
    return datetime.combine(date(year, month, day), time.max, tzinfo=ZoneInfo(zone))


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


# Days


def test_weekends_are_not_working_days(calendar):
    assert calendar.is_working_day(date(2026, 11, 27))  # Friday
    assert not calendar.is_working_day(date(2026, 11, 28))  # Saturday
    assert not calendar.is_working_day(date(2026, 11, 29))  # Sunday
    assert calendar.is_working_day(date(2026, 11, 30))  # Monday


def test_the_package_gives_17_public_holidays_and_8_cuti_bersama_days_in_2026():
    public = holidays.country_holidays("ID", categories=("public",), years=2026)
    collective_leave = holidays.country_holidays("ID", categories=("government",), years=2026)
    assert len(public) == 17
    assert sorted(collective_leave) == [
        date(2026, 2, 16),
        date(2026, 3, 18),
        date(2026, 3, 20),
        date(2026, 3, 23),
        date(2026, 3, 24),
        date(2026, 5, 15),
        date(2026, 5, 28),
        date(2026, 12, 24),
    ]


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 1, 1), "Tahun Baru Masehi"),
        (date(2026, 2, 17), "Tahun Baru Imlek"),
        (date(2026, 3, 19), "Hari Suci Nyepi"),
        (date(2026, 3, 20), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2026, 3, 23), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2026, 3, 24), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2026, 4, 3), "Wafat Yesus Kristus"),
        (date(2026, 5, 1), "Hari Buruh Internasional"),
        (date(2026, 5, 27), "Hari Raya Idul Adha"),
        (date(2026, 6, 1), "Hari Lahir Pancasila"),
        (date(2026, 8, 17), "Hari Kemerdekaan Republik Indonesia"),
        (date(2026, 12, 24), "Cuti Bersama Hari Raya Natal"),
        (date(2026, 12, 25), "Hari Raya Natal"),
    ],
)
def test_2026_holidays_and_cuti_bersama_on_weekdays_are_not_working_days(calendar, day, name):
    national = holidays.country_holidays("ID", categories=("public", "government"), language="id", years=2026)
    assert national.get(day) == name
    assert day.weekday() < 5
    assert not calendar.is_working_day(day)


def test_2026_has_240_working_days(calendar):
    # 261 weekdays, less the 21 holidays and cuti bersama that fall on one (Idul Fitri, its second
    # day, Easter Sunday and Waisak fall on a weekend).
    days = [date(2026, 1, 1) + timedelta(days=offset) for offset in range(365)]
    assert sum(calendar.is_working_day(day) for day in days) == 240


def test_a_datetime_is_refused_where_a_local_date_is_meant(calendar):
    with pytest.raises(TypeError):
        calendar.is_working_day(wib(2026, 11, 27, 10))


def test_a_day_cannot_be_both_an_extra_holiday_and_an_extra_working_day():
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar(extra_holidays=[date(2026, 12, 31)], extra_working_days=[date(2026, 12, 31)])


# Overrides from the database


def add_override(day: date, kind: HolidayOverride.Kind, name: str) -> HolidayOverride:
    return HolidayOverride.objects.create(date=day, kind=kind, name=name, decree="SKB 3 Menteri 2026 (perubahan)")


@pytest.mark.django_db
def test_overrides_win_over_the_package_and_load_in_one_query(django_assert_num_queries):
    add_override(date(2026, 12, 31), HolidayOverride.Kind.HOLIDAY, "Cuti bersama tambahan")
    add_override(date(2026, 12, 24), HolidayOverride.Kind.WORKING_DAY, "Cuti bersama Natal dibatalkan")
    add_override(date(2027, 1, 2), HolidayOverride.Kind.WORKING_DAY, "Hari kerja pengganti (Sabtu)")

    with django_assert_num_queries(1):
        calendar = working_calendar()
        assert not calendar.is_working_day(date(2026, 12, 31))
        assert calendar.is_working_day(date(2026, 12, 24))
        assert not calendar.is_working_day(date(2026, 12, 25))  # untouched by the overrides
        assert calendar.is_working_day(date(2027, 1, 2))  # an override wins over the weekend too
        assert not calendar.is_working_day(date(2027, 1, 1))
        assert calendar.add_working_days(wib(2026, 12, 23, 10), 2, zone=WIB) == end_of(2026, 12, 28)


@pytest.mark.django_db
def test_a_calendar_loaded_for_some_years_fetches_another_year_once_when_it_reaches_it(django_assert_num_queries):
    add_override(date(2026, 12, 31), HolidayOverride.Kind.HOLIDAY, "Cuti bersama tambahan")
    add_override(date(2027, 1, 4), HolidayOverride.Kind.HOLIDAY, "Libur nasional tambahan")

    with django_assert_num_queries(1):
        calendar = working_calendar(years=[2026])
        assert not calendar.is_working_day(date(2026, 12, 31))
    with django_assert_num_queries(1):
        assert not calendar.is_working_day(date(2027, 1, 4))
    with django_assert_num_queries(0):
        assert calendar.is_working_day(date(2027, 1, 6))
        assert calendar.is_working_day(date(2026, 12, 30))


@pytest.mark.django_db
def test_override_str_and_unique_date():
    from django.db import IntegrityError, transaction

    override = add_override(date(2026, 12, 31), HolidayOverride.Kind.HOLIDAY, "Cuti bersama tambahan")
    assert str(override) == "2026-12-31 Holiday: a non-working day added: Cuti bersama tambahan"
    with pytest.raises(IntegrityError), transaction.atomic():
        add_override(date(2026, 12, 31), HolidayOverride.Kind.WORKING_DAY, "Again")


@pytest.mark.django_db
def test_admin_lists_overrides_by_kind_and_year(admin_client):
    add_override(date(2026, 12, 31), HolidayOverride.Kind.HOLIDAY, "Cuti bersama tambahan")
    add_override(date(2027, 3, 9), HolidayOverride.Kind.WORKING_DAY, "Cuti bersama dibatalkan")

    response = admin_client.get("/admin/core/holidayoverride/", {"kind__exact": "holiday", "date__year": "2026"})
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert [override.name for override in shown] == ["Cuti bersama tambahan"]


# Working-day deadlines


@pytest.mark.parametrize("hour", [8, 20])
def test_a_report_arriving_on_friday_with_3_working_days_is_due_at_the_end_of_wednesday(calendar, hour):
    assert calendar.add_working_days(wib(2026, 11, 27, hour), 3, zone=WIB) == end_of(2026, 12, 2)


def test_counting_starts_on_the_next_working_day_when_a_report_arrives_on_a_weekend_or_holiday(calendar):
    assert calendar.add_working_days(wib(2026, 11, 28, 9), 3, zone=WIB) == end_of(2026, 12, 2)  # Saturday
    assert calendar.add_working_days(wib(2026, 8, 17, 9), 1, zone=WIB) == end_of(2026, 8, 18)  # Independence Day


def test_lebaran_long_break_is_skipped(calendar):
    # From Wednesday 18 March to Tuesday 24 March 2026 nobody works: cuti bersama, Nyepi, Idul Fitri.
    assert calendar.add_working_days(wib(2026, 3, 17, 10), 3, zone=WIB) == end_of(2026, 3, 27)


def test_a_deadline_crosses_into_the_next_year(calendar):
    # Cuti bersama and Christmas, a weekend, New Year's Day, a weekend, then Isra Mikraj on 5 January 2027.
    assert calendar.add_working_days(wib(2026, 12, 23, 10), 5, zone=WIB) == end_of(2027, 1, 4)
    assert calendar.add_working_days(wib(2026, 12, 23, 10), 6, zone=WIB) == end_of(2027, 1, 6)


def test_zero_days_ends_with_the_start_day(calendar):
    assert calendar.add_working_days(wib(2026, 11, 28, 9), 0, zone=WIB) == end_of(2026, 11, 28)


def test_the_same_instant_is_a_different_local_day_in_wib_wita_and_wit(calendar):
    # Sunday 23:30 in Jakarta is already Monday in Makassar and Jayapura.
    instant = datetime(2026, 11, 29, 16, 30, tzinfo=UTC)
    in_wib = calendar.add_working_days(instant, 1, zone=WIB)
    in_wita = calendar.add_working_days(instant, 1, zone=WITA)
    in_wit = calendar.add_working_days(instant, 1, zone=WIT)
    assert in_wib == end_of(2026, 11, 30, WIB)
    assert in_wita == end_of(2026, 12, 1, WITA)
    assert in_wit == end_of(2026, 12, 1, WIT)
    assert in_wib.utcoffset() == timedelta(hours=7)
    assert in_wit.utcoffset() == timedelta(hours=9)


# Elapsed working days and the share of a clock used


def test_working_days_between_counts_elapsed_working_days(calendar):
    start = wib(2026, 11, 27, 20)  # Friday evening
    assert calendar.working_days_between(start, wib(2026, 11, 30, 12), zone=WIB) == 0  # Monday is not over
    assert calendar.working_days_between(start, wib(2026, 12, 2, 12), zone=WIB) == 2
    assert calendar.working_days_between(start, end_of(2026, 12, 2), zone=WIB) == 3
    assert calendar.working_days_between(start, wib(2026, 12, 3), zone=WIB) == 3
    assert calendar.working_days_between(start, wib(2026, 11, 20), zone=WIB) == 0  # end before start


def test_fraction_of_working_days_used_reaches_the_yellow_threshold_within_a_day(calendar):
    start = wib(2026, 11, 27, 20)
    assert calendar.fraction_of_working_days_used(start, 3, wib(2026, 11, 29, 12), zone=WIB) == 0.0  # weekend
    assert calendar.fraction_of_working_days_used(start, 3, wib(2026, 12, 2, 6), zone=WIB) == pytest.approx(0.75)
    assert calendar.fraction_of_working_days_used(start, 3, end_of(2026, 12, 2), zone=WIB) == 1.0
    assert calendar.fraction_of_working_days_used(start, 3, wib(2026, 12, 3, 12), zone=WIB) == pytest.approx(3.5 / 3)
    with pytest.raises(ValueError, match="at least 1"):
        calendar.fraction_of_working_days_used(start, 0, wib(2026, 12, 3), zone=WIB)


def test_a_paused_day_does_not_use_the_clock(calendar):
    start = wib(2026, 11, 27, 20)
    pause = (wib(2026, 12, 1, 9), wib(2026, 12, 2, 12))  # still paused at the moment measured
    assert calendar.working_days_between(start, wib(2026, 12, 2, 12), zone=WIB, pauses=[pause]) == 1
    used = calendar.fraction_of_working_days_used(start, 3, wib(2026, 12, 2, 12), zone=WIB, pauses=[pause])
    assert used == pytest.approx(1 / 3)


# Pauses


def test_a_pause_extends_the_deadline_by_every_working_day_it_touches(calendar):
    start = wib(2026, 11, 30, 9)  # Monday; 5 working days end on Monday 7 December
    assert calendar.add_working_days(start, 5, zone=WIB) == end_of(2026, 12, 7)
    wednesday_to_thursday = (wib(2026, 12, 2, 15), wib(2026, 12, 3, 10))
    assert calendar.add_working_days(start, 5, zone=WIB, pauses=[wednesday_to_thursday]) == end_of(2026, 12, 9)


def test_a_pause_ending_at_midnight_does_not_touch_the_next_day(calendar):
    start = wib(2026, 11, 30, 9)
    until_midnight = (wib(2026, 12, 2, 15), wib(2026, 12, 3))
    assert calendar.add_working_days(start, 5, zone=WIB, pauses=[until_midnight]) == end_of(2026, 12, 8)


def test_a_pause_over_a_weekend_or_of_no_length_changes_nothing(calendar):
    start = wib(2026, 11, 30, 9)
    weekend = (wib(2026, 12, 5, 10), wib(2026, 12, 6, 18))
    empty = (wib(2026, 12, 2, 15), wib(2026, 12, 2, 15))
    assert calendar.add_working_days(start, 5, zone=WIB, pauses=[weekend, empty]) == end_of(2026, 12, 7)


def test_an_extension_that_reaches_another_paused_day_extends_again(calendar):
    start = wib(2026, 11, 30, 9)  # 3 working days end on Thursday 3 December
    wednesday = (wib(2026, 12, 2, 10), wib(2026, 12, 2, 11))
    friday = (wib(2026, 12, 4, 10), wib(2026, 12, 4, 11))
    assert calendar.add_working_days(start, 3, zone=WIB, pauses=[wednesday, friday]) == end_of(2026, 12, 7)


def test_pauses_are_read_in_the_callers_zone(calendar):
    # 23:00-23:30 Tuesday in Jakarta is Wednesday in Jayapura.
    pause = (wib(2026, 12, 1, 23), wib(2026, 12, 1, 23, 30))
    start = wib(2026, 11, 30, 9)
    assert calendar.add_working_days(start, 3, zone=WIB, pauses=[pause]) == end_of(2026, 12, 4, WIB)
    assert calendar.add_working_days(start, 3, zone=WIT, pauses=[pause]) == end_of(2026, 12, 4, WIT)
    assert calendar.add_working_days(start, 2, zone=WIT, pauses=[pause]) == end_of(2026, 12, 3, WIT)
    assert calendar.add_working_days(start, 2, zone=WIB, pauses=[pause]) == end_of(2026, 12, 3, WIB)
    assert calendar.add_working_days(start, 1, zone=WIT, pauses=[pause]) == end_of(2026, 12, 1, WIT)
    assert calendar.add_working_days(start, 1, zone=WIB, pauses=[pause]) == end_of(2026, 12, 2, WIB)


def test_a_pause_that_ends_before_it_starts_is_refused(calendar):
    with pytest.raises(ValueError, match="before it starts"):
        calendar.add_working_days(wib(2026, 11, 30), 3, zone=WIB, pauses=[(wib(2026, 12, 2), wib(2026, 12, 1))])


# Hour clocks


def test_add_hours_counts_calendar_hours(calendar):
    start = wib(2026, 11, 27, 10)  # Friday; 2 x 24 hours run through the weekend
    deadline = calendar.add_hours(start, 48)
    assert deadline == wib(2026, 11, 29, 10)
    assert deadline.tzinfo == JAKARTA
    assert calendar.add_hours(datetime(2026, 11, 27, 3, tzinfo=UTC), 48) == wib(2026, 11, 29, 10)


def test_add_hours_is_extended_by_time_paused_once_even_when_pauses_overlap(calendar):
    start = wib(2026, 11, 27, 10)
    pauses = [(wib(2026, 11, 28, 8), wib(2026, 11, 28, 10)), (wib(2026, 11, 28, 9), wib(2026, 11, 28, 11))]
    before_start = (wib(2026, 11, 26, 8), wib(2026, 11, 26, 20))
    assert calendar.add_hours(start, 48, pauses=[*pauses, before_start]) == wib(2026, 11, 29, 13)


def test_fraction_of_hours_used(calendar):
    start = wib(2026, 11, 27, 10)
    assert calendar.fraction_of_hours_used(start, 48, wib(2026, 11, 28, 22)) == 0.75
    pause = (wib(2026, 11, 28, 10), wib(2026, 11, 28, 22))
    assert calendar.fraction_of_hours_used(start, 48, wib(2026, 11, 28, 22), pauses=[pause]) == 0.5
    short_pause = (wib(2026, 11, 28, 10), wib(2026, 11, 28, 10, 36))
    assert calendar.fraction_of_hours_used(start, 48, wib(2026, 11, 28, 22), pauses=[short_pause]) == 0.7375
    assert calendar.fraction_of_hours_used(start, 48, wib(2026, 11, 26)) == 0.0


# Refusals


NAIVE = datetime(2026, 11, 27, 10)  # noqa: DTZ001 - the point of these tests


@pytest.mark.parametrize(
    "call",
    [
        lambda calendar: calendar.add_working_days(NAIVE, 3, zone=WIB),
        lambda calendar: calendar.working_days_between(wib(2026, 11, 27), NAIVE, zone=WIB),
        lambda calendar: calendar.working_days_between(NAIVE, wib(2026, 11, 27), zone=WIB),
        lambda calendar: calendar.fraction_of_working_days_used(wib(2026, 11, 27), 3, NAIVE, zone=WIB),
        lambda calendar: calendar.add_hours(NAIVE, 48),
        lambda calendar: calendar.fraction_of_hours_used(wib(2026, 11, 27), 48, NAIVE),
        lambda calendar: calendar.add_working_days(wib(2026, 11, 27), 3, zone=WIB, pauses=[(NAIVE, NAIVE)]),
        lambda calendar: calendar.add_hours(wib(2026, 11, 27), 48, pauses=[(wib(2026, 11, 27), NAIVE)]),
    ],
)
def test_naive_datetimes_are_refused(calendar, call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call(calendar)


def test_negative_budgets_are_refused(calendar):
    with pytest.raises(ValueError, match="negative"):
        calendar.add_working_days(wib(2026, 11, 27), -1, zone=WIB)
    with pytest.raises(ValueError, match="negative"):
        calendar.add_hours(wib(2026, 11, 27), -1)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Singapore", "WIB", "asia/jakarta"])
def test_zones_other_than_wib_wita_and_wit_are_refused(calendar, zone):
    with pytest.raises(ValueError, match="zone must be one of"):
        calendar.add_working_days(wib(2026, 11, 27), 3, zone=zone)


# Properties

ZONES = sorted(TIME_ZONES)
DAYS_2025_TO_2028 = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31))
starts = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds and adds the zone
    max_value=datetime(2028, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([ZoneInfo(zone) for zone in ZONES]),
)


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    """A calendar with random admin overrides, so that properties hold whatever the decrees say."""
    extra_holidays = draw(st.sets(DAYS_2025_TO_2028, max_size=20))
    extra_working_days = draw(st.sets(DAYS_2025_TO_2028, max_size=20)) - extra_holidays
    return WorkingCalendar(extra_holidays=extra_holidays, extra_working_days=extra_working_days)


def pause_lists(start: datetime) -> st.SearchStrategy[list[tuple[datetime, datetime]]]:
    """Up to four pauses, possibly overlapping, from a few days before `start` to weeks after it."""
    offsets = st.timedeltas(min_value=timedelta(days=-5), max_value=timedelta(days=60))
    lengths = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10))
    return st.lists(st.tuples(offsets, lengths), max_size=4).map(
        lambda pairs: [(start + offset, start + offset + length) for offset, length in pairs]
    )


@settings(deadline=None)
@given(calendar=calendars(), start=starts, days=st.integers(1, 80), zone=st.sampled_from(ZONES))
def test_a_deadline_is_the_end_of_a_working_day_in_the_callers_zone(calendar, start, days, zone):
    deadline = calendar.add_working_days(start, days, zone=zone)
    assert deadline.tzinfo == ZoneInfo(zone)
    assert deadline.timetz().replace(tzinfo=None) == time.max
    assert calendar.is_working_day(deadline.date())
    assert deadline.date() > start.astimezone(ZoneInfo(zone)).date()


@settings(deadline=None)
@given(calendar=calendars(), start=starts, days=st.integers(0, 80), zone=st.sampled_from(ZONES))
def test_a_deadline_grows_with_the_budget_and_elapses_exactly_the_budget(calendar, start, days, zone):
    deadline = calendar.add_working_days(start, days, zone=zone)
    assert calendar.add_working_days(start, days + 1, zone=zone) > deadline
    assert calendar.working_days_between(start, deadline, zone=zone) == days
    if days:
        assert calendar.working_days_between(start, deadline - timedelta(microseconds=1), zone=zone) == days - 1
        assert calendar.fraction_of_working_days_used(start, days, deadline, zone=zone) == 1.0


@settings(deadline=None)
@given(calendar=calendars(), start=starts, days=st.integers(1, 60), zone=st.sampled_from(ZONES), data=st.data())
def test_pauses_only_ever_extend_a_deadline_and_the_budget_still_elapses_exactly(calendar, start, days, zone, data):
    pauses = data.draw(pause_lists(start))
    unpaused = calendar.add_working_days(start, days, zone=zone)
    paused = calendar.add_working_days(start, days, zone=zone, pauses=pauses)
    assert paused >= unpaused
    assert calendar.is_working_day(paused.date())
    assert calendar.working_days_between(start, paused, zone=zone, pauses=pauses) == days
    assert calendar.working_days_between(start, paused - timedelta(microseconds=1), zone=zone, pauses=pauses) < days


@settings(deadline=None)
@given(start=starts, hours=st.integers(1, 24 * 14), data=st.data())
def test_an_hour_clock_is_fully_used_exactly_at_its_deadline(start, hours, data):
    pauses = data.draw(pause_lists(start))
    calendar = WorkingCalendar()
    deadline = calendar.add_hours(start, hours, pauses=pauses)
    assert deadline >= start + timedelta(hours=hours)
    assert calendar.fraction_of_hours_used(start, hours, deadline, pauses=pauses) == 1.0


def brute_force_deadline(
    calendar: WorkingCalendar, start: datetime, days: int, zone: str, pauses: list[tuple[datetime, datetime]]
) -> datetime:
    """The rule read literally: walk local days, skipping non-working days and any day a pause overlaps."""
    tz = ZoneInfo(zone)
    day = start.astimezone(tz).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        midnight = datetime.combine(day, time.min, tzinfo=tz)
        touched = any(
            pause_start < midnight + timedelta(days=1) and pause_end > midnight and pause_end > pause_start
            for pause_start, pause_end in pauses
        )
        if calendar.is_working_day(day) and not touched:
            counted += 1
    return datetime.combine(day, time.max, tzinfo=tz)


@settings(deadline=None)
@given(calendar=calendars(), start=starts, days=st.integers(0, 60), zone=st.sampled_from(ZONES), data=st.data())
def test_deadlines_agree_with_walking_day_by_day(calendar, start, days, zone, data):
    pauses = data.draw(pause_lists(start))
    expected = brute_force_deadline(calendar, start, days, zone, pauses)
    assert calendar.add_working_days(start, days, zone=zone, pauses=pauses) == expected


@settings(deadline=None)
@given(
    calendar=calendars(),
    start=starts,
    zone=st.sampled_from(ZONES),
    data=st.data(),
    offsets=st.tuples(*[st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))] * 2),
)
def test_the_share_of_a_clock_used_never_goes_down(calendar, start, zone, data, offsets):
    pauses = data.draw(pause_lists(start))
    earlier, later = sorted(offsets)
    used_earlier = calendar.fraction_of_working_days_used(start, 5, start + earlier, zone=zone, pauses=pauses)
    used_later = calendar.fraction_of_working_days_used(start, 5, start + later, zone=zone, pauses=pauses)
    assert 0 <= used_earlier <= used_later
