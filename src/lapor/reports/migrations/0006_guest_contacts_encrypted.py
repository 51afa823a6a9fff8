# Guests' e-mail addresses and phone numbers become encrypted at rest (like an account's NIK), with a
# keyed hash of each for lookups. Existing rows are encrypted in batches before the plain columns go.

from typing import Any

from django.db import migrations, models

from lapor.core.crypto import decrypt_text, encrypt_text
from lapor.reports.models import guest_email_key, guest_phone_key

BATCH_SIZE = 1000


def encrypt_guest_contacts(apps: Any, schema_editor: Any) -> None:
    report_model = apps.get_model("reports", "Report")
    rows = report_model.objects.exclude(guest_email="", guest_phone="").only("pk", "guest_email", "guest_phone")
    batch = []
    for report in rows.order_by("pk").iterator(chunk_size=BATCH_SIZE):
        email, phone = report.guest_email.strip(), report.guest_phone.strip()
        report.guest_email_ciphertext = encrypt_text(email) if email else ""
        report.guest_email_index = guest_email_key(email)
        report.guest_phone_ciphertext = encrypt_text(phone) if phone else ""
        report.guest_phone_index = guest_phone_key(phone)
        batch.append(report)
        if len(batch) >= BATCH_SIZE:
            _save(
                report_model,
                batch,
                "guest_email_ciphertext",
                "guest_email_index",
                "guest_phone_ciphertext",
                "guest_phone_index",
            )
            batch = []
    _save(
        report_model,
        batch,
        "guest_email_ciphertext",
        "guest_email_index",
        "guest_phone_ciphertext",
        "guest_phone_index",
    )


def decrypt_guest_contacts(apps: Any, schema_editor: Any) -> None:
    report_model = apps.get_model("reports", "Report")
    rows = report_model.objects.exclude(guest_email_ciphertext="", guest_phone_ciphertext="")
    batch = []
    for report in rows.order_by("pk").iterator(chunk_size=BATCH_SIZE):
        report.guest_email = decrypt_text(report.guest_email_ciphertext) if report.guest_email_ciphertext else ""
        report.guest_phone = decrypt_text(report.guest_phone_ciphertext) if report.guest_phone_ciphertext else ""
        batch.append(report)
        if len(batch) >= BATCH_SIZE:
            _save(report_model, batch, "guest_email", "guest_phone")
            batch = []
    _save(report_model, batch, "guest_email", "guest_phone")


def _save(report_model: Any, batch: list[Any], *fields: str) -> None:
    if batch:
        report_model.objects.bulk_update(batch, fields)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0005_saved_filter_staff_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="guest_email_ciphertext",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="report",
            name="guest_email_index",
            field=models.CharField(blank=True, db_index=True, default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="report",
            name="guest_phone_ciphertext",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="report",
            name="guest_phone_index",
            field=models.CharField(blank=True, db_index=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(encrypt_guest_contacts, decrypt_guest_contacts, elidable=False),
        migrations.RemoveField(model_name="report", name="guest_email"),
        migrations.RemoveField(model_name="report", name="guest_phone"),
    ]
