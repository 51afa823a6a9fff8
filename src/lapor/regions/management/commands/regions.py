"""``lapor regions load|search|show``: keep the region list current and look regions up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from lapor.regions.choices import RegionLevel
from lapor.regions.codes import InvalidRegionCode, ancestor_codes
from lapor.regions.models import Region
from lapor.regions.selectors import region_ancestors, region_children, region_get, region_names, region_search
from lapor.regions.services import RegionDataError, RegionLoadSummary, regions_load
from lapor.regions.timezones import time_zone_label

LEVEL_NAMES = {level.name.lower(): level for level in RegionLevel}


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse needs a plain string: translated here, when the command is made, not at import.
        self.help = _("Load the official list of Indonesian regions, search it, or show one region.")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{load,search,show}")

        load = actions.add_parser("load", help=_("Bring the stored regions in line with the region CSV files."))
        load.add_argument(
            "--source",
            type=Path,
            metavar="DIR",
            help=_("Folder with provinces.csv, regencies.csv, districts.csv and villages.csv (default: shipped data)."),
        )
        load.add_argument(
            "--force", action="store_true", help=_("Compare with the stored regions even if the files are unchanged.")
        )

        search = actions.add_parser("search", help=_('Find regions by name, e.g. "tangerang sel".'))
        search.add_argument("query", nargs="+", help=_("Words of the name; each may be the start of a word."))
        search.add_argument("--limit", type=int, default=20, help=_("Most results to print (default 20)."))
        search.add_argument("--level", choices=sorted(LEVEL_NAMES), help=_("Only regions of this level."))
        search.add_argument("--within", metavar="CODE", help=_("Only regions below the region with this code."))
        search.add_argument("--inactive", action="store_true", help=_("Include regions no longer in use."))

        show = actions.add_parser("show", help=_("Show a region, the regions above it and how many are below it."))
        show.add_argument("code", help=_("Kemendagri code, e.g. 36.74."))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "load":
                self.load(source=options["source"], force=options["force"], verbosity=options["verbosity"])
            elif options["action"] == "search":
                self.search(
                    " ".join(options["query"]),
                    limit=options["limit"],
                    level=LEVEL_NAMES[options["level"]] if options["level"] else None,
                    within=options["within"],
                    include_inactive=options["inactive"],
                )
            else:
                self.show(options["code"])
        except (RegionDataError, InvalidRegionCode) as error:
            raise CommandError(str(error)) from error

    def load(self, *, source: Path | None, force: bool, verbosity: int) -> None:
        summary = regions_load(source_dir=source, force=force)
        if verbosity < 1:
            return
        if summary.skipped:
            self.stdout.write(
                gettext("Regions are up to date (checksum %(checksum)s); use --force to compare anyway.")
                % {"checksum": summary.checksum[:12]}
            )
            return
        self.stdout.write(self.style.SUCCESS(self.load_headline(summary)))
        for level, counts in summary.levels.items():
            self.stdout.write(
                "  "
                + gettext(
                    "%(level)-16s %(created)6d created, %(updated)d updated, %(deactivated)d deactivated, "
                    "%(reactivated)d reactivated, %(unchanged)d unchanged"
                )
                % {"level": level.label, **vars(counts)}
            )

    @staticmethod
    def load_headline(summary: RegionLoadSummary) -> str:
        if summary.written:
            return gettext("Regions loaded in %(seconds).1f s: %(written)d rows written.") % {
                "seconds": summary.seconds,
                "written": summary.written,
            }
        return gettext("Regions compared in %(seconds).1f s: nothing changed.") % {"seconds": summary.seconds}

    def search(
        self, query: str, *, limit: int, level: RegionLevel | None, within: str | None, include_inactive: bool
    ) -> None:
        results = region_search(query, limit=limit, level=level, within=within, include_inactive=include_inactive)
        if not results:
            self.stdout.write(gettext("No region matches %(query)r.") % {"query": query})
            return
        names = region_names(code for region in results for code in ancestor_codes(region.code)[:-1])
        for region in results:
            place = ", ".join(names.get(code, code) for code in reversed(ancestor_codes(region.code)[:-1]))
            inactive = "" if region.is_active else " " + gettext("(inactive)")
            details = " · ".join(part for part in (region.get_kind_display(), place) if part)
            self.stdout.write(f"{region.code:<14} {region.name}{inactive}  [{details}]")

    def show(self, code: str) -> None:
        try:
            region = region_get(code)
        except Region.DoesNotExist:
            raise CommandError(gettext("No region has the code %(code)s.") % {"code": code}) from None
        self.stdout.write(self.style.SUCCESS(f"{region.name} ({region.code})"))
        path = " > ".join(f"{ancestor.name} ({ancestor.code})" for ancestor in region_ancestors(code))
        active_children = region_children(code).count()
        inactive_children = region_children(code, include_inactive=True).count() - active_children
        lines = [
            (gettext("kind"), region.get_kind_display()),
            (gettext("level"), region.get_level_display()),
            (gettext("in"), path or "-"),
            (gettext("time zone"), f"{region.time_zone} ({time_zone_label(code)})"),
            (gettext("active"), gettext("yes") if region.is_active else gettext("no")),
            (
                gettext("children"),
                gettext("%(active)d, and %(inactive)d no longer in use")
                % {"active": active_children, "inactive": inactive_children}
                if inactive_children
                else str(active_children),
            ),
        ]
        width = max(len(label) for label, _value in lines)
        for label, value in lines:
            self.stdout.write(f"  {label:<{width}}  {value}")
