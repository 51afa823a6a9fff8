"""The reference cache: holiday and deadline overrides and the national institution, kept by each
process for REFERENCE_CACHE_SECONDS, forgotten at once when this process changes them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from lapor.core import reference
from lapor.core.calendar import working_calendar
from lapor.core.models import HolidayOverride
from lapor.institutions.models import DeadlineOverride, Institution
from lapor.institutions.selectors import deadline_overrides_in_force
from tests.reports.conftest import build_world

# A Wednesday that the holidays package calls a working day.
ORDINARY_WEDNESDAY = date(2026, 9, 16)


def queries_of(action: object) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()  # type: ignore[operator]
    return len(captured)


def test_a_value_is_loaded_once_while_fresh_and_again_after_it_expires(monkeypatch):
    loads: list[int] = []
    now = [1000.0]
    monkeypatch.setattr(reference, "monotonic_now", lambda: now[0])

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert reference.cached("key", load) == 1
    now[0] += reference.lifetime() - 1
    assert reference.cached("key", load) == 1
    now[0] += 2
    assert reference.cached("key", load) == 2


def test_a_lifetime_of_zero_turns_the_cache_off(settings):
    settings.REFERENCE_CACHE_SECONDS = 0
    loads: list[int] = []
    for _ in range(3):
        reference.cached("key", lambda: loads.append(1))
    assert len(loads) == 3


@pytest.mark.django_db
def test_the_working_calendar_is_read_once_then_served_from_memory():
    assert queries_of(working_calendar) == 1
    assert queries_of(working_calendar) == 0


@pytest.mark.django_db
def test_a_holiday_added_in_this_process_applies_at_once():
    assert working_calendar().is_working_day(ORDINARY_WEDNESDAY)
    HolidayOverride.objects.create(date=ORDINARY_WEDNESDAY, kind=HolidayOverride.Kind.HOLIDAY, name="Decree")
    assert not working_calendar().is_working_day(ORDINARY_WEDNESDAY)


@pytest.mark.django_db
def test_while_a_transaction_that_wrote_is_open_nothing_is_stored_and_a_rollback_leaves_no_trace():
    working_calendar()
    seen: list[tuple[bool, int]] = []

    def failing_admin_form() -> None:
        with transaction.atomic():
            HolidayOverride.objects.create(date=ORDINARY_WEDNESDAY, kind=HolidayOverride.Kind.HOLIDAY, name="Draft")
            # Read again each time, not kept: the write may still be undone.
            seen.append((working_calendar().is_working_day(ORDINARY_WEDNESDAY), queries_of(working_calendar)))
            raise RuntimeError("the admin's form failed after the save")

    with pytest.raises(RuntimeError):
        failing_admin_form()
    assert seen == [(False, 1)]
    assert working_calendar().is_working_day(ORDINARY_WEDNESDAY)
    assert queries_of(working_calendar) == 0


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_empties_the_cache_and_other_processes_catch_up_when_it_expires(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(reference, "monotonic_now", lambda: now[0])
    assert working_calendar().is_working_day(ORDINARY_WEDNESDAY)
    with transaction.atomic():
        HolidayOverride.objects.create(date=ORDINARY_WEDNESDAY, kind=HolidayOverride.Kind.HOLIDAY, name="Decree")
    assert not working_calendar().is_working_day(ORDINARY_WEDNESDAY)

    # Another process removes it (no signal reaches this one): seen once the entry has expired.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_holidayoverride")
    assert not working_calendar().is_working_day(ORDINARY_WEDNESDAY)
    now[0] += reference.lifetime() + 1
    assert working_calendar().is_working_day(ORDINARY_WEDNESDAY)


def deadline_overrides(institution: Institution) -> Mapping[str, DeadlineOverride]:
    return deadline_overrides_in_force(institution=institution, cached=True)


@pytest.mark.django_db
def test_deadline_overrides_are_kept_per_institution_and_follow_a_change():
    world = build_world()
    reference.reset()  # building the world wrote institutions in this (still open) test transaction
    city = world.city
    assert queries_of(lambda: deadline_overrides(city)) == 1
    assert queries_of(lambda: deadline_overrides(city)) == 0
    assert "first_follow_up" not in deadline_overrides(city)

    DeadlineOverride.objects.create(institution=city, clock="first_follow_up", amount=48, unit="hours")

    assert deadline_overrides(city)["first_follow_up"].amount == 48
