"""`lapor worker`: the django-tasks database worker, plus the periodic sweeps.

The sweeps (settings.WORKER_SWEEPS, dotted paths of functions taking no arguments; by default the
report timers' `reconcile`) run every `--sweep-interval` seconds in a thread of each worker process,
rather than as a task that re-enqueues itself. A self-enqueueing task is a chain that breaks for good
the first time a link is lost: django-tasks-db never retries a task whose worker was killed while
running it, and N workers would need a shared lock so as not to multiply the chain. A loop inside every
worker cannot be lost that way and needs no coordination: the sweeps are idempotent and lock what
they change (SKIP LOCKED on PostgreSQL), so N workers sweeping at once never act twice; each sweep
costs a few index range scans when nothing is due.

The tasks are claimed as django-tasks-db's own worker claims them (one at a time, SELECT ... FOR UPDATE
SKIP LOCKED, highest priority first, then the earliest run_after, then the earliest enqueued), but
with two queries that an index answers (`claim_next`). django-tasks-db's single query asks for tasks
whose run_after is past *or* the far-future mark of an immediate task, in an order that puts every
deferred task still in the future before the immediate ones: each poll read all of them (a clock's
timer tasks wait days for their time, several per filing), and a worker idle or busy read them again
every time.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connections
from django.db.utils import OperationalError
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string
from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

logger = logging.getLogger(__name__)

DEFAULT_SWEEPS = ("lapor.reports.timers.reconcile",)
DEFAULT_SWEEP_INTERVAL_SECONDS = 60.0
# What django-tasks-db's worker handles to stop gracefully (and this command restores afterwards).
SHUTDOWN_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGQUIT") if hasattr(signal, name))

Sweep = Callable[[], object]


def sweeps_from_settings() -> list[Sweep]:
    return [import_string(path) for path in getattr(settings, "WORKER_SWEEPS", DEFAULT_SWEEPS)]


def run_sweeps(sweeps: Sequence[Sweep]) -> None:
    for sweep in sweeps:
        close_old_connections()
        try:
            sweep()
        except Exception:
            # The next round tries again; a worker must outlive one bad sweep.
            logger.exception("Sweep %s failed", getattr(sweep, "__qualname__", sweep))
        finally:
            close_old_connections()


class Sweeper(threading.Thread):
    """Runs the sweeps now and then every ``interval`` seconds until stopped (or the process ends)."""

    def __init__(self, sweeps: Sequence[Sweep], interval: float) -> None:
        super().__init__(name="lapor-sweeper", daemon=True)
        self.sweeps = list(sweeps)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                run_sweeps(self.sweeps)
                self.stopped.wait(self.interval)
        finally:
            # This thread's own connections: Django keeps one per thread.
            connections.close_all()


def claim_next(backend_name: str, queue_names: Sequence[str] = ("*",)) -> DBTaskResult[Any, Any] | None:
    """Inside a transaction: the next task to run, locked (SKIP LOCKED), or None when none is ready.

    The same task django-tasks-db's `ready().get_locked()` returns, found with two index range scans
    (lapor_task_ready, on run_after, priority and enqueued_at of the ready tasks): the deferred tasks
    that have come due, then the immediate ones, whose run_after is the far-future mark. An immediate
    task goes first only with a higher priority than the due one, as in django-tasks-db's order."""
    ready = DBTaskResult.objects.filter(status=TaskResultStatus.READY, backend_name=backend_name)
    if "*" not in queue_names:
        ready = ready.filter(queue_name__in=list(queue_names))
    due = ready.filter(run_after__lte=timezone.now()).select_for_update(skip_locked=True)
    found = due.first()
    immediate = ready.filter(run_after=get_date_max())
    if found is not None:
        immediate = immediate.filter(priority__gt=found.priority)
    first = immediate.select_for_update(skip_locked=True).first()
    return first if first is not None else found


class Worker(DatabaseWorker):
    """django-tasks-db's worker loop (`db_worker`), claiming with `claim_next`."""

    def run(self) -> None:
        logger.info("Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names))
        if self.startup_delay and self.interval:
            # A small random delay, so that workers started together do not poll in step.
            time.sleep(random.random())  # noqa: S311
        while self.running:
            # Check for dropped/expired connections right after waking up.
            close_old_connections()
            with exclusive_transaction(DBTaskResult.objects.db):
                try:
                    task_result = claim_next(self.backend_name, self.queue_names)
                    retrieved = True
                    if task_result is not None:
                        # Claimed: no other worker process runs it.
                        task_result.claim(self.worker_id)
                except OperationalError as error:
                    retrieved = False
                    # A locked SQLite database unlocks eventually: keep trying.
                    if not is_locked_database_exception(error):
                        raise
                    task_result = None
            if task_result is not None:
                self.run_task(task_result)
            if self.batch and retrieved and task_result is None:
                logger.info("No more tasks to run for worker_id=%s - exiting gracefully.", self.worker_id)
                return
            close_old_connections()
            # After Ctrl-C interrupted a task, self.running is cleared: exit at once rather than sleep.
            if self.running and task_result is None:
                time.sleep(self.interval)


class Command(BaseCommand):
    help = "Run the background task worker (the django-tasks database worker) and the periodic sweeps."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Sweep once, run every waiting task, then exit.")
        parser.add_argument("--queue-name", default="*", help="Queues to process, comma-separated; '*' for all.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls when idle.")
        parser.add_argument(
            "--sweep-interval",
            type=float,
            default=getattr(settings, "WORKER_SWEEP_INTERVAL_SECONDS", DEFAULT_SWEEP_INTERVAL_SECONDS),
            help="Seconds between periodic sweeps (deadline timers); 0 turns them off.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sweeps = sweeps_from_settings() if options["sweep_interval"] > 0 else []
        DatabaseWorkerCommand().configure_logging(options["verbosity"])
        worker = Worker(
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=options["batch"],
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=not options["batch"],
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        sweeper = None
        if options["batch"]:
            run_sweeps(sweeps)
        elif sweeps:
            sweeper = Sweeper(sweeps, options["sweep_interval"])
            sweeper.start()
        handlers = {number: signal.getsignal(number) for number in SHUTDOWN_SIGNALS}
        try:
            worker.configure_signals()
            worker.run()
        finally:
            for number, handler in handlers.items():
                signal.signal(number, handler)
            if sweeper is not None:
                sweeper.stopped.set()
