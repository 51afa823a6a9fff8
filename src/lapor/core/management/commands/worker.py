from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the background task worker (the django-tasks database worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Run every waiting task, then exit.")
        parser.add_argument("--queue-name", default="*", help="Queues to process, comma-separated; '*' for all.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls when idle.")

    def handle(self, *args: Any, **options: Any) -> None:
        arguments = ["--queue-name", options["queue_name"], "--interval", str(options["interval"]), "--no-reload"]
        if options["batch"]:
            arguments += ["--batch", "--no-startup-delay"]
        call_command("db_worker", *arguments, verbosity=options["verbosity"])
