"""Background tasks of the report lifecycle. They take ids, are idempotent and call the timers, which
write through the services; see lapor.reports.timers for what each timer does and when."""

from __future__ import annotations

from django_tasks import task

from lapor.reports import timers


@task()
def run_clock(clock_id: int) -> list[str]:
    """Does whatever is due for one clock now (enqueued for its yellow, due and reminder times).
    Harmless when nothing is: a retry, or a task left from before the clock was stopped or moved."""
    return timers.clock_run(clock_id=clock_id)


@task()
def reconcile() -> dict[str, int]:
    """The sweep: everything due and not done, for every report. Task workers run it every minute
    (`lapor worker`); it can also be enqueued, or run with `lapor reports reconcile`."""
    return timers.reconcile().as_dict()
