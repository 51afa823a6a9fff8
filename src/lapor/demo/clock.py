"""The demo's clock: lets the demo file its reports weeks ago, through the real services.

The services take the time from ``django.utils.timezone.now()`` (directly, through ``localdate()``
and through model defaults such as ``default=timezone.now``), and the audit trail hashes it. Writing
the history first and back-dating it afterwards would mean rewriting hash chains, clocks and
deadlines by hand; instead, while `demo_clock` runs, ``timezone.now()`` answers the demo's moment,
which the demo moves forward step by step. Every deadline, event, hash and notification is then
exactly what the services produce at that moment.

For the demo only: it replaces the ``datetime`` that django.utils.timezone calls for the whole
process, so it must never run beside requests or workers (the `demo load` command, or a test).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from typing import Any

from django.utils import timezone as django_timezone


class DemoClock:
    """The demo's current moment (aware, UTC), set by the demo as its story goes on."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment
        self.set(moment)

    def set(self, moment: datetime) -> None:
        if django_timezone.is_naive(moment):
            raise ValueError("The demo clock needs an aware datetime.")
        self.moment = moment.astimezone(UTC)


class _ClockedDatetime:
    """Stands in for the ``datetime`` class inside django.utils.timezone: ``now()`` reads the demo
    clock, and ``isinstance(value, ...)`` (template_localtime) still recognises real datetimes."""

    def __init__(self, clock: DemoClock) -> None:
        self._clock = clock

    def now(self, tz: tzinfo | None = None) -> datetime:
        moment = self._clock.moment
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)

    def __instancecheck__(self, instance: object) -> bool:
        return isinstance(instance, datetime)

    def __getattr__(self, name: str) -> Any:
        return getattr(datetime, name)


@contextlib.contextmanager
def demo_clock(start: datetime) -> Iterator[DemoClock]:
    """While inside, ``timezone.now()`` is the returned clock's moment, starting at ``start``."""
    clock = DemoClock(start)
    original = getattr(django_timezone, "datetime")  # noqa: B009 (not in its stubs)
    setattr(django_timezone, "datetime", _ClockedDatetime(clock))  # noqa: B010 (a module's global, on purpose)
    try:
        yield clock
    finally:
        setattr(django_timezone, "datetime", original)  # noqa: B010
