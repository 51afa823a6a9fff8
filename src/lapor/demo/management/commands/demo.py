from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings
from django.utils.translation import gettext as _

from lapor.demo.services import DemoError, demo_load, demo_logins
from lapor.notifications.models import Notification
from lapor.notifications.services import notification_deliver_due
from lapor.reports.models import Report
from lapor.reports.timers import reconcile

SETTLE_SWEEPS = 5


@contextlib.contextmanager
def demo_outbox_to_files() -> Iterator[tuple[Path, Path]]:
    """While the demo is loaded, its e-mail and SMS go to files in the data folder and its tasks run
    at once, whatever the deployment configures: the demo's people are invented, and a worker started
    next (`make run`) must not bury the demo logins under a thousand old demo messages."""
    data_dir = Path(settings.DATA_DIR)
    mail, sms = data_dir / "mail", data_dir / "sms"
    task_log = logging.getLogger("django_tasks")  # two lines per task run: hundreds here
    level = task_log.level
    task_log.setLevel(max(level, logging.WARNING))
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=mail,
            SMS_BACKEND="file",
            TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
        ):
            yield mail, sms
    finally:
        task_log.setLevel(level)


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
            before = Notification.objects.count()
            demo_database = not Report.objects.exists()  # then every report after the load is the demo's
            with demo_outbox_to_files() as (mail, sms):
                try:
                    result = demo_load(allow_production=options["allow_production"], reports=options["reports"])
                except DemoError as error:
                    raise CommandError(str(error)) from error
                if result.reports_created and demo_database:
                    # The demo's history lies in the past: the warnings and escalations it has earned by
                    # now are sent here, to the files, not by the worker to the console. (Not in a
                    # database with real reports, whose messages must really go out.)
                    # One sweep takes each clock one step (warning, then each escalation level).
                    for _sweep in range(SETTLE_SWEEPS):
                        if not reconcile().total:
                            break
                    notification_deliver_due()
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
            written = Notification.objects.count() - before
            if written:
                self.stdout.write(
                    _("The demo's %(count)d notifications were written to %(mail)s and %(sms)s, not sent.")
                    % {"count": written, "mail": mail, "sms": sms}
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
