"""A guest's e-mail address and phone number are encrypted at rest like an account's NIK: the table holds
no plaintext, the key can be rotated, existing rows are encrypted by the migration, and the reports of
a guest are still found by their contact."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from lapor.core import crypto
from lapor.reports.models import Report, guest_email_key, guest_phone_key
from lapor.reports.services import report_claim_candidates
from tests.reports.conftest import World, build_world

EMAIL = "Tamu.Rahasia@Example.id"
PHONE = "0812-7766-5544"
# Every way the phone number could sit in a column.
PHONE_FORMS = ("081277665544", "6281277665544", "81277665544", "0812-7766-5544")
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> Iterator[None]:
    crypto._fernet.cache_clear()
    yield
    crypto._fernet.cache_clear()


def _raw_row(report: Report) -> str:
    """Every column of the report's row as the database stores it, in one lower-case string."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Report._meta.db_table} WHERE id = %s", [report.pk])
        row = cursor.fetchone()
    return " ".join(str(value) for value in row).lower()


def _holds_plaintext(raw: str) -> list[str]:
    digits = re.sub(r"[^0-9]", "", raw)
    found = [form for form in (EMAIL.lower(), "tamu.rahasia", *PHONE_FORMS) if form in raw]
    return found + [form for form in PHONE_FORMS if form.isdigit() and form in digits]


def test_the_table_holds_no_plaintext_of_a_guests_contacts(world: World):
    report = world.submit(reporter=None, guest_name="Tamu", guest_email=EMAIL, guest_phone=PHONE)
    assert _holds_plaintext(_raw_row(report)) == []
    stored = Report.objects.get(pk=report.pk)
    assert (stored.guest_email, stored.guest_phone) == (EMAIL, PHONE)
    # The positive control: the same scan finds the contacts when they are there in clear.
    assert _holds_plaintext(f"{EMAIL} {PHONE}".lower())


def test_a_guest_is_found_by_their_contact_however_it_was_written(world: World):
    report = world.submit(reporter=None, guest_name="Tamu", guest_email=EMAIL, guest_phone="+62 812 7766 5544")
    assert Report.objects.get(guest_email_index=guest_email_key("tamu.rahasia@example.id")) == report
    for written in ("081277665544", "+6281277665544", "62-812-7766-5544"):
        assert Report.objects.get(guest_phone_index=guest_phone_key(written)) == report
    assert guest_email_key("") == guest_phone_key("") == ""


@pytest.mark.django_db
def test_claiming_finds_a_guests_reports_by_the_keyed_hash(world: World):
    from lapor.accounts.services import user_create

    report = world.submit(reporter=None, guest_name="Tamu", guest_phone=PHONE)
    user = user_create(full_name="Tamu", email="tamu.rahasia@example.id", phone="+6281277665544", password=None)
    assert list(report_claim_candidates(user=user)) == []  # contacts not proven: nothing matches
    user.verified_phone = user.phone or ""
    assert list(report_claim_candidates(user=user)) == [report]


def test_rotate_encryption_covers_guest_contacts(world: World):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        report = world.submit(reporter=None, guest_name="Tamu", guest_email=EMAIL, guest_phone=PHONE)
        named = world.submit(reporter=world.reporter)
    before = Report.objects.values_list("guest_email_ciphertext", "guest_phone_ciphertext").get(pk=report.pk)
    out = StringIO()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        call_command("rotate_encryption", "--batch-size", "1", stdout=out)
    assert "2 guest contacts" in out.getvalue() or "2 kontak tamu" in out.getvalue()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        stored = Report.objects.get(pk=report.pk)
        assert (stored.guest_email_ciphertext, stored.guest_phone_ciphertext) != before
        assert (stored.guest_email, stored.guest_phone) == (EMAIL, PHONE)
        assert Report.objects.get(pk=named.pk).guest_email == ""


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows(committed_rows_purged: None):
    executor = MigrationExecutor(connection)
    before, after = [("reports", "0005_saved_filter_staff_search")], [("reports", "0006_guest_contacts_encrypted")]
    report = build_world().submit(reporter=None, guest_name="Tamu", guest_email=EMAIL, guest_phone=PHONE)
    try:
        executor.migrate(before)
        old_state: Any = executor.loader.project_state(before[0]).apps
        old_state.get_model("reports", "Report").objects.filter(pk=report.pk).update(
            guest_email=EMAIL, guest_phone=PHONE
        )
        assert _holds_plaintext(_raw_row(report))
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert _holds_plaintext(_raw_row(report)) == []
    stored = Report.objects.get(pk=report.pk)
    assert (stored.guest_email, stored.guest_phone) == (EMAIL, PHONE)
    assert stored.guest_phone_index == guest_phone_key("+6281277665544")
