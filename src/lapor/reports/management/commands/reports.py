from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from lapor.reports import timers


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse needs a plain string: translated here, when the command is made, not at import.
        self.help = _("Report lifecycle maintenance.")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        reconcile = actions.add_parser(
            "reconcile",
            help=_(
                "Do every deadline warning, escalation, reminder, automatic archive, deemed completion and "
                "end of hold that is due and not done yet (what task workers do every minute)."
            ),
        )
        reconcile.add_argument(
            "--batch-size", type=int, default=timers.DEFAULT_BATCH_SIZE, help=_("Rows read per query.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        result = timers.reconcile(batch_size=options["batch_size"])
        labels = {
            "warned": _("deadline warnings"),
            "escalated": _("escalations"),
            "reminded": _("reminders"),
            "archived": _("archived after unanswered requests"),
            "deemed_complete": _("deemed complete"),
            "resumed": _("resumed after a hold"),
            "failed": _("failed (see the log; retried next time)"),
        }
        for field, count in result.as_dict().items():
            self.stdout.write(f"{labels[field]}: {count}")
        if result.failed:
            raise CommandError(_("Some timers failed."), returncode=1)
