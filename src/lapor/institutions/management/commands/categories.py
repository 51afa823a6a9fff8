from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from lapor.institutions.errors import InstitutionError
from lapor.institutions.services import categories_load


class Command(BaseCommand):
    help = "Manage the report category taxonomy: `lapor categories load` creates or updates it from JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser("load", help="Create or update the categories from a JSON file (idempotent).")
        load.add_argument("--file", type=Path, default=None, help="A categories JSON file instead of the shipped one.")
        load.add_argument("--force", action="store_true", help="Load even when the file is unchanged since last time.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = categories_load(path=options["file"], force=options["force"])
        except (InstitutionError, OSError) as error:
            raise CommandError(str(error)) from error
        if result.skipped:
            self.stdout.write(_("Categories unchanged since the last load; nothing to do (use --force to reload)."))
            return
        message = _(
            "Categories loaded: %(created)d created, %(updated)d updated, %(moved)d moved, %(unchanged)d unchanged."
        )
        self.stdout.write(
            self.style.SUCCESS(
                message
                % {
                    "created": result.created,
                    "updated": result.updated,
                    "moved": result.moved,
                    "unchanged": result.unchanged,
                }
            )
        )
