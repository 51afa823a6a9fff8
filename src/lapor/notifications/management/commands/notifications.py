from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count
from django.utils.translation import gettext as _

from lapor.notifications.choices import DeliveryStatus
from lapor.notifications.models import Notification
from lapor.notifications.services import DEFAULT_BATCH_SIZE, DeliveryTally, notification_deliver_due


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse needs a plain string: translated here, when the command is made, not at import.
        self.help = _("Deliver the notification outbox, or show how it stands.")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        deliver = actions.add_parser(
            "deliver", help=_("Send due notifications (retries included); keeps running unless --batch.")
        )
        deliver.add_argument("--batch", action="store_true", help=_("Send everything due now, then exit."))
        deliver.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=_("Notifications claimed at a time (default %(default)s)."),
        )
        deliver.add_argument(
            "--interval", type=float, default=5.0, help=_("Seconds between polls when nothing is due.")
        )
        actions.add_parser("status", help=_("Count the notifications in each delivery status."))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "status":
            self.status()
            return
        batch_size = max(1, options["batch_size"])
        total = DeliveryTally()
        try:
            while True:
                tally = notification_deliver_due(limit=batch_size)
                total.sent, total.failed, total.dead = (
                    total.sent + tally.sent,
                    total.failed + tally.failed,
                    total.dead + tally.dead,
                )
                if tally.total == 0:
                    if options["batch"]:
                        break
                    time.sleep(options["interval"])
        except KeyboardInterrupt:
            pass
        self.stdout.write(
            _("Sent %(sent)d, failed for now %(failed)d, given up %(dead)d.")
            % {"sent": total.sent, "failed": total.failed, "dead": total.dead}
        )

    def status(self) -> None:
        counts = dict(Notification.objects.values_list("status").annotate(count=Count("pk")).order_by())
        for status in DeliveryStatus:
            self.stdout.write(f"{status.label}: {counts.get(status.value, 0)}")
