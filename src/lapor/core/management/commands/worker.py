"""`lapor worker`: the django-tasks database worker, plus the periodic sweeps.

The sweeps (settings.WORKER_SWEEPS, dotted paths of functions taking no arguments; by default the
report timers' `reconcile`) run every `--sweep-interval` seconds in a thread of each worker process,
rather than as a task that re-enqueues itself. A self-enqueueing task is a chain that breaks for good
the first time a link is lost: django-tasks-db never retries a task whose worker was killed while
running it, and N workers would need a shared lock so as not to multiply the chain. A loop inside every
worker cannot be lost that way and needs no coordination: the sweeps are idempotent and lock what
they change (SKIP LOCKED on PostgreSQL), so N workers sweeping at once never act twice; each sweep
costs a few index range scans when nothing is due.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

DEFAULT_SWEEPS = ("lapor.reports.timers.reconcile",)
DEFAULT_SWEEP_INTERVAL_SECONDS = 60.0

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
        arguments = ["--queue-name", options["queue_name"], "--interval", str(options["interval"]), "--no-reload"]
        sweeper = None
        if options["batch"]:
            arguments += ["--batch", "--no-startup-delay"]
            run_sweeps(sweeps)
        elif sweeps:
            sweeper = Sweeper(sweeps, options["sweep_interval"])
            sweeper.start()
        try:
            call_command("db_worker", *arguments, verbosity=options["verbosity"])
        finally:
            if sweeper is not None:
                sweeper.stopped.set()
