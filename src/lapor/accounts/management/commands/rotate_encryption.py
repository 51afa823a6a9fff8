from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from lapor.core.crypto import registered_rotations


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value (accounts' NIK, guests' contacts) under the first (newest) key of "
        "FIELD_ENCRYPTION_KEYS. Put a new key first, run this, then drop the old keys from the list."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Rows re-encrypted per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        for message, rotate in registered_rotations():
            try:
                count = rotate(batch_size)
            except ValueError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(str(message) % {"count": count})
