"""Migrate the helpdesk's database and create its public queue (run in the helpdesk's own environment)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk_bench_settings")
django.setup()

from django.contrib.sites.models import Site  # noqa: E402
from django.core.management import call_command  # noqa: E402
from helpdesk.models import Queue  # type: ignore[import-not-found]  # noqa: E402

call_command("migrate", verbosity=0)
Site.objects.update_or_create(pk=1, defaults={"domain": "127.0.0.1", "name": "helpdesk"})
Queue.objects.get_or_create(slug="public", defaults={"title": "Public", "allow_public_submission": True})
