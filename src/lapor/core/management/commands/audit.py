from __future__ import annotations

from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import router
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from lapor.core.audit import (
    AnchorVerifyResult,
    AuditError,
    ChainedEvent,
    VerifyResult,
    anchor_create,
    anchor_daily,
    anchor_verify,
    append_only_installed,
    chain_verify,
    chained_event_models,
)
from lapor.core.models import AuditAnchor


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse needs a plain string: translated here, when the command is made, not at import.
        self.help = _("Verify the tamper-evident audit trails, or anchor their chain heads.")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        verify = actions.add_parser("verify", help=_("Check every event chain and the anchors; exit 1 if broken."))
        verify.add_argument("--model", help=_("Only this event model (app_label.ModelName)."))
        verify.add_argument(
            "--full", action="store_true", help=_("Recompute every anchor, not only the latest (slow).")
        )
        anchor = actions.add_parser("anchor", help=_("Record the Merkle root of every chain head now."))
        anchor.add_argument("--model", help=_("Only this event model (app_label.ModelName)."))
        when = anchor.add_mutually_exclusive_group()
        when.add_argument("--upto", help=_("Cover events created up to this ISO 8601 time (default: now)."))
        when.add_argument(
            "--daily",
            action="store_true",
            help=_("Cover events up to the start of today, skipping models already anchored that far."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self.verify(self.models(options["model"]), full=options["full"])
        else:
            self.anchor(self.models(options["model"]), upto=options["upto"], daily=options["daily"])

    def models(self, label: str | None) -> list[type[ChainedEvent]]:
        if label is None:
            return chained_event_models()
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError) as error:
            raise CommandError(_("Unknown model %(label)s.") % {"label": label}) from error
        if not issubclass(model, ChainedEvent):
            raise CommandError(_("%(label)s is not a chained event model.") % {"label": label})
        return [model]

    def verify(self, models: list[type[ChainedEvent]], *, full: bool) -> None:
        if not models:
            self.stdout.write(_("No chained event models are installed."))
            return
        broken = 0
        protected: list[type[Model]] = [*models, AuditAnchor]
        for model in protected:
            table = model._meta.db_table
            if not append_only_installed(table, using=router.db_for_write(model)):
                self.stderr.write(
                    self.style.WARNING(
                        _(
                            "WARNING: the table %(table)s is not append-only: its triggers are missing or "
                            "disabled (see lapor.core.audit.append_only_operations)."
                        )
                        % {"table": table}
                    )
                )
        for model in models:
            for outcome in (chain_verify(model), anchor_verify(model, full=full)):
                if outcome.ok:
                    self.stdout.write(self.style.SUCCESS(self.describe_success(outcome)))
                else:
                    broken += 1
                    assert outcome.first_break is not None
                    self.stderr.write(
                        _("BROKEN: %(model)s: %(problem)s (%(count)d problems in all)")
                        % {
                            "model": outcome.model_label,
                            "problem": outcome.first_break.describe(),
                            "count": outcome.break_count,
                        }
                    )
        if broken:
            raise CommandError(_("The audit trail is broken: see the lines above."))

    def describe_success(self, outcome: VerifyResult | AnchorVerifyResult) -> str:
        if isinstance(outcome, VerifyResult):
            return _("OK: %(events)d events in %(chains)d chains (%(model)s)") % {
                "events": outcome.events,
                "chains": outcome.chains,
                "model": outcome.model_label,
            }
        return _("OK: %(anchors)d anchors, %(recomputed)d recomputed (%(model)s)") % {
            "anchors": outcome.anchors,
            "recomputed": outcome.recomputed,
            "model": outcome.model_label,
        }

    def anchor(self, models: list[type[ChainedEvent]], *, upto: str | None, daily: bool) -> None:
        try:
            if daily:
                anchors = anchor_daily(models=models)
            else:
                moment = self.parse_upto(upto)
                anchors = [anchor_create(model, upto=moment) for model in models]
        except AuditError as error:
            raise CommandError(error.message) from error
        if not anchors:
            self.stdout.write(_("Nothing to anchor."))
        for anchor in anchors:
            self.stdout.write(self.describe_anchor(anchor))

    def parse_upto(self, upto: str | None) -> datetime:
        if upto is None:
            return timezone.now()
        try:
            moment = parse_datetime(upto)
        except ValueError:
            moment = None
        if moment is None:
            raise CommandError(_("--upto %(value)s is not an ISO 8601 date and time.") % {"value": upto})
        return timezone.make_aware(moment) if timezone.is_naive(moment) else moment

    def describe_anchor(self, anchor: AuditAnchor) -> str:
        return _(
            "Anchored %(model)s up to %(upto)s: %(events)d events in %(chains)d chains, "
            "Merkle root %(root)s. Publish the anchor hash: %(hash)s"
        ) % {
            "model": anchor.model_label,
            "upto": anchor.upto.isoformat(),
            "events": anchor.event_count,
            "chains": anchor.chain_count,
            "root": anchor.merkle_root,
            "hash": anchor.hash,
        }
