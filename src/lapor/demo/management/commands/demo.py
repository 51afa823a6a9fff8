from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from lapor.demo.services import DemoError, demo_load, demo_logins


class Command(BaseCommand):
    help = "Demo data: `demo load` creates the demo institutions and accounts; `demo logins` prints the logins."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        load = subcommands.add_parser("load", help="Load the demo institutions, categories and accounts.")
        load.add_argument(
            "--allow-production", action="store_true", help="Load even with DEBUG off (accounts share one password)."
        )
        load.add_argument("--quiet-logins", action="store_true", help="Do not print the demo logins.")
        load.add_argument(
            "--reports", type=int, default=None, help="How many demo reports to file (default 200; 0: none)."
        )
        subcommands.add_parser("logins", help="Print the demo logins.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "load":
            try:
                result = demo_load(allow_production=options["allow_production"], reports=options["reports"])
            except DemoError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(
                _(
                    "Demo data created: %(institutions)d institutions, %(accounts)d accounts, "
                    "%(memberships)d memberships, %(categories)d categories, %(reports)d reports."
                )
                % {
                    "institutions": result.institutions_created,
                    "accounts": result.accounts_created,
                    "memberships": result.memberships_granted,
                    "categories": result.categories_created,
                    "reports": result.reports_created,
                }
            )
            if options["quiet_logins"]:
                return
        self._print_logins()

    def _print_logins(self) -> None:
        rows = demo_logins()
        width = max(len(login) for login, _password, _what in rows)
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(_("Demo logins (password for all: %(password)s)") % {"password": rows[0][1]})
        )
        for login, _password, what in rows:
            self.stdout.write(f"  {login.ljust(width)}  {what}")
        self.stdout.write("")
